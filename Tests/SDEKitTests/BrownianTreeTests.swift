import Foundation
import Testing
@testable import SDEKit

/// The Brownian tree's law (increments, Lévy area, covariance of W) and its consistency
/// (additivity, any query order, any batch of rows).
@Suite("Brownian tree")
struct BrownianTreeTests {
  /// Pseudo-random times in [0, 1] for the tests, from a fixed Philox stream.
  static func randomTimes(_ count: Int, seed: UInt64) -> [Double] {
    let generator = Philox4x32(seed: seed)
    return (0..<count).map { i in
      let block = generator.block(UInt32(i), 0, 0, 0)
      return (Double(block.0) + 0.5) / 4_294_967_296
    }
  }

  @Test("Node normals: four per Philox block, standard normal, independent across numbers, nodes and rows")
  func nodeNormals() throws {
    let tree = try BrownianTree(seed: 9, t0: 0, t1: 1, depth: 10)
    let generator = NoiseStream.brownianTree(node: 0).generator(seed: 9)
    // 6 numbers (two blocks) for 3 nodes × 10,000 rows.
    let rows = 10_000, count = 6, nodes = [1, 2, 1500]
    var numbers = [[Double]](repeating: [], count: nodes.count)
    for (k, node) in nodes.enumerated() {
      numbers[k] = [Double](repeating: 0, count: rows * count)
      numbers[k].withUnsafeMutableBufferPointer { out in
        for row in 0..<rows { tree.nodeNormals(node: node, row: row, count: count, generator: generator, into: out.baseAddress! + row * count) }
      }
    }
    let all = numbers.flatMap { $0 }, n = Double(all.count)
    // 180,000 numbers: KS at the 1 % level, and each correlation between number 0 of node 1 and
    // another number (same row: another word of the block, the next block, other nodes) within
    // five standard errors 1/√rows.
    #expect(kolmogorovSmirnov(all) { 0.5 * erfc(-$0 / 2.0.squareRoot()) } < 1.63 / n.squareRoot())
    func column(_ k: Int, _ i: Int) -> [Double] { (0..<rows).map { numbers[k][$0 * count + i] } }
    let first = column(0, 0)
    for (k, i) in [(0, 1), (0, 3), (0, 4), (1, 0), (2, 0), (2, 5)] {
      let c = zip(first, column(k, i)).reduce(0) { $0 + $1.0 * $1.1 } / Double(rows)
      #expect(abs(c) < 5 / Double(rows).squareRoot(), "node \(nodes[k]) number \(i): \(c)")
    }
    // Neighbouring rows are not shifted copies of each other.
    let next = (0..<(rows - 1)).map { numbers[0][($0 + 1) * count] }
    let shifted = zip(first.dropLast(), next).reduce(0) { $0 + $1.0 * $1.1 } / Double(rows - 1)
    #expect(abs(shifted) < 5 / Double(rows).squareRoot())
  }

  @Test("Increments and Lévy areas over random intervals: Kolmogorov–Smirnov, variances h and h/12, no correlation")
  func incrementsLaw() throws {
    // Depth 20 (leaves of 1e-6): random ends almost never share a leaf, so every interval is exact.
    let tree = try BrownianTree(seed: 4, t0: 0, t1: 1, depth: 20)
    let rows = 4_000, times = Self.randomTimes(20, seed: 1)
    var standardW: [Double] = [], standardH: [Double] = []
    for pair in 0..<10 {
      let s = min(times[2 * pair], times[2 * pair + 1]), t = max(times[2 * pair], times[2 * pair + 1])
      let (w, levy) = tree.increments(rows: 0..<rows, width: 1, from: s, to: t)
      standardW += w.map { $0 / (t - s).squareRoot() }
      standardH += levy.map { $0 / ((t - s) / 12).squareRoot() }
    }
    let n = Double(standardW.count)
    // Pooled over 10 intervals, 40,000 values each: under the law both are N(0, 1) and
    // independent. KS at the 1 % level (1.63/√n); variances and the correlation within five
    // standard errors (√(2/n) for a variance, 1/√n for a correlation of independent normals).
    let cdf = { (x: Double) in 0.5 * erfc(-x / 2.0.squareRoot()) }
    #expect(kolmogorovSmirnov(standardW, cdf: cdf) < 1.63 / n.squareRoot())
    #expect(kolmogorovSmirnov(standardH, cdf: cdf) < 1.63 / n.squareRoot())
    let mW = sampleMoments(standardW), mH = sampleMoments(standardH)
    #expect(abs(mW.variance - 1) < 5 * (2 / n).squareRoot(), "Var ΔW/h = \(mW.variance)")
    #expect(abs(mH.variance - 1) < 5 * (2 / n).squareRoot(), "Var H/(h/12) = \(mH.variance)")
    let correlation = zip(standardW, standardH).reduce(0) { $0 + $1.0 * $1.1 } / n
    #expect(abs(correlation) < 5 / n.squareRoot(), "corr(ΔW, H) = \(correlation)")
  }

