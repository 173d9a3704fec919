import Dispatch
import Foundation
import ScoreModels
import SDEKit

/// Sample quality against a known target, as shared/REFERENCE.md defines it.
public struct SampleMetrics: Sendable, Codable, Hashable {
  /// ‖mean(X) − m‖₂.
  public var meanError: Double
  /// ‖Cov(X) − C‖_F with the unbiased sample covariance.
  public var covarianceError: Double
  /// Sliced Wasserstein-2 to exact samples of the same size (n = min(N, 20,000), 128 projections).
  public var slicedW2: Double
  /// The median of the same statistic for independent exact sets against the same comparison
  /// set: its noise floor.
  public var slicedW2Floor: Double
  /// Mean log p₀ of the samples under the target.
  public var meanLogDensity: Double
  /// E_p[log p₀], estimated from 200,000 exact samples (standard error ≈ std(log p)/447).
  public var exactMeanLogDensity: Double
  /// Fraction of samples whose most responsible component is k.
  public var modeOccupancy: [Double]
}

/// Metrics of `samples` against `target`. The exact comparison sets are drawn with seeds derived
/// from `seed`; `floorPairs` independent exact pairs give the sliced-W2 floor (their median).
/// - Throws: `DiffusionError.dimensionMismatch` when the samples and the target differ in
///   dimension, `.invalidSetting` with fewer than two samples.
public func evaluateSamples(_ samples: StateBatch, target: GaussianMixture, seed: UInt64 = 0,
                            floorPairs: Int = 5) throws -> SampleMetrics {
  try evaluateSamples(samples, target: target, seed: seed,
                      floor: slicedW2Floor(target: target, count: min(samples.count, 20_000), seed: seed,
                                           pairs: floorPairs))
}

/// The median sliced W2 between `pairs` independent pairs of exact sets of `count` samples: the
/// statistic's noise floor. Depends only on (target, count, seed, pairs), so a comparison of many
/// runs computes it once.
public func slicedW2Floor(target: GaussianMixture, count: Int, seed: UInt64 = 0, pairs: Int = 5) -> Double {
  let values = slicedW2FloorValues(target: target, count: count, seed: seed, pairs: pairs)
  return values[values.count / 2]
}

/// The sorted sliced W2 of each of `pairs` independent exact sets against the comparison set that
/// a run's samples are measured against (`ExactSampleSet.comparison`): their spread is the
/// floor's band. Sharing the comparison set puts its own deviation from the target — which
/// varies by half the floor from one draw to the next — into the floor as into the metric, so the
/// two are read against each other.
public func slicedW2FloorValues(target: GaussianMixture, count: Int, seed: UInt64 = 0, pairs: Int = 5) -> [Double] {
  let projections = unitProjections(count: 128, dimension: target.dimension, seed: seed)
  let comparison = target.sample(count: count, seed: seed, set: ExactSampleSet.comparison)
  return (0..<max(1, pairs)).map { pair in
    slicedWasserstein(target.sample(count: count, seed: seed, set: ExactSampleSet.floorSet(pair)), comparison,
                      projections: projections)
  }.sorted()
}

/// Metrics of `samples` against `target` with a noise floor computed beforehand.
public func evaluateSamples(_ samples: StateBatch, target: GaussianMixture, seed: UInt64 = 0,
                            floor: Double) throws -> SampleMetrics {
  var metrics = StreamingMetrics(target: target, seed: seed)
  try metrics.add(samples)
  return try metrics.finish(floor: floor)
}

