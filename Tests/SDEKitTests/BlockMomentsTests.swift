import Foundation
import SDEKit
import Testing

@Suite("Block moments: the same bits for any chunking and any split between processes")
struct BlockMomentsTests {
  /// 30,001 rows of two values: a normal (mean 3, variance 4) and its square, from one seed.
  static let values: [Double] = {
    var normals = [Double](repeating: 0, count: 30_001)
    normals.withUnsafeMutableBufferPointer {
      NormalSource(seed: 9).fill(rows: 0..<30_001, stream: .prior, count: 1, scale: 1, into: $0.baseAddress!)
    }
    var rows: [Double] = []
    for z in normals {
      let x = 3 + 2 * z
      rows += [x, x * x]
    }
    return rows
  }()

  func moments(_ chunks: [Range<Int>], firstRow: Int = 0) -> BlockMoments {
    var m = BlockMoments(width: 2, firstRow: firstRow)
    for rows in chunks { m.add(Self.values[(2 * rows.lowerBound)..<(2 * rows.upperBound)]) }
    return m
  }

  @Test("Mean and variance agree with a two-pass sum to rounding; any chunking and any split give the same bits")
  func sameBitsForAnySplit() throws {
    let whole = moments([0..<30_001])
    #expect(whole.count == 30_001)
    // The two-pass textbook formulas in one sum each: the tree differs from them by rounding
    // only, a few ulps of the sums' condition (1e-12 relative is a thousand times that).
    for j in 0..<2 {
      let column = stride(from: j, to: Self.values.count, by: 2).map { Self.values[$0] }
      let mean = column.reduce(0, +) / Double(column.count)
      let variance = column.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(column.count - 1)
      #expect(abs(whole.mean[j] - mean) <= 1e-12 * abs(mean))
      #expect(abs(whole.variance[j] - variance) <= 1e-12 * variance)
    }
    let chunked = moments([0..<7_000, 7_000..<7_001, 7_001..<30_001])
    #expect(chunked.mean == whole.mean && chunked.variance == whole.variance)
    // Ranks starting at multiples of the 4,096-row block, each in chunks of its own; then five,
    // one of them empty.
    for split in [[0, 8_192, 20_480, 30_001], [0, 4_096, 8_192, 8_192, 16_384, 30_001]] {
      let partials = zip(split, split.dropFirst()).map { start, end in
        moments(stride(from: start, to: end, by: 3_000).map { $0..<min(end, $0 + 3_000) }, firstRow: start).partial
      }
      let merged = try BlockMoments(width: 2, merging: partials)
      #expect(merged.count == 30_001)
      #expect(merged.mean == whole.mean && merged.variance == whole.variance, "split \(split)")
    }
  }

  @Test("Partials out of order or cut short are refused")
  func refused() throws {
    let first = moments([0..<4_096]), second = moments([4_096..<9_000], firstRow: 4_096)
    #expect(throws: SolveError.self) { try BlockMoments(width: 2, merging: [second.partial, first.partial]) }
    #expect(throws: SolveError.self) { try BlockMoments(width: 2, merging: [Array(first.partial.dropLast())]) }
  }

  @Test("Partials with numbers that are not whole counts in range are refused, not trapped on")
  func badNumbers() throws {
    let good = moments([0..<4_096]).partial
    // Header: first row, row count, subtree count; then per subtree level, index, row count.
    for (position, value) in [(0, Double.nan), (1, .infinity), (1, -1), (2, -1), (2, 0.5), (2, 1e300),
                              (3, -1), (3, 62), (4, -2), (5, 0), (5, .nan)] {
      var bad = good
      bad[position] = value
      #expect(throws: SolveError.self, "number \(position) = \(value)") { try BlockMoments(width: 2, merging: [bad]) }
    }
    var negative = good
    negative[2] = -1
    #expect(throws: SolveError.invalidConfiguration("a moments partial's subtree count must be a whole number in 0...9007199254740992, got -1.0")) {
      try BlockMoments(width: 2, merging: [negative])
    }
  }
}
