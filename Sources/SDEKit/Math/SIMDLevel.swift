import CSIMDMath
import Foundation

/// The instruction-set level SDEKit's vector kernels (CSIMDMath) run at.
///
/// Each kernel is compiled for every level, and one level is chosen once per process from what
/// the CPU reports: so a plain `swift build -c release`, and every package that depends on
/// SDEKit, runs the same code as a `-target-cpu native` build. Every level gives the same bits.
/// The environment variable `SDEKIT_ISA` (`baseline`, `avx2` or `avx512`) forces a level; a value
/// that names no level, or a level the CPU cannot run, ends the process with a message on stderr
/// and exit status 2 (a forced level is a request to test or measure that level, and running
/// another would mislabel the result).
public enum SIMDLevel: Int, CaseIterable, Sendable, CustomStringConvertible {
  /// What every CPU of the architecture has: SSE2 on x86-64 (fused multiply–adds through libm,
  /// the same bits, slower), NEON on arm64.
  case baseline = 0
  /// x86-64 with AVX2 and FMA.
  case avx2 = 1
  /// x86-64 with AVX-512 F, DQ and VL.
  case avx512 = 2

  /// The level in use in this process.
  public static var current: SIMDLevel { SIMDLevel(rawValue: Int(sdekit_level_current()))! }

  /// The levels this CPU can run, lowest first.
  public static var supported: [SIMDLevel] { allCases.filter(\.isSupported) }

  /// Whether this CPU, and the system, can run the level.
  public var isSupported: Bool { sdekit_level_supported(Int32(rawValue)) != 0 }

  /// The level's name as `SDEKIT_ISA` spells it.
  public var description: String { String(cString: sdekit_level_name(Int32(rawValue))) }

  /// Runs `body` with every kernel at `level`, then returns to the level before. For tests and
  /// benchmarks that compare levels in one process: the switch is process-wide, so code on other
  /// threads meanwhile runs at `level` too (with the same bits). Calls are serialised, so two
  /// comparisons never switch under each other.
  ///
  /// - Precondition: `level.isSupported`.
  public static func with<R>(_ level: SIMDLevel, _ body: () throws -> R) rethrows -> R {
    switching.lock()
    defer { switching.unlock() }
    let previous = current
    precondition(sdekit_level_select(Int32(level.rawValue)) != 0, "this CPU cannot run SIMD level \(level)")
    defer { _ = sdekit_level_select(Int32(previous.rawValue)) }
    return try body()
  }

  private static let switching = NSLock()
}