/// The metrics of a run seen in consecutive chunks, so a run too large to hold in memory is
/// measured as it is written: moments, mean log-density and mode occupancy over every sample,
/// sliced W2 over the first 20,000 (as for a run held whole).
///
/// The moments and the log-density sum are taken per block of `blockRows` rows (by row index:
/// block b holds rows b·blockRows ..< (b + 1)·blockRows) and merged in one binary tree over the
/// blocks whose shape depends only on the row count (Chan, Golub & LeVeque's pairwise update).
/// So the numbers are the same bits whatever the chunks, and whatever the split of the rows
/// between processes, as long as each process's rows start at a block boundary: each one's
/// `partial` holds its complete subtrees, and `init(merging:)` finishes the same tree.
public struct StreamingMetrics: Sendable {
  public let target: GaussianMixture
  public let seed: UInt64
  /// Samples seen so far.
  public private(set) var count = 0
  /// The row index of the next sample.
  private var nextRow: Int
  /// The rows of the block being filled.
  private var pending: [Double] = []
  /// Complete subtrees, left to right; adjacent siblings are merged as soon as both exist.
  private var nodes: [MomentNode] = []
  private var occupancy: [Int]
  /// Rows below `slicedW2Count` seen here, and the index of the first of them.
  private var head: [Double] = []
  private var headStart: Int

  public static let slicedW2Count = 20_000
  /// Rows per leaf of the merge tree: the per-block cost (d² for the merge) is small beside the
  /// block's own (blockRows·d²), and a process's rows may start at any multiple of it. The
  /// same blocks as `BlockMoments`', so one split of the rows suits both.
  public static let blockRows = BlockMoments.blockRows

  /// Metrics of rows taken in order from `firstRow`, which must be a multiple of `blockRows`.
  public init(target: GaussianMixture, seed: UInt64 = 0, firstRow: Int = 0) {
    precondition(firstRow >= 0 && firstRow % Self.blockRows == 0, "StreamingMetrics: rows start at a block boundary")
    self.target = target
    self.seed = seed
    nextRow = firstRow
    headStart = firstRow
    occupancy = [Int](repeating: 0, count: target.components)
  }

  /// Takes in the next chunk of samples.
  public mutating func add(_ chunk: StateBatch) throws {
    let d = target.dimension, n = chunk.count
    guard chunk.dimension == d else {
      throw DiffusionError.dimensionMismatch(
        "the samples have dimension \(chunk.dimension) but the target has dimension \(d)")
    }
    guard n > 0 else { return }
    var row = 0
    while row < n {
      let take = min(n - row, Self.blockRows - pending.count / d)
      pending += chunk.values[(row * d)..<((row + take) * d)]
      row += take
      if pending.count / d == Self.blockRows { closeBlock() }
    }
    for k in target.mostResponsibleComponent(chunk.values) { occupancy[k] += 1 }
    // The chunk's rows start at headStart + count: keep those below slicedW2Count.
    let wanted = min(n, Self.slicedW2Count - (headStart + count))
    if wanted > 0 { head += chunk.values[0..<(wanted * d)] }
    count += n
  }

  /// Summarises the pending rows as the next leaf and merges it into the tree.
  private mutating func closeBlock() {
    let d = target.dimension, n = pending.count / d
    guard n > 0 else { return }
    let block = StateBatch(count: n, dimension: d, values: pending)
    var mean = [Double](repeating: 0, count: d)
    for r in 0..<n { for j in 0..<d { mean[j] += block[r, j] / Double(n) } }
    var comoment = [Double](repeating: 0, count: d * d)
    for r in 0..<n {
      for i in 0..<d {
        let di = block[r, i] - mean[i]
        for j in 0..<d { comoment[i * d + j] += di * (block[r, j] - mean[j]) }
      }
    }
    let node = MomentNode(level: 0, index: nextRow / Self.blockRows, count: n, mean: mean, comoment: comoment,
                          logDensitySum: sumOfLogDensities(block, target: target))
    nextRow += n
    pending.removeAll(keepingCapacity: true)
    Self.push(node, onto: &nodes)
  }

  /// Appends a subtree and merges siblings: the binary counter that builds the one tree.
  static func push(_ node: MomentNode, onto nodes: inout [MomentNode]) {
    nodes.append(node)
    while nodes.count >= 2 {
      let right = nodes[nodes.count - 1], left = nodes[nodes.count - 2]
      guard left.level == right.level, left.index % 2 == 0, right.index == left.index + 1 else { break }
      nodes.removeLast(2)
      nodes.append(MomentNode(merging: left, right, level: left.level + 1, index: left.index / 2))
    }
  }

