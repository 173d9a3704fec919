import ArgumentParser
import Foundation
import SampleFiles
import SDEKit

/// The samples in a .npy or .csv file named on the command line (--initial, --reference, the
/// --data of likelihood and train): `readSamples` reads it by its extension (.npy as float64 or
/// float32, shape (N, d) or (N,)), and every value must be finite. Each failure is a usage error
/// (exit 64): one line naming the option, the file and what is wrong, rows and coordinates
/// counted from 0 as NumPy indexes the array.
/// - Parameters:
///   - minimumRows: the fewest rows the caller can use; `reason` says why, in the message.
///   - otherwise: what else the option takes, for the message when the file cannot be read.
func readDataFile(_ path: String, option: String, minimumRows: Int = 1, reason: String? = nil,
                  otherwise: String? = nil) throws -> StateBatch {
  let bytes: Data
  do {
    bytes = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
  } catch {
    throw ValidationError("\(option) \(path): cannot read the file; give a .npy or .csv file\(otherwise.map { " or \($0)" } ?? "")")
  }
  let batch: StateBatch
  do {
    batch = try readSamples(bytes, path: path)
  } catch let error as SampleFileError {
    throw ValidationError("\(option) \(path): \(error.description)")
  }
  guard batch.count >= minimumRows else {
    throw ValidationError("\(option) \(path) has \(batch.count) row\(batch.count == 1 ? "" : "s"); it needs at least \(minimumRows)\(reason.map { " (\($0))" } ?? "")")
  }
  if let bad = batch.values.firstIndex(where: { !$0.isFinite }) {
    throw ValidationError("\(option) \(path): row \(bad / batch.dimension), coordinate \(bad % batch.dimension) is \(batch.values[bad]) (counting from 0); every value must be finite")
  }
  return batch
}
