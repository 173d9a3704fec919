import Foundation

/// A file written to a hidden temporary beside its final name and renamed there only when
/// complete: after an error or Ctrl-C no partial file stands under the final name, and an
/// existing file is replaced only by a whole new one. Large outputs are appended chunk by chunk.
/// Writes go straight to the file descriptor, so a failure (ENOSPC, EIO, a file-size limit)
/// is reported with its errno at the write that met it.
final class OutputFile {
  let path: String
  let temporary: URL
  private var descriptor: Int32?
  /// Bytes in the file so far.
  private(set) var length = 0
  /// Whether `discard` (and so a failed write) leaves the temporary file for a later --resume.
  let keepsTemporary: Bool

  /// Creates (or empties) the temporary file.
  init(path: String, temporary: URL? = nil, keepsTemporary: Bool = false) throws {
    self.path = path
    self.temporary = temporary ?? temporaryURL(for: path)
    self.keepsTemporary = keepsTemporary
    let fd = open(self.temporary.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o666)
    guard fd >= 0 else { throw CLIError("cannot write \(path): \(String(cString: strerror(errno)))") }
    descriptor = fd
  }

  /// Reopens an existing temporary file and cuts it to `length` bytes, to append after them.
  init(resuming path: String, temporary: URL, length: Int) throws {
    self.path = path
    self.temporary = temporary
    keepsTemporary = true
    let fd = open(temporary.path, O_WRONLY | O_CLOEXEC)
    guard fd >= 0 else { throw CLIError("cannot resume \(path): \(temporary.path): \(String(cString: strerror(errno)))") }
    guard ftruncate(fd, off_t(length)) == 0, lseek(fd, off_t(length), SEEK_SET) == off_t(length) else {
      let reason = String(cString: strerror(errno))
      close(fd)
      throw CLIError("cannot resume \(path): \(temporary.path): \(reason)")
    }
    descriptor = fd
    self.length = length
  }

  deinit { discard() }

  /// Appends `data`; on failure removes the temporary file (unless it is kept for --resume)
  /// and throws naming the reason and how far the file got.
  func write(_ data: Data) throws {
    guard let fd = descriptor else { preconditionFailure("write after commit or discard") }
    var failure: Int32?
    data.withUnsafeBytes { raw in
      var offset = 0
      while offset < raw.count {
        let written = Foundation.write(fd, raw.baseAddress! + offset, raw.count - offset)
        if written < 0 {
          if errno == EINTR { continue }
          failure = errno
          return
        }
        offset += written
      }
    }
    if let failure { throw fail(failure, doing: "writing byte \(length) onwards") }
    length += data.count
  }

  /// Flushes the data written so far to the device (fsync), so a later sidecar may promise it.
  func sync() throws {
    guard let fd = descriptor else { preconditionFailure("sync after commit or discard") }
    if fsync(fd) != 0 { throw fail(errno, doing: "flushing to the device") }
  }

  /// Closes the file and renames it to its final name.
  func commit() throws {
    guard let fd = descriptor else { preconditionFailure("commit after commit or discard") }
    // fsync(2) and close(2) report a failed delayed write (NFS, some disks) that write(2) did not.
    if fsync(fd) != 0, errno != EINVAL {
      let code = errno
      close(fd)
      descriptor = nil
      throw fail(code, doing: "flushing to the device")
    }
    descriptor = nil
    if close(fd) != 0 { throw fail(errno, doing: "closing") }
    // rename(2) replaces the target atomically. (Foundation's replaceItemAt on Linux removed the
    // old file before failing, which is the data loss this type exists to avoid.)
    guard rename(temporary.path, path) == 0 else { throw fail(errno, doing: "renaming \(temporary.path) to it") }
  }

  /// Removes the temporary file (or keeps it for --resume); the final name is left as it was.
  func discard() {
    if let fd = descriptor { close(fd) }
    descriptor = nil
    if !keepsTemporary { try? FileManager.default.removeItem(at: temporary) }
  }

  /// Discards the file and returns the error to throw.
  private func fail(_ code: Int32, doing what: String) -> CLIError {
    discard()
    let kept = keepsTemporary ? "; the samples so far stay in \(temporary.path) for --resume"
                              : "; nothing was written under that name"
    return CLIError("cannot write \(path): \(String(cString: strerror(code))) (errno \(code), \(what))\(kept)")
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