  @Test("Inside leaves too: ΔZ has variance h³/3 and covariance h²/2 with ΔW on a shallow tree")
  func bridgeLaw() throws {
    // Depth 3: both ends of each interval lie inside leaves (different ones), so ΔW and ΔZ are
    // made of two leaf bridges and whole nodes. In the units of the interval, ΔZ is ζ with
    // Var 1 after dividing by h^{3/2}/√3, ΔW·ΔZ/(h²/2) has variance 2 + 1/3: five standard errors.
    let tree = try BrownianTree(seed: 12, t0: 0, t1: 2, depth: 3)
    let rows = 20_000
    for (s, t) in [(0.13, 0.91), (0.3, 1.77), (1.01, 1.6)] {
      var w = [Double](repeating: 0, count: rows), z = w
      w.withUnsafeMutableBufferPointer { wp in
        z.withUnsafeMutableBufferPointer { zp in
          tree.fill(rows: 0..<rows, width: 1, from: s, to: t, increments: wp.baseAddress!, spaceTime: zp.baseAddress!)
        }
      }
      let h = t - s, n = Double(rows)
      let varW = w.reduce(0) { $0 + $1 * $1 } / n / h
      let varZ = z.reduce(0) { $0 + $1 * $1 } / n / (h * h * h / 3)
      let cov = zip(w, z).reduce(0) { $0 + $1.0 * $1.1 } / n / (h * h / 2)
      #expect(abs(varW - 1) < 5 * (2 / n).squareRoot(), "[\(s), \(t)] Var ΔW/h = \(varW)")
      #expect(abs(varZ - 1) < 5 * (2 / n).squareRoot(), "[\(s), \(t)] Var ΔZ/(h³/3) = \(varZ)")
      #expect(abs(cov - 1) < 5 * (7 / (3 * n)).squareRoot(), "[\(s), \(t)] Cov/(h²/2) = \(cov)")
    }
  }

  @Test("The covariance of W at random times is min(s, t)")
  func covariance() throws {
    let tree = try BrownianTree(seed: 21, t0: 0, t1: 1, depth: 16)
    let rows = 20_000, times = Self.randomTimes(6, seed: 2).sorted()
    // W at each time: the increment from t0.
    let paths = times.map { tree.increments(rows: 0..<rows, width: 1, from: 0, to: $0).w }
    let n = Double(rows)
    for a in times.indices {
      for b in a..<times.count {
        let product = zip(paths[a], paths[b]).reduce(0) { $0 + $1.0 * $1.1 } / n
        // Var(W_a W_b) = t_a t_b + min(t_a, t_b)² for jointly normal W; five standard errors.
        let expected = min(times[a], times[b])
        let standardError = ((times[a] * times[b] + expected * expected) / n).squareRoot()
        #expect(abs(product - expected) < 5 * standardError, "E[W(\(times[a]))W(\(times[b]))] = \(product)")
      }
    }
  }

  @Test("Additivity across arbitrary splits: W(s, u) = W(s, t) + W(t, u), ΔZ by the aggregate rule")
  func additivity() throws {
    for (t0, t1, depth) in [(0.0, 1.0, 12), (1.0, 1e-3, 20), (-2.0, 5.0, 4)] {
      let tree = try BrownianTree(seed: 33, t0: t0, t1: t1, depth: depth)
      let rows = 64, width = 2
      let fractions = Self.randomTimes(12, seed: 5)
      for k in 0..<4 {
        var three = [fractions[3 * k], fractions[3 * k + 1], fractions[3 * k + 2]].sorted()
        if k == 3 { three = [0, three[1], 1] }  // the whole interval, split anywhere
        let (s, t, u) = (t0 + three[0] * (t1 - t0), t0 + three[1] * (t1 - t0), t0 + three[2] * (t1 - t0))
        let whole = fillBoth(tree, rows: 0..<rows, width: width, s, u)
        let first = fillBoth(tree, rows: 0..<rows, width: width, s, t), second = fillBoth(tree, rows: 0..<rows, width: width, t, u)
        let size = abs(u - t)
        for e in 0..<(rows * width) {
          let w = first.w[e] + second.w[e], z = first.z[e] + second.z[e] + first.w[e] * size
          // The same leaves and nodes summed in another order: rounding only (values of order
          // √span, ~20 terms), 1e-12 relative to the interval's own scale.
          #expect(abs(whole.w[e] - w) <= 1e-12 * abs(t1 - t0).squareRoot(), "W at \(e)")
          #expect(abs(whole.z[e] - z) <= 1e-12 * pow(abs(t1 - t0), 1.5), "Z at \(e)")
        }
      }
    }
  }

