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