  /// The root: complete subtrees merged right to left (the tree of a row count that is not a
  /// power-of-two multiple of the block).
  private var root: MomentNode? {
    var copy = self
    copy.closeBlock()
    guard var root = copy.nodes.last else { return nil }
    for node in copy.nodes.dropLast().reversed() { root = MomentNode(merging: node, root, level: node.level + 1, index: 0) }
    return root
  }

  /// The rows seen among the first `slicedW2Count` of the run (all of them when the rows were
  /// taken from row 0, or merged): what sliced W2 is measured on.
  public var firstRows: StateBatch {
    StateBatch(count: head.count / target.dimension, dimension: target.dimension, values: head)
  }

  /// The unbiased covariance of the samples seen, row-major d × d.
  public var covariance: [Double] {
    let d = target.dimension
    guard let root else { return [Double](repeating: 0, count: d * d) }
    let scale = 1 / Double(max(1, root.count - 1))
    return root.comoment.map { $0 * scale }
  }

  /// (‖mean − m‖₂, ‖Cov − C‖_F) with the unbiased covariance of the samples seen.
  public var momentErrors: (mean: Double, covariance: Double) {
    let m = target.mean, c = target.covariance
    let mean = root?.mean ?? [Double](repeating: 0, count: target.dimension)
    let meanError = zip(mean, m).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
    let covarianceError = zip(covariance, c).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
    return (meanError, covarianceError)
  }

  /// The metrics of every sample seen, with the sliced-W2 floor given (see `slicedW2Floor`).
  /// - Throws: `DiffusionError.invalidSetting` with fewer than two samples.
  public func finish(floor: Double) throws -> SampleMetrics {
    guard count >= 2 else {
      throw DiffusionError.invalidSetting("metrics need at least 2 samples, got \(count)")
    }
    let d = target.dimension, n = head.count / d
    let projections = unitProjections(count: 128, dimension: d, seed: seed)
    let sw2 = slicedWasserstein(StateBatch(count: n, dimension: d, values: head),
                                target.sample(count: n, seed: seed, set: ExactSampleSet.comparison),
                                projections: projections)
    let exactLogDensity = meanLogDensity(target.sample(count: 200_000, seed: seed, set: ExactSampleSet.logDensity),
                                         target: target)
    let (meanError, covarianceError) = momentErrors
    return SampleMetrics(meanError: meanError, covarianceError: covarianceError, slicedW2: sw2,
                         slicedW2Floor: floor, meanLogDensity: (root?.logDensitySum ?? 0) / Double(count),
                         exactMeanLogDensity: exactLogDensity,
                         modeOccupancy: occupancy.map { Double($0) / Double(count) })
  }

  // MARK: - Across processes

  /// What one process's metrics contribute, as plain numbers to send to another: its complete
  /// subtrees (the pending rows closed as a leaf, so only the last process's rows may end off a
  /// block boundary), its occupancy counts and its rows of the sliced-W2 head.
  public var partial: [Double] {
    var copy = self
    copy.closeBlock()
    var out: [Double] = [Double(copy.count), Double(copy.headStart), Double(copy.head.count), Double(copy.nodes.count)]
    out += copy.occupancy.map(Double.init)
    out += copy.head
    for node in copy.nodes {
      out += [Double(node.level), Double(node.index), Double(node.count), node.logDensitySum]
      out += node.mean + node.comoment
    }
    return out
  }

