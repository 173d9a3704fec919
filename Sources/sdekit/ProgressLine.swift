import Foundation

/// A one-line progress display on stderr, redrawn in place at most five times a second: how much
/// is done, the rate, and the estimated time left. Silent unless stderr is a terminal (so logs and
/// pipes get no control characters) and not `--quiet`. Safe to call from any thread.
final class ProgressLine: @unchecked Sendable {
  private let lock = NSLock()
  private let start = Date()
  private var lastDraw = Date.distantPast
  private var drawn = false

  /// A line for this run, or nil when nothing should be shown.
  static func make(quiet: Bool) -> ProgressLine? {
    quiet || isatty(STDERR_FILENO) == 0 ? nil : ProgressLine()
  }

  /// Shows `fraction` ∈ [0, 1] of the work done, with `detail` (what is done, in the work's units).
  func update(fraction: Double, detail: String, rate: (Double) -> String? = { _ in nil }) {
    lock.lock()
    defer { lock.unlock() }
    let now = Date()
    guard now.timeIntervalSince(lastDraw) >= 0.2 else { return }
    lastDraw = now
    let elapsed = now.timeIntervalSince(start)
    var parts = [String(format: "%5.1f%%", 100 * fraction), detail]
    if let rate = rate(elapsed) { parts.append(rate) }
    if fraction > 0.01 {
      parts.append(ProgressLine.duration(elapsed * (1 - fraction) / fraction) + " left")
    }
    // \r returns to the line start; ESC[K clears what a longer earlier line left behind.
    FileHandle.standardError.write(Data(("\r" + parts.joined(separator: " · ") + "\u{1B}[K").utf8))
    drawn = true
  }

  /// Clears the line, so the results print on a clean one.
  func finish() {
    lock.lock()
    defer { lock.unlock() }
    if drawn { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    drawn = false
  }

  static func duration(_ seconds: Double) -> String {
    seconds < 60 ? String(format: "%.0f s", seconds.rounded(.up))
      : String(format: "%d min %02d s", Int(seconds) / 60, Int(seconds) % 60)
  }
}
