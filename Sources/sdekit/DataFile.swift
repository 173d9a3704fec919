import ArgumentParser
import Foundation
import SampleFiles
import SDEKit

/// The points of an --initial file: a .npy file `NPYFile.decode` reads (float64 or float32, shape
/// (N, d) or (N,)) with every value finite. Each failure is one line naming the file and what is
/// wrong with it.
func readInitialPoints(_ path: String) throws -> StateBatch {
  guard let data = FileManager.default.contents(atPath: path) else {
    throw ValidationError("--initial \(path): cannot read the file")
  }
  let points: StateBatch
  do {
    points = try NPYFile.decode(data)
  } catch let error as SampleFileError {
    throw ValidationError("--initial \(path): \(error.description)")
  }
  guard points.count >= 1 else {
    throw ValidationError("--initial \(path) has no rows; it needs at least one starting point")
  }
  if let bad = points.values.firstIndex(where: { !$0.isFinite }) {
    throw ValidationError("--initial \(path): row \(bad / points.dimension) holds \(points.values[bad]); starting points must be finite")
  }
  return points
}