  /// The metrics of all rows from the `partial`s of processes that took consecutive row ranges
  /// from 0 (in order): the same tree, so the same bits, as one process that saw every row.
  public init(target: GaussianMixture, seed: UInt64 = 0, merging partials: [[Double]]) throws {
    self.init(target: target, seed: seed)
    let d = target.dimension, k = target.components
    for values in partials {
      func take(_ n: Int, from position: inout Int) throws -> ArraySlice<Double> {
        guard n >= 0, position + n <= values.count else {
          throw DiffusionError.invalidSetting("a metrics partial is truncated")
        }
        defer { position += n }
        return values[position..<(position + n)]
      }
      var position = 0
      let fields = try take(4, from: &position).map { Int($0) }
      let (rows, start, headValues, nodeCount) = (fields[0], fields[1], fields[2], fields[3])
      guard start == count else {
        throw DiffusionError.invalidSetting("metrics partials must cover consecutive rows from 0; got rows from \(start) after \(count)")
      }
      for (c, value) in try take(k, from: &position).enumerated() { occupancy[c] += Int(value) }
      head += try take(headValues, from: &position)
      for _ in 0..<nodeCount {
        let header = try take(4, from: &position)
        let level = Int(header[header.startIndex]), index = Int(header[header.startIndex + 1])
        let nodeCount = Int(header[header.startIndex + 2]), logDensitySum = header[header.startIndex + 3]
        let mean = Array(try take(d, from: &position)), comoment = Array(try take(d * d, from: &position))
        Self.push(MomentNode(level: level, index: index, count: nodeCount, mean: mean, comoment: comoment,
                             logDensitySum: logDensitySum), onto: &nodes)
      }
      count += rows
      nextRow = count
    }
  }
}

/// A subtree of the merge tree: the rows of blocks index·2^level ..< (index + 1)·2^level, their
/// count, mean, Σ(x − mean)(x − mean)ᵀ and Σ log p₀.
struct MomentNode: Sendable {
  var level: Int
  var index: Int
  var count: Int
  var mean: [Double]
  var comoment: [Double]
  var logDensitySum: Double

  init(level: Int, index: Int, count: Int, mean: [Double], comoment: [Double], logDensitySum: Double) {
    (self.level, self.index, self.count, self.mean, self.comoment, self.logDensitySum)
      = (level, index, count, mean, comoment, logDensitySum)
  }

  /// Chan, Golub & LeVeque's update: the moments of the rows of `left` and `right` together.
  init(merging left: MomentNode, _ right: MomentNode, level: Int, index: Int) {
    let d = left.mean.count
    let total = Double(left.count + right.count), weight = Double(left.count) * Double(right.count) / total
    var comoment = [Double](repeating: 0, count: d * d)
    for i in 0..<d {
      for j in 0..<d {
        comoment[i * d + j] = left.comoment[i * d + j] + right.comoment[i * d + j]
          + (right.mean[i] - left.mean[i]) * (right.mean[j] - left.mean[j]) * weight
      }
    }
    let mean = (0..<d).map { left.mean[$0] + (right.mean[$0] - left.mean[$0]) * Double(right.count) / total }
    self.init(level: level, index: index, count: left.count + right.count, mean: mean, comoment: comoment,
              logDensitySum: left.logDensitySum + right.logDensitySum)
  }
}

/// (‖mean − m‖₂, ‖Cov − C‖_F). The samples must have the target's dimension.
public func momentErrors(_ samples: StateBatch, target: GaussianMixture) -> (Double, Double) {
  precondition(samples.dimension == target.dimension, "momentErrors: the samples and the target differ in dimension")
  var metrics = StreamingMetrics(target: target)
  try! metrics.add(samples)  // cannot throw: the dimensions agree
  return metrics.momentErrors
}

/// Mean log p₀ of the rows under the target.
public func meanLogDensity(_ samples: StateBatch, target: GaussianMixture) -> Double {
  sumOfLogDensities(samples, target: target) / Double(samples.count)
}

/// Σ log p₀ over the rows.
func sumOfLogDensities(_ samples: StateBatch, target: GaussianMixture) -> Double {
  var logs = [Double](repeating: 0, count: samples.count)
  samples.values.withUnsafeBufferPointer { xp in
    logs.withUnsafeMutableBufferPointer { target.evaluate(xp, a: 1, s: 0, logDensity: $0, score: nil) }
  }
  return logs.reduce(0, +)
}

