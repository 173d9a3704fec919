import CSIMDMath

/// Standard normal numbers addressed by (sample row, step, index), from Philox4x32-10.
///
/// Rows come in quads: normal number `i` of (row, step) comes from the Philox block at counter
/// (i, step, q low 32 bits, q high 32 bits) with q = row / 4. The block's words (w₀, w₁) give
/// rows 4q and 4q + 1, (w₂, w₃) rows 4q + 2 and 4q + 3, by Box–Muller (cos first, then sin)
/// with `BoxMullerMath`. Every word and both Box–Muller outputs are used however narrow the rows
/// are (a one-wide path costs a quarter of a block per number). A number depends only on the
/// seed and its address — never on the batch size, chunking, thread count or machine.
public struct NormalSource: Sendable, Hashable {
  public let seed: UInt64
  public let generator: Philox4x32

  @inlinable
  public init(seed: UInt64) {
    self.seed = seed
    self.generator = Philox4x32(seed: seed)
  }

  /// One group of up to 32 consecutive rows (eight quads) as `generate` hands it over.
  ///
  /// The numbers are stored as whole vectors and read from memory: taking lanes out of
  /// registers one by one let the optimiser split the Box–Muller arithmetic itself into
  /// scalar code (a third of the generator's time).
  public struct Group {
    /// The first row of the group (a multiple of four); the numbers of rows before
    /// `firstRow + 32` that were not asked for are padding.
    public let firstRow: Int
    @usableFromInline let columns: UnsafePointer<Double>

    @inlinable
    init(firstRow: Int, columns: UnsafePointer<Double>) {
      self.firstRow = firstRow
      self.columns = columns
    }

    /// Normal number `index` of `row`, which must lie in the group.
    ///
    /// Number i of quad ℓ's member j is at 32 i + 8 j + ℓ (the Box–Muller output vectors in
    /// turn). Wrapping arithmetic: the offsets are below 32 · count, and overflow checks here
    /// cost a tenth of the generator's time.
    @inlinable @inline(__always)
    public subscript(row: Int, index: Int) -> Double {
      let offset = row &- firstRow
      return columns[index &* 32 &+ (offset & 3) &* 8 &+ offset &>> 2]
    }
  }

  /// Generates normal numbers 0 ..< `count` of (row, step) for every row in `rows`, 32 rows
  /// (eight quads, one per vector lane) at a time, and hands each group to
  /// `store(rowsInGroup, group)` with the requested rows that lie in it.
  ///
  /// - Complexity: one Philox block per four numbers and one Box–Muller per two; both run on
  ///   eight quads at once.
  @inlinable @inline(__always)
  public func generate(rows: Range<Int>, step: Int, count: Int,
                       _ store: (_ rowsInGroup: Range<Int>, _ group: Group) -> Void) {
    guard !rows.isEmpty, count > 0 else { return }
    let stepWord = UInt32(truncatingIfNeeded: step)
    let quadEnd = (rows.upperBound + 3) >> 2
    withUnsafeTemporaryAllocation(of: SIMD8<Double>.self, capacity: 4 * count) { columns in
      let values = UnsafeRawPointer(columns.baseAddress!).assumingMemoryBound(to: Double.self)
      var quad = rows.lowerBound >> 2
      while quad < quadEnd {
        // Lanes past the last quad repeat it; their numbers are never read.
        let first = UInt64(truncatingIfNeeded: quad), last = UInt64(min(8, quadEnd - quad) - 1)
        let quads = SIMD8<UInt64>(first, first + min(1, last), first + min(2, last), first + min(3, last),
                                  first + min(4, last), first + min(5, last), first + min(6, last), first + last)
        let quadLow = quads & 0xFFFF_FFFF, quadHigh = quads &>> 32
        for index in 0..<count {
          let words = generator.blocks(UInt32(truncatingIfNeeded: index), stepWord, quadLow, quadHigh)
          let (c0, s0) = NormalSource.boxMuller(words.0, words.1)
          let (c1, s1) = NormalSource.boxMuller(words.2, words.3)
          columns[4 * index] = c0
          columns[4 * index + 1] = s0
          columns[4 * index + 2] = c1
          columns[4 * index + 3] = s1
        }
        let firstRow = 4 * quad
        store(max(rows.lowerBound, firstRow)..<min(rows.upperBound, firstRow + 32),
              Group(firstRow: firstRow, columns: values))
        quad += 8
      }
    }
  }

  /// Writes `scale` times normal numbers 0 ..< `count` of (row, step) for every row in `rows`
  /// to `output`, row-major (`count` values per row): the numbers `generate` gives, in the
  /// layout every solver uses.
  @inlinable
  public func fill(rows: Range<Int>, step: Int, count: Int, scale: Double,
                   into output: UnsafeMutablePointer<Double>) {
    generate(rows: rows, step: step, count: count) { rowsInGroup, group in
      for row in rowsInGroup {
        let out = output + (row &- rows.lowerBound) &* count
        for index in 0..<count { out[index] = scale * group[row, index] }
      }
    }
  }

  /// Writes normal numbers `first ..< first + count` of (row, step) to `output`.
  @inlinable
  public func fill(row: Int, step: Int, first: Int = 0, count: Int,
                   into output: UnsafeMutablePointer<Double>) {
    generate(rows: row..<(row + 1), step: step, count: first + count) { _, group in
      for index in first..<(first + count) { output[index - first] = group[row, index] }
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
