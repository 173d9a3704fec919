import Samplers
import ScoreModels
import SDEKit
import Testing

@Suite("Metrics merged across processes")
struct MetricsMergeTests {
  @Test("Any chunking, and any split into row ranges at block boundaries merged from partials, gives the same bits",
        arguments: [TargetName.gmm2d8, .gmm64d16])
  func sameBitsForAnySplit(target name: TargetName) throws {
    let target = name.mixture
    let samples = target.sample(count: 30_001, seed: 5)
    func metrics(_ chunks: [Range<Int>]) throws -> SampleMetrics {
      var m = StreamingMetrics(target: target, seed: 2)
      for rows in chunks { try m.add(samples.rows(rows)) }
      return try m.finish(floor: 0)
    }
    let whole = try metrics([0..<30_001])
    #expect(try metrics([0..<7_000, 7_000..<7_001, 7_001..<30_001]) == whole)
    // Three "ranks" starting at multiples of the 4,096-row block, each in chunks of its own;
    // then five, one of them empty, the head of 20,000 rows spread over four of them.
    for split in [[0, 8_192, 20_480, 30_001], [0, 4_096, 8_192, 8_192, 16_384, 30_001]] {
      let partials = try zip(split, split.dropFirst()).map { start, end -> [Double] in
        var m = StreamingMetrics(target: target, seed: 2, firstRow: start)
        var row = start
        while row < end {
          let next = min(end, row + 3_000)
          try m.add(samples.rows(row..<next))
          row = next
        }
        return m.partial
      }
      let merged = try StreamingMetrics(target: target, seed: 2, merging: partials).finish(floor: 0)
      #expect(merged == whole, "split \(split)")
    }
  }

  @Test("Partials out of order are refused")
  func outOfOrder() throws {
    let target = TargetName.gmm2d8.mixture
    let samples = target.sample(count: 9_000, seed: 1)
    var first = StreamingMetrics(target: target), second = StreamingMetrics(target: target, firstRow: 4_096)
    try first.add(samples.rows(0..<4_096))
    try second.add(samples.rows(4_096..<9_000))
    #expect(throws: DiffusionError.self) { try StreamingMetrics(target: target, merging: [second.partial, first.partial]) }
  }
}