/// √(mean over projections θ of W₂²(⟨X, θ⟩, ⟨Y, θ⟩)) for equal-size sets, where the 1-D W₂² of
/// equal-size sets is mean((sort a − sort b)²).
public func slicedWasserstein(_ x: StateBatch, _ y: StateBatch, projections: [[Double]]) -> Double {
  precondition(x.count == y.count && x.dimension == y.dimension, "sliced W2 needs equal-size sets")
  let n = x.count, d = x.dimension
  // One W₂² per projection, computed on every core; summed in projection order afterwards, so the
  // result does not depend on the core count.
  let results = ProjectionResults(count: projections.count)
  // One chunk of projections per core, each with its own buffers for all its projections: fresh
  // buffers for every projection cost a page fault per 4 KB on first touch.
  forEachRowChunk(projections.count, threads: ProcessInfo.processInfo.activeProcessorCount) { _, chunk in
    var a = [Double](repeating: 0, count: n), b = a
    let workspace = SortWorkspace(capacity: n)
    for p in chunk {
      let theta = projections[p]
      x.values.withUnsafeBufferPointer { xv in
        y.values.withUnsafeBufferPointer { yv in
          a.withUnsafeMutableBufferPointer { ap in
            b.withUnsafeMutableBufferPointer { bp in
              for r in 0..<n {
                var u = 0.0, v = 0.0
                for j in 0..<d {
                  u += xv[r * d + j] * theta[j]
                  v += yv[r * d + j] * theta[j]
                }
                ap[r] = u
                bp[r] = v
              }
              sortFinite(ap, workspace: workspace)
              sortFinite(bp, workspace: workspace)
              var sum = 0.0
              for r in 0..<n { sum += (ap[r] - bp[r]) * (ap[r] - bp[r]) }
              results.set(p, sum / Double(n))
            }
          }
        }
      }
    }
  }
  return (results.values.reduce(0, +) / Double(projections.count)).squareRoot()
}

/// Per-projection results written from concurrent iterations, each to its own slot.
private final class ProjectionResults: @unchecked Sendable {
  private let lock = NSLock()
  private(set) var values: [Double]
  init(count: Int) { values = [Double](repeating: 0, count: count) }
  func set(_ index: Int, _ value: Double) {
    lock.lock()
    values[index] = value
    lock.unlock()
  }
}

/// Sorts finite doubles ascending (−0 and +0 count as equal, as in any comparison sort).
///
/// A bucket sort first: bucket ⌊(v − min)·n/(max − min)⌋ never decreases with v, so sorting
/// each bucket by insertion sorts the whole. Projections of samples are smooth enough that the
/// buckets hold one or two values, and the sort costs a few light passes: 0.5 ms for 20,000
/// normal values on the project's VM against the radix sort's 0.9 ms. The radix sort takes over
/// when some bucket holds more than 64 values (clustered data, or an outlier that squeezes the
/// rest into a few buckets).
func sortFinite(_ values: UnsafeMutableBufferPointer<Double>, workspace: SortWorkspace) {
  let n = values.count
  guard n > 1 else { return }
  precondition(n <= workspace.capacity, "sortFinite: \(n) values, workspace for \(workspace.capacity)")
  var lowest = values[0], highest = values[0]
  for v in values {
    lowest = min(lowest, v)
    highest = max(highest, v)
  }
  let scale = Double(n) / (highest - lowest)
  guard scale.isFinite, scale > 0 else {
    if lowest != highest { radixSort(values) }  // a span too wide for doubles; equal: sorted
    return
  }
  let largestBucket = 64
  let bucketOf = workspace.indices, starts = workspace.indices + n, out = workspace.values
  for b in 0...n { starts[b] = 0 }
  for i in 0..<n {
    let bucket = min(n - 1, Int((values[i] - lowest) * scale))
    bucketOf[i] = bucket
    starts[bucket + 1] &+= 1
  }
  for b in 0..<n where starts[b + 1] > largestBucket {
    radixSort(values)
    return
  }
  for b in 0..<n { starts[b + 1] &+= starts[b] }
  // Scatter into buckets (`starts[b]` runs up to the start of bucket b + 1)…
  for i in 0..<n {
    let bucket = bucketOf[i]
    out[starts[bucket]] = values[i]
    starts[bucket] &+= 1
  }
  // …then insertion-sort every bucket in place; after the scatter bucket b ends at starts[b].
  var begin = 0
  for b in 0..<n {
    let end = starts[b]
    if end - begin > 1 {
      for i in (begin + 1)..<end {
        let v = out[i]
        var j = i
        while j > begin && out[j - 1] > v {
          out[j] = out[j - 1]
          j -= 1
        }
        out[j] = v
      }
    }
    begin = end
  }
  for i in 0..<n { values[i] = out[i] }
}

