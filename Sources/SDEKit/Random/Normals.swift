#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Standard normal numbers addressed by (sample row, step, index), from Philox4x32-10.
///
/// Normal number `i` of (row, step) comes from Philox block `i / 4` at counter
/// (i / 4, step, row low 32 bits, row high 32 bits); the block's four 32-bit words become
/// two Box–Muller pairs. A number therefore depends only on the seed and its address, never on
/// the batch size, chunking or thread count.
public struct NormalSource: Sendable, Hashable {
  public let seed: UInt64
  public let generator: Philox4x32

  @inlinable
  public init(seed: UInt64) {
    self.seed = seed
    self.generator = Philox4x32(seed: seed)
  }

  /// Writes normal numbers `first ..< first + count` of (row, step) to `output`.
  /// - Precondition: `step` and `(first + count) / 4` are below 2³².
  @inlinable
  public func fill(row: Int, step: Int, first: Int = 0, count: Int,
                   into output: UnsafeMutablePointer<Double>) {
    guard count > 0 else { return }
    let rowLow = UInt32(truncatingIfNeeded: row)
    let rowHigh = UInt32(truncatingIfNeeded: row >> 32)
    let stepWord = UInt32(truncatingIfNeeded: step)
    var index = first
    let end = first + count
    while index < end {
      let blockIndex = index >> 2
      let words = generator.block(SIMD4(UInt32(truncatingIfNeeded: blockIndex), stepWord, rowLow, rowHigh))
      // Indices 4b, 4b+1 come from the pair (words.x, words.y); 4b+2, 4b+3 from (words.z, words.w).
      let blockStart = blockIndex << 2
      if index < blockStart + 2 {
        let pair = NormalSource.boxMuller(words.x, words.y)
        if index == blockStart { output[index - first] = pair.0; index += 1 }
        if index < end { output[index - first] = pair.1; index += 1 }
      }
      if index < end {
        let pair = NormalSource.boxMuller(words.z, words.w)
        if index == blockStart + 2 { output[index - first] = pair.0; index += 1 }
        if index < end { output[index - first] = pair.1; index += 1 }
      }
    }
  }

  /// Normal number `index` of (row, step).
  @inlinable
  public func normal(row: Int, step: Int, index: Int) -> Double {
    var value = 0.0
    fill(row: row, step: step, first: index, count: 1, into: &value)
    return value
  }

  /// Box–Muller: u₁ ∈ (0, 1] for the radius (never log 0), u₂ ∈ [0, 1) for the angle.
  /// The largest magnitude reachable is √(2·32·ln 2) ≈ 6.66.
  @inlinable
  static func boxMuller(_ a: UInt32, _ b: UInt32) -> (Double, Double) {
    let scale = 1.0 / 4_294_967_296.0
    let u1 = (Double(a) + 1) * scale
    let u2 = Double(b) * scale
    let radius = (-2 * log(u1)).squareRoot()
    let angle = 2 * Double.pi * u2
    return (radius * cos(angle), radius * sin(angle))
  }
}