  @Test("Any query order, kept nodes or not, and any batch of rows give the same bits")
  func queryOrder() throws {
    let tree = try BrownianTree(seed: 8, t0: 1, t1: 0.001, depth: 18)
    let times = Self.randomTimes(16, seed: 9).map { 1 - 0.999 * $0 }
    let intervals = (0..<8).map { (max(times[2 * $0], times[2 * $0 + 1]), min(times[2 * $0], times[2 * $0 + 1])) }
    let rows = 40..<75, width = 3
    // Fresh: each interval by `fill` (a new walker per call).
    let fresh = intervals.map { fillBoth(tree, rows: rows, width: width, $0.0, $0.1) }
    // One walker, forward then backward through the list, its kept nodes carried along.
    let walker = BrownianTree.Walker(tree: tree, capacity: rows.count, width: width)
    walker.reset(rows: rows)
    for order in [Array(intervals.indices), intervals.indices.reversed()] {
      for i in order {
        var w = [Double](repeating: 0, count: rows.count * width), z = w
        w.withUnsafeMutableBufferPointer { wp in
          z.withUnsafeMutableBufferPointer { zp in
            walker.increments(from: intervals[i].0, to: intervals[i].1, into: wp.baseAddress!, spaceTime: zp.baseAddress!)
          }
        }
        #expect(w == fresh[i].w && z == fresh[i].z, "interval \(i)")
      }
    }
    // Row by row (scalar normals) gives the bits of the group.
    let single = BrownianTree.Walker(tree: tree, capacity: 1, width: width)
    for row in rows {
      single.reset(rows: row..<(row + 1))
      for i in intervals.indices {
        var w = [Double](repeating: 0, count: width), z = w
        w.withUnsafeMutableBufferPointer { wp in
          z.withUnsafeMutableBufferPointer { zp in
            single.increments(from: intervals[i].0, to: intervals[i].1, into: wp.baseAddress!, spaceTime: zp.baseAddress!)
          }
        }
        let e = (row - rows.lowerBound) * width
        #expect(w == Array(fresh[i].w[e..<(e + width)]) && z == Array(fresh[i].z[e..<(e + width)]), "row \(row), interval \(i)")
      }
    }
  }

  @Test("A tree of depth 0 is its root with the root's bridge inside: the bits of depth 1 at the midpoint")
  func depthZero() throws {
    // Depth 0 places the midpoint by the leaf bridge at u = ½ from the normals of heap node 1,
    // which are the normals and coefficients depth 1 splits its root with: the same operations,
    // so the same bits over [t0, mid], [mid, t1] and [t0, t1], in either direction of time.
    for (t0, t1) in [(0.0, 2.0), (1.0, 0.25)] {
      let flat = try BrownianTree(seed: 17, t0: t0, t1: t1, depth: 0)
      let split = try BrownianTree(seed: 17, t0: t0, t1: t1, depth: 1)
      let mid = t0 + 0.5 * (t1 - t0)
      for (s, t) in [(t0, mid), (mid, t1), (t0, t1)] {
        let a = fillBoth(flat, rows: 3..<14, width: 2, s, t), b = fillBoth(split, rows: 3..<14, width: 2, s, t)
        #expect(a.w == b.w && a.z == b.z, "[\(s), \(t)] over [\(t0), \(t1)]")
      }
    }
    // What init(tolerance:) makes for a tolerance of the whole span, and an adaptive solve on
    // it: one step of the whole interval (dt_min is the leaf, the span).
    let tree = try BrownianTree(seed: 3, t0: 0, t1: 1, tolerance: 1)
    #expect(tree.depth == 0)
    let problem = GeometricBrownianMotion().problem(paths: 4)
    let solution = try solve(problem, solver: SRIW1(), settings: AdaptiveSDESettings(), noise: tree, threads: 1)
    #expect(solution.statistics.steps == 4 && solution.statistics.rejectedSteps == 0)
  }