/// The buffers of `sortFinite` for up to `capacity` values, reused from sort to sort.
final class SortWorkspace {
  let capacity: Int
  /// 2·capacity + 1 integers: each value's bucket, then the bucket boundaries.
  let indices: UnsafeMutablePointer<Int>
  /// The values spread into their buckets.
  let values: UnsafeMutablePointer<Double>

  init(capacity: Int) {
    self.capacity = capacity
    indices = .allocate(capacity: 2 * capacity + 1)
    values = .allocate(capacity: capacity)
  }

  deinit {
    indices.deallocate()
    values.deallocate()
  }
}

/// Sorts finite doubles ascending by an LSD radix sort on order-preserving 64-bit keys (flip all
/// bits of negatives, the sign bit of the rest), eight passes of eight bits: linear time whatever
/// the values, so `sortFinite` falls back to it. All eight byte histograms come from one read of
/// the keys, and every loop runs on raw buffers (Swift arrays check uniqueness and bounds on
/// each write of the scatter).
func radixSort(_ values: UnsafeMutableBufferPointer<Double>) {
  let n = values.count
  guard n > 1 else { return }
  withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 2 * n) { buffer in
    withUnsafeTemporaryAllocation(of: Int.self, capacity: 8 * 256) { counts in
      var keys = buffer.baseAddress!, scratch = buffer.baseAddress! + n
      counts.initialize(repeating: 0)
      for i in 0..<n {
        let bits = values[i].bitPattern
        let key = bits & (1 << 63) != 0 ? ~bits : bits | (1 << 63)
        keys[i] = key
        for pass in 0..<8 { counts[pass &* 256 &+ Int(truncatingIfNeeded: (key &>> UInt64(8 &* pass)) & 0xFF)] &+= 1 }
      }
      for pass in 0..<8 {
        let histogram = counts.baseAddress! + pass * 256, shift = UInt64(8 * pass)
        // Every key agrees on this byte (common for the high bytes): nothing to reorder.
        if (0..<256).contains(where: { histogram[$0] == n }) { continue }
        var offset = 0
        for bucket in 0..<256 { (histogram[bucket], offset) = (offset, offset &+ histogram[bucket]) }
        for i in 0..<n {
          let key = keys[i], bucket = Int(truncatingIfNeeded: (key &>> shift) & 0xFF)
          scratch[histogram[bucket]] = key
          histogram[bucket] &+= 1
        }
        swap(&keys, &scratch)
      }
      for i in 0..<n {
        let key = keys[i]
        values[i] = Double(bitPattern: key & (1 << 63) != 0 ? key & ~(1 << 63) : ~key)
      }
    }
  }
}

/// The independent sets of exact target samples the metrics draw from one seed
/// (`GaussianMixture.sample(count:seed:set:)`).
enum ExactSampleSet {
  /// The set a run's samples are compared with (sliced W2).
  static let comparison = 1
  /// The 200,000 samples that estimate E_p[log p].
  static let logDensity = 2
  /// The exact set of noise-floor draw `pair`, measured against the comparison set.
  static func floorSet(_ pair: Int) -> Int { 100 + pair }
}

/// `count` unit vectors, uniform on the sphere, from the seed's `.projections` stream (row i is
/// direction i).
public func unitProjections(count: Int, dimension: Int, seed: UInt64) -> [[Double]] {
  let normals = NormalSource(seed: seed)
  return (0..<count).map { row in
    var v = [Double](repeating: 0, count: dimension)
    v.withUnsafeMutableBufferPointer { normals.fill(row: row, stream: .projections, count: dimension, into: $0.baseAddress!) }
    let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
    return v.map { $0 / norm }
  }
}
