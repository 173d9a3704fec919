import ArgumentParser
import Foundation
import SDEKit

/// The points of an --initial file: a float64 (N, d) .npy file (read by `NPYFile.decode`) with
/// every value finite. Each failure is one line naming the file and what is wrong with it.
func readInitialPoints(_ path: String) throws -> StateBatch {
  guard let data = FileManager.default.contents(atPath: path) else {
    throw ValidationError("--initial \(path): cannot read the file")
  }
  guard let points = NPYFile.decode(data) else {
    let header = npyHeaderText(data).map { " (header \($0))" } ?? ""
    throw ValidationError("--initial \(path): not a float64 .npy file of shape (N, d)\(header); give dtype '<f8', C order, two dimensions")
  }
  guard points.count >= 1, points.dimension >= 1 else {
    throw ValidationError("--initial \(path) has shape (\(points.count), \(points.dimension)); it needs at least one row and column")
  }
  if let bad = points.values.firstIndex(where: { !$0.isFinite }) {
    throw ValidationError("--initial \(path): row \(bad / points.dimension) holds \(points.values[bad]); starting points must be finite")
  }
  return points
}

/// The header dictionary of a .npy file as text, for an error message: what the file says its
/// dtype, order and shape are. nil when there is no .npy header.
private func npyHeaderText(_ data: Data) -> String? {
  guard data.count >= 10, data.prefix(6) == Data([0x93] + Array("NUMPY".utf8)) else { return nil }
  let length = Int(data[data.startIndex + 8]) | Int(data[data.startIndex + 9]) << 8
  let text = String(decoding: data.dropFirst(10).prefix(min(length, 200)), as: UTF8.self)
  return text.trimmingCharacters(in: .whitespacesAndNewlines)
}
