import Foundation
import SDEKit

/// NumPy .npy files, format 1.0: '<f8', C order, shape (N, d).
enum NPYFile {
  /// The bytes of a .npy file holding `batch`.
  static func encode(_ batch: StateBatch) -> Data {
    var header = "{'descr': '<f8', 'fortran_order': False, 'shape': (\(batch.count), \(batch.dimension)), }"
    // Magic (6) + version (2) + length (2) + header + newline must be a multiple of 64.
    let unpadded = 10 + header.utf8.count + 1
    header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
    var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
    let length = UInt16(header.utf8.count)
    data.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
    data.append(contentsOf: Array(header.utf8))
    for value in batch.values {
      withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) }
    }
    return data
  }
}

/// Writes `data` to `path` through a temporary file beside it and a rename, so that no partial
/// file ever stands under the final name and an existing file is replaced only by a complete one.
func writeAtomically(_ data: Data, to path: String) throws {
  let url = URL(fileURLWithPath: path)
  let directory = url.deletingLastPathComponent()
  let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).partial-\(ProcessInfo.processInfo.processIdentifier)")
  do {
    try data.write(to: temporary)
  } catch {
    try? FileManager.default.removeItem(at: temporary)
    throw CLIError("cannot write \(path): \(error.localizedDescription)")
  }
  // rename(2) replaces the target atomically. (Foundation's replaceItemAt on Linux removed the
  // old file before failing, which is the data loss this function exists to avoid.)
  guard rename(temporary.path, url.path) == 0 else {
    let reason = String(cString: strerror(errno))
    try? FileManager.default.removeItem(at: temporary)
    throw CLIError("cannot write \(path): \(reason)")
  }
}

/// A command-line failure with a message for the user.
struct CLIError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}
