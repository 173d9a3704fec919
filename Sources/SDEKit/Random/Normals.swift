import CSIMDMath

/// Standard normal numbers addressed by (sample row, step, index), from Philox4x32-10.
///
/// Normal number `i` of (row, step) comes from Philox block `i / 4` at counter
/// (i / 4, step, row low 32 bits, row high 32 bits): the block's words (w₀, w₁) give numbers
/// 4b and 4b + 1, (w₂, w₃) give 4b + 2 and 4b + 3, by Box–Muller (cos first, then sin) with
/// `BoxMullerMath`. A number therefore depends only on the seed and its address — never on
/// the batch size, chunking, thread count or machine.
public struct NormalSource: Sendable, Hashable {
  public let seed: UInt64
  public let generator: Philox4x32

  @inlinable
  public init(seed: UInt64) {
    self.seed = seed
    self.generator = Philox4x32(seed: seed)
  }

  /// Generates normal numbers 0 ..< `count` of (row, step) for every row in `rows`, eight
  /// rows at a time, and hands each group to `store(firstRowOffset, lanes, columns)`: number
  /// `i` of row `rows.lowerBound + firstRowOffset + ℓ` is `columns[8 i + ℓ]` for ℓ < `lanes`
  /// (lanes past `lanes` are padding).
  ///
  /// A group's numbers are stored as whole vectors and handed over in memory: taking the lanes
  /// out of registers one by one let the optimiser split the Box–Muller arithmetic itself into
  /// scalar code (a third of the generator's time).
  ///
  /// - Complexity: one Philox block per four numbers per row; Philox and Box–Muller both run
  ///   on eight rows at once.
  @inlinable @inline(__always)
  public func generate(rows: Range<Int>, step: Int, count: Int,
                       _ store: (_ firstRowOffset: Int, _ lanes: Int, _ columns: UnsafePointer<Double>) -> Void) {
    let stepWord = UInt32(truncatingIfNeeded: step)
    let blockCount = (count + 3) / 4
    withUnsafeTemporaryAllocation(of: SIMD8<Double>.self, capacity: 4 * blockCount) { columns in
      let columnValues = UnsafePointer(UnsafeMutableRawPointer(columns.baseAddress!).assumingMemoryBound(to: Double.self))
      var offset = 0
      while offset < rows.count {
        let lanes = min(8, rows.count - offset)
        // Padding lanes repeat the last row; their values are never read.
        let first = UInt64(truncatingIfNeeded: rows.lowerBound + offset), last = lanes - 1
        let bits = SIMD8<UInt64>(first, first + UInt64(min(1, last)), first + UInt64(min(2, last)),
                                 first + UInt64(min(3, last)), first + UInt64(min(4, last)),
                                 first + UInt64(min(5, last)), first + UInt64(min(6, last)),
                                 first + UInt64(last))
        let rowLow = bits & 0xFFFF_FFFF, rowHigh = bits &>> 32
        for block in 0..<blockCount {
          let words = generator.blocks(UInt32(truncatingIfNeeded: block), stepWord, rowLow, rowHigh)
          let (c0, s0) = NormalSource.boxMuller(words.0, words.1)
          columns[4 * block] = c0
          if 4 * block + 1 < count { columns[4 * block + 1] = s0 }
          // The second pair only when some of it is asked for (W1's rows are two wide).
          if 4 * block + 2 < count {
            let (c1, s1) = NormalSource.boxMuller(words.2, words.3)
            columns[4 * block + 2] = c1
            columns[4 * block + 3] = s1
          }
        }
        store(offset, lanes, columnValues)
        offset += 8
      }
    }
  }

  /// Writes `scale` times normal numbers 0 ..< `count` of (row, step) for every row in `rows`
  /// to `output`, row-major (`count` values per row): the numbers `generate` gives, in the
  /// layout every solver uses.
  @inlinable
  public func fill(rows: Range<Int>, step: Int, count: Int, scale: Double,
                   into output: UnsafeMutablePointer<Double>) {
    generate(rows: rows, step: step, count: count) { offset, lanes, columns in
      // Wrapping index arithmetic: the offsets are below 8 · count, and overflow checks in
      // this copy cost a tenth of the generator's time at count 64.
      let out = output + offset &* count
      for lane in 0..<lanes {
        for index in 0..<count { out[lane &* count &+ index] = scale * columns[index &* 8 &+ lane] }
      }
    }
  }

  /// Writes normal numbers `first ..< first + count` of (row, step) to `output`.
  @inlinable
  public func fill(row: Int, step: Int, first: Int = 0, count: Int,
                   into output: UnsafeMutablePointer<Double>) {
    generate(rows: row..<(row + 1), step: step, count: first + count) { _, _, columns in
      for index in first..<(first + count) { output[index - first] = columns[8 * index] }
    }
  }

  /// Normal number `index` of (row, step).
  @inlinable
  public func normal(row: Int, step: Int, index: Int) -> Double {
    var value = 0.0
    fill(row: row, step: step, first: index, count: 1, into: &value)
    return value
  }

  /// Box–Muller on eight lanes of 32-bit words: u₁ = (a + 1)/2³² ∈ (0, 1] for the radius
  /// √(−2 ln u₁) (never ln 0; the largest magnitude reachable is √(2·32·ln 2) ≈ 6.66),
  /// u₂ = b/2³² ∈ [0, 1) for the angle in turns. Returns (r cos 2πu₂, r sin 2πu₂).
  @inlinable @inline(__always)
  static func boxMuller(_ a: SIMD8<UInt64>, _ b: SIMD8<UInt64>) -> (SIMD8<Double>, SIMD8<Double>) {
    let logU = BoxMullerMath.log((exactDouble(a) + 1) * 0x1p-32)
    let squared = -2 * logU
    let radius = sdekit_sqrt8(squared)
    let (sine, cosine) = BoxMullerMath.sinCos(turns: exactDouble(b) * 0x1p-32)
    return (radius * cosine, radius * sine)
  }

  /// Lanes below 2⁵² as doubles, exactly, by the 2⁵² trick (no scalar conversions).
  @inlinable @inline(__always)
  static func exactDouble(_ x: SIMD8<UInt64>) -> SIMD8<Double> {
    unsafeBitCast(x | 0x4330_0000_0000_0000, to: SIMD8<Double>.self) - 4_503_599_627_370_496
  }
}