  @Test("A fixed-grid solve on a tree keeps one walker per tile: the bits of a fresh walker per step", arguments: [1, 2])
  func solveKeepsWalker(threads: Int) throws {
    // 600 rows: tiles of 256 rows (three; two chunks on two threads); dyadic and non-dyadic
    // grids, both directions of time, ΔZ (SRA1, SRIW1) or not (Euler–Maruyama), scalar noise
    // (one Wiener process spread over three components) and diagonal.
    let rows = 600
    let decay = DriftFunction { x, _, out in for e in 0..<x.count { out[e] = -0.5 * x[e] } }
    let initial = StateBatch(count: rows, dimension: 3, values: (0..<(3 * rows)).map { 1 + Double($0 % 7) / 7 })
    let scalar = DiffusionFunction(noise: .scalar) { x, _, out in for e in 0..<x.count { out[e] = 0.3 * x[e] } }
    for (t0, t1, steps) in [(0.0, 1.0, 64), (1.0, 0.001, 50)] {
      let tree = try BrownianTree(seed: 6, t0: t0, t1: t1, depth: 12)
      let additive = SDEProblem(drift: decay, diffusion: ConstantDiffusion(0.4), initial: initial, t0: t0, t1: t1)
      let diagonal = SDEProblem(drift: decay, diffusion: LinearDiagonalDiffusion(scales: [0.2, 0.3, 0.4]),
                                initial: initial, t0: t0, t1: t1)
      let shared = SDEProblem(drift: decay, diffusion: scalar, initial: initial, t0: t0, t1: t1)
      func same<F: Drift, G: Diffusion, S: SDESolver>(_ problem: SDEProblem<F, G>, _ solver: S) throws {
        let kept = try solve(problem, solver: solver, grid: .uniform(steps: steps), noise: tree, saveAt: .everyStep,
                             firstSample: 7, threads: threads)
        let fresh = try solve(problem, solver: solver, grid: .uniform(steps: steps), noise: FillOnly(tree: tree),
                              saveAt: .everyStep, firstSample: 7, threads: threads)
        #expect(kept.states == fresh.states, "\(solver.descriptor.name) over [\(t0), \(t1)]")
      }
      try same(additive, SRA1())
      try same(diagonal, SRIW1())
      try same(diagonal, EulerMaruyama())
      try same(shared, EulerMaruyama())
      try same(shared, SRIW1())
    }
  }

  @Test("A fixed-grid solve on a tree reports the step and time where the state stopped being finite")
  func treeSolveFailure() throws {
    // Row 5's drift turns NaN once t ≥ 0.5, during step 4 of 8 (0.5 → 0.625). Without noise
    // (g = 0) each row keeps its row number, which marks it.
    let drift = DriftFunction { x, t, out in
      for e in 0..<x.count { out[e] = t >= 0.5 && x[e] == 5 ? .nan : 0 }
    }
    let problem = SDEProblem(drift: drift, diffusion: ConstantDiffusion(0),
                             initial: StateBatch(count: 10, dimension: 1, values: (0..<10).map(Double.init)), t0: 0, t1: 1)
    let tree = try BrownianTree(seed: 0, t0: 0, t1: 1, depth: 6)
    #expect(throws: SolveError.nonFinite(row: 5, step: 4, time: 0.625)) {
      try solveOnTree(problem, solver: EulerMaruyama(), steps: 8, tree: tree)
    }
  }

  @Test("The split is the leaf bridge at u = ½; bad settings are refused")
  func splitAndSettings() throws {
    let c = BridgeCoefficients(u: 0.5, h: 0.25)
    #expect(c.wW == -0.25 && c.wZ == 1.5 / 0.25 && c.w1 == 0.125 && c.zW == -0.25 / 8 && c.zZ == 0.5)
    #expect(abs(c.z1) < 1e-18 && abs(c.z2 - 0.125 / (8 * 3.0.squareRoot())) < 1e-17)
    #expect(throws: SolveError.self) { try BrownianTree(seed: 0, t0: 0, t1: 1, depth: 31) }
    #expect(throws: SolveError.self) { try BrownianTree(seed: 0, t0: 0, t1: 1, tolerance: 0) }
    #expect(throws: SolveError.self) { try BrownianTree(seed: 0, t0: 0, t1: 1, tolerance: 1e-12) }
    #expect(throws: SolveError.self) { try BrownianTree(seed: 0, t0: 1, t1: 1, depth: 3) }
    #expect(try BrownianTree(seed: 0, t0: 0, t1: 1, tolerance: 1e-6).depth == 20)
    #expect(try BrownianTree(seed: 0, t0: 0, t1: 1, tolerance: 0.5).depth == 1)
  }
}

private func fillBoth(_ tree: BrownianTree, rows: Range<Int>, width: Int, _ s: Double, _ t: Double)
  -> (w: [Double], z: [Double]) {
  var w = [Double](repeating: 0, count: rows.count * width), z = w
  w.withUnsafeMutableBufferPointer { wp in
    z.withUnsafeMutableBufferPointer { zp in
      tree.fill(rows: rows, width: width, from: s, to: t, increments: wp.baseAddress!, spaceTime: zp.baseAddress!)
    }
  }
  return (w, z)
}

/// The tree seen only through `BrownianSource.fill`: a fresh walker for every step.
private struct FillOnly: BrownianSource {
  let tree: BrownianTree
  func validate(times: [Double]) throws { try tree.validate(times: times) }
  func fill(rows: Range<Int>, width: Int, step: GridStep, increments: UnsafeMutablePointer<Double>,
            spaceTime: UnsafeMutablePointer<Double>?) {
    tree.fill(rows: rows, width: width, step: step, increments: increments, spaceTime: spaceTime)
  }
}
