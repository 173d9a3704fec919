import ArgumentParser
import Foundation

/// Levels k (dt = 2⁻ᵏ) written as a range `3...10` or a list `3,5,7`.
enum LevelSyntax {
  static func parse(_ text: String) throws -> [Int] {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    guard !trimmed.isEmpty else { throw ValidationError("--levels is empty; give a range such as 3...10") }
    if let range = trimmed.range(of: "...") {
      guard let low = Int(trimmed[..<range.lowerBound]), let high = Int(trimmed[range.upperBound...]) else {
        throw ValidationError("--levels '\(text)' is not a range of integers such as 3...10")
      }
      guard low <= high else {
        throw ValidationError("--levels \(low)...\(high) is reversed; write the coarse level first: \(high)...\(low)")
      }
      return Array(low...high)
    }
    let parts = trimmed.split(separator: ",", omittingEmptySubsequences: false)
    let values = parts.compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
    guard values.count == parts.count else {
      throw ValidationError("--levels '\(text)' must be a range such as 3...10 or a list such as 3,5,7")
    }
    return values
  }
}

/// Tolerances written as decades `1e-3...1e-10` or a list `1e-4,1e-6`.
enum ToleranceSyntax {
  static func parse(_ text: String) throws -> [Double] {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    guard !trimmed.isEmpty else { throw ValidationError("--tolerances is empty; give decades such as 1e-3...1e-8") }
    var values: [Double]
    if let range = trimmed.range(of: "...") {
      guard let first = Double(trimmed[..<range.lowerBound]), let last = Double(trimmed[range.upperBound...]),
            first > 0, last > 0 else {
        throw ValidationError("--tolerances '\(text)' is not a range of positive numbers such as 1e-3...1e-8")
      }
      guard first >= last else {
        throw ValidationError("--tolerances \(text) is reversed; write the loosest first: \(trimmed[range.upperBound...])...\(trimmed[..<range.lowerBound])")
      }
      let decades = Int((log10(first / last)).rounded(.down))
      values = (0...decades).map { first / pow(10, Double($0)) }
    } else {
      let parts = trimmed.split(separator: ",", omittingEmptySubsequences: false)
      values = parts.compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
      guard values.count == parts.count else {
        throw ValidationError("--tolerances '\(text)' must be decades such as 1e-3...1e-8 or a list such as 1e-4,1e-6")
      }
    }
    guard let bad = values.first(where: { !($0 > 0 && $0 < 1) }) else { return values }
    throw ValidationError("--tolerances must lie strictly between 0 and 1, got \(bad)")
  }
}
