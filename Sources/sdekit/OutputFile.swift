import Foundation

/// A file written to a hidden temporary beside its final name and renamed there only when
/// complete: after an error or Ctrl-C no partial file stands under the final name, and an
/// existing file is replaced only by a whole new one. Large outputs are appended chunk by chunk.
final class OutputFile {
  let path: String
  private let temporary: URL
  private var handle: FileHandle?

  init(path: String) throws {
    self.path = path
    temporary = temporaryURL(for: path)
    guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
      throw CLIError("cannot write \(path): \(String(cString: strerror(errno)))")
    }
    do {
      handle = try FileHandle(forWritingTo: temporary)
    } catch {
      discard()
      throw CLIError("cannot write \(path): \(error.localizedDescription)")
    }
  }

  deinit { discard() }

  func write(_ data: Data) throws {
    guard let handle else { preconditionFailure("write after commit or discard") }
    do {
      try handle.write(contentsOf: data)
    } catch {
      discard()
      throw CLIError("cannot write \(path): \(error.localizedDescription)")
    }
  }

  /// Closes the file and renames it to its final name.
  func commit() throws {
    guard let handle else { preconditionFailure("commit after commit or discard") }
    do {
      try handle.close()
    } catch {
      discard()
      throw CLIError("cannot write \(path): \(error.localizedDescription)")
    }
    self.handle = nil
    // rename(2) replaces the target atomically. (Foundation's replaceItemAt on Linux removed the
    // old file before failing, which is the data loss this type exists to avoid.)
    guard rename(temporary.path, path) == 0 else {
      let reason = String(cString: strerror(errno))
      try? FileManager.default.removeItem(at: temporary)
      throw CLIError("cannot write \(path): \(reason)")
    }
  }

  /// Removes the temporary file; the final name is left as it was.
  func discard() {
    try? handle?.close()
    handle = nil
    try? FileManager.default.removeItem(at: temporary)
  }
}

/// Writes `data` to `path` through an `OutputFile`.
func writeAtomically(_ data: Data, to path: String) throws {
  let file = try OutputFile(path: path)
  try file.write(data)
  try file.commit()
}

/// The hidden temporary file beside `path` that `OutputFile` renames into place.
func temporaryURL(for path: String) -> URL {
  let url = URL(fileURLWithPath: path)
  return url.deletingLastPathComponent()
    .appendingPathComponent(".\(url.lastPathComponent).partial-\(ProcessInfo.processInfo.processIdentifier)")
}

/// A command-line failure with a message for the user.
struct CLIError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}
