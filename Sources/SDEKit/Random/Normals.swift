import CSIMDMath

/// Standard normal numbers addressed by (stream, sample row, index), from Philox4x32-10 and the
/// ziggurat.
///
/// Rows come in quads: normal number `i` of (stream, row) comes from the Philox block keyed by
/// the seed and the stream's key tweak at counter (i, the stream's step word, q low 32 bits,
/// q high 32 bits) with q = row / 4 (`NoiseStream` maps names to key tweaks and step words). Word w_j of the block is the
/// ziggurat candidate of row 4q + j (`Ziggurat`); the 0.43 % of candidates that are not accepted
/// at once are finished from further blocks of the same address. Every word is used however narrow
/// the rows are (a one-wide path costs a quarter of a block per number). A number depends only on
/// the seed and its address — never on the batch size, chunking, thread count or machine. Rows
/// must be below 2⁴⁸.
public struct NormalSource: Sendable, Hashable {
  public let seed: UInt64

  @inlinable
  public init(seed: UInt64) { self.seed = seed }

  /// One group of up to 32 consecutive rows (eight quads) as `generate` hands it over.
  ///
  /// The numbers are stored as whole vectors and read from memory: taking lanes out of
  /// registers one by one let the optimiser split the vector arithmetic itself into scalar code.
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

    /// Normal number `index` of `row`, which must lie in the group: number i of the group's
    /// row o is at 32 i + o. Wrapping arithmetic: the offsets are below 32 · count, and overflow
    /// checks here cost a tenth of the generator's time.
    @inlinable @inline(__always)
    public subscript(row: Int, index: Int) -> Double {
      columns[index &* 32 &+ (row &- firstRow)]
    }
  }

  /// Generates normal numbers 0 ..< `count` of (stream, row) for every row in `rows`, 32 rows
  /// (eight quads, one per vector lane) at a time, and hands each group to
  /// `store(rowsInGroup, group)` with the requested rows that lie in it.
  ///
  /// - Complexity: one Philox block per four numbers and two table lookups per number, on eight
  ///   quads at once; 0.43 % of the numbers take a scalar second draw.
  @inlinable @inline(__always)
  public func generate(rows: Range<Int>, stream: NoiseStream, count: Int,
                       _ store: (_ rowsInGroup: Range<Int>, _ group: Group) -> Void) {
    guard !rows.isEmpty, count > 0 else { return }
    let address = stream.address
    let generator = Philox4x32(seed: seed ^ address.keyTweak), stepWord = address.step
    let quadEnd = (rows.upperBound + 3) >> 2
    let ziggurat = Ziggurat.shared
    // Per index: the 32 numbers of the group, the four word vectors they came from, and which
    // candidates were rejected (bit 8j + ℓ: word j of lane ℓ).
    VectorMath.withAlignedTemporaryAllocation(of: SIMD8<Double>.self, capacity: 4 * count) { columns in
      VectorMath.withAlignedTemporaryAllocation(of: SIMD8<UInt64>.self, capacity: 4 * count) { candidates in
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: count) { rejections in
          let values = UnsafeMutableRawPointer(columns.baseAddress!).assumingMemoryBound(to: Double.self)
          var quad = rows.lowerBound >> 2
          while quad < quadEnd {
            // Lanes past the last quad repeat it; their numbers are never read.
            let first = UInt64(truncatingIfNeeded: quad), last = UInt64(min(8, quadEnd - quad) - 1)
            let quads = SIMD8<UInt64>(first, first + min(1, last), first + min(2, last), first + min(3, last),
                                      first + min(4, last), first + min(5, last), first + min(6, last), first + last)
            let quadLow = quads & 0xFFFF_FFFF, quadHigh = quads &>> 32
            // Philox, the ziggurat's candidates and their rejections, in C (CSIMDMath).
            let anyRejected = sdekit_normal_candidates(
              count, stepWord, quadLow, quadHigh, generator.key.x, generator.key.y, ziggurat.layerTable,
              values, OpaquePointer(candidates.baseAddress!), rejections.baseAddress!)
            if anyRejected != 0 {
              resolve(rejections: UnsafeBufferPointer(rebasing: rejections[..<count]),
                      words: UnsafePointer(candidates.baseAddress!), firstQuad: quad, quads: Int(last) + 1,
                      generator: generator, step: stepWord, into: values)
            }
            let firstRow = 4 * quad
            store(max(rows.lowerBound, firstRow)..<min(rows.upperBound, firstRow + 32),
                  Group(firstRow: firstRow, columns: values))
            quad += 8
          }
        }
      }
    }
  }

  /// Writes `scale` times normal numbers 0 ..< `count` of (stream, row) for every row in `rows`
  /// to `output`, row-major (`count` values per row): the numbers `generate` gives, in the
  /// layout every solver uses.
  @inlinable
  public func fill(rows: Range<Int>, stream: NoiseStream, count: Int, scale: Double,
                   into output: UnsafeMutablePointer<Double>) {
    generate(rows: rows, stream: stream, count: count) { rowsInGroup, group in
      // A whole group is copied as vectors (`sdekit_normal_group_rows`); element by element this
      // copy cost a third of the generator's time. A part of a group (at the ends of `rows`)
      // goes row by row, with the same products.
      if rowsInGroup.count == 32 {
        sdekit_normal_group_rows(group.columns, count, scale, output + (group.firstRow &- rows.lowerBound) &* count)
        return
      }
      for row in rowsInGroup {
        for index in 0..<count { output[(row &- rows.lowerBound) &* count &+ index] = scale * group[row, index] }
      }
    }
  }

  /// Writes normal numbers `first ..< first + count` of (stream, row) to `output`.
  @inlinable
  public func fill(row: Int, stream: NoiseStream, first: Int = 0, count: Int,
                   into output: UnsafeMutablePointer<Double>) {
    generate(rows: row..<(row + 1), stream: stream, count: first + count) { _, group in
      for index in first..<(first + count) { output[index - first] = group[row, index] }
    }
  }

  /// Normal number `index` of (stream, row).
  @inlinable
  public func normal(row: Int, stream: NoiseStream, index: Int) -> Double {
    var value = 0.0
    fill(row: row, stream: stream, first: index, count: 1, into: &value)
    return value
  }

  /// Finishes the candidates of a group that were not accepted at once (bit 8j + ℓ of
  /// `rejections[i]` for word j of lane ℓ at index i, which is `words[4i + j][ℓ]`: the group's
  /// row 4ℓ + j), writing each to its place in `numbers`. Lanes past the group's `quads` are
  /// padding and stay as they are.
  @usableFromInline @inline(never)
  func resolve(rejections: UnsafeBufferPointer<UInt32>, words: UnsafePointer<SIMD8<UInt64>>, firstQuad: Int,
               quads: Int, generator: Philox4x32, step: UInt32, into numbers: UnsafeMutablePointer<Double>) {
    let ziggurat = Ziggurat.shared
    for (index, rejected) in rejections.enumerated() where rejected != 0 {
      var bits = rejected
      while bits != 0 {
        let bit = bits.trailingZeroBitCount, member = bit >> 3, lane = bit & 7
        bits &= bits - 1
        guard lane < quads else { continue }
        numbers[32 * index + 4 * lane + member] = ziggurat.resolve(
          word: UInt32(truncatingIfNeeded: words[4 * index + member][lane]), generator: generator,
          row: 4 * (firstQuad + lane) + member, step: step, index: UInt32(truncatingIfNeeded: index))
      }
    }
  }
}
