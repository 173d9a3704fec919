import ArgumentParser
import Foundation
import SampleFiles

/// Checks made before the first sample is drawn, so a run that cannot finish is refused at once
/// rather than after hours: the file's size must be addressable and must fit in the free space
/// of the file system that will hold it.
enum Preflight {
  /// The bytes a samples file of `count` rows of `dimension` values will take: exact for .npy;
  /// for .csv an estimate of `csvBytesPerValue` per value.
  /// - Throws: `ValidationError` when count × dimension × the bytes per value overflows a 64-bit size.
  static func outputSize(count: Int, dimension: Int, format: SampleFileFormat) throws -> (bytes: Int, exact: Bool) {
    let bytesPerValue = format == .npy ? 8 : csvBytesPerValue
    let (values, overflow1) = count.multipliedReportingOverflow(by: dimension)
    let (bytes, overflow2) = values.multipliedReportingOverflow(by: bytesPerValue)
    let header = format == .npy ? NPYFile.header(count: count, dimension: dimension).count : 4 * dimension
    guard !overflow1, !overflow2, bytes <= Int.max - header else {
      throw ValidationError("--count \(count) × d = \(dimension) values × \(bytesPerValue) bytes\(format == .npy ? "" : " (about, in .csv)") overflows a 64-bit file size (at most \(Int.max) bytes)")
    }
    return (header + bytes, format == .npy)
  }

  /// What Swift prints for a sample value, plus its separator: 17 significant digits, a point,
  /// a sign half the time and an exponent for small values (measured: 19.2 bytes a value for
  /// gmm2d8 samples, 19.4 for gmm64d16).
  static let csvBytesPerValue = 19

  /// Throws naming both numbers when `bytes` exceed the space free for unprivileged writers on
  /// the file system of `path`'s folder (statvfs f_bavail × f_frsize). An existing file under
  /// the name does not count as free: it is replaced only once the new one is complete.
  /// `kept` bytes of the file are on the disk already (a --resume run's partial file): only the
  /// rest must fit.
  static func checkFreeSpace(for path: String, bytes: Int, exact: Bool, kept: (bytes: Int, file: String)? = nil) throws {
    let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
    var info = statvfs()
    // Unknown, or a file system without a size (/proc and the like): the writes will tell.
    guard statvfs(folder, &info) == 0, info.f_blocks > 0 else { return }
    let (free, overflow) = Int(clamping: info.f_bavail).multipliedReportingOverflow(by: Int(clamping: info.f_frsize))
    let needed = bytes - min(bytes, kept?.bytes ?? 0)
    guard !overflow, needed > free else { return }
    let what = kept.map { "\(byteCount(needed)) more (\(byteCount(bytes)) in all, \($0.bytes) bytes of it in \($0.file))" }
      ?? byteCount(bytes)
    throw CLIError("-o \(path) needs \(exact ? "" : "about ")\(what) but its file system has \(byteCount(free)) free; free some space or write elsewhere")
  }

  /// Both checks for a run writing `count` rows of `dimension` values to `path`. `resuming`:
  /// a --resume run continues the partial file beside `path`, whose bytes need no new space
  /// (what it holds past its sidecar's record is cut and written again in the same place).
  static func check(output path: String?, format: SampleFileFormat, count: Int, dimension: Int, resuming: Bool = false) throws {
    let size = try outputSize(count: count, dimension: dimension, format: format)
    guard let path else { return }
    var kept: (bytes: Int, file: String)?
    if resuming {
      let state = try ResumeState(output: path)
      if let length = state.partialLength { kept = (length, state.partial.path) }
    }
    try checkFreeSpace(for: path, bytes: size.bytes, exact: size.exact, kept: kept)
  }

  /// "3200128 bytes (3.2 MB)": exact, and in decimal units when that is shorter to read.
  static func byteCount(_ bytes: Int) -> String {
    let units = ["bytes", "kB", "MB", "GB", "TB", "PB", "EB"]
    var value = Double(bytes), unit = 0
    while value >= 1000 && unit < units.count - 1 {
      value /= 1000
      unit += 1
    }
    return unit == 0 ? "\(bytes) bytes" : "\(bytes) bytes (" + String(format: "%.1f %@", value, units[unit]) + ")"
  }
}
