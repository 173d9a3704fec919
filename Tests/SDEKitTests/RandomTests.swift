import CSIMDMath
import Foundation
import Testing
@testable import SDEKit

@Suite("Random numbers and Brownian increments")
struct RandomTests {
  @Test("Philox4x32-10 reproduces the Random123 known-answer vectors")
  func philoxKnownAnswers() {
    // Exact targets from Random123's kat_vectors file (counter, key → output).
    let cases: [(SIMD4<UInt32>, SIMD2<UInt32>, SIMD4<UInt32>)] = [
      (SIMD4(0, 0, 0, 0), SIMD2(0, 0), SIMD4(0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8)),
      (SIMD4(repeating: .max), SIMD2(repeating: .max), SIMD4(0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd)),
      (SIMD4(0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344), SIMD2(0xa409_3822, 0x299f_31d0),
       SIMD4(0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1)),
    ]
    for (counter, key, expected) in cases {
      #expect(Philox4x32(key: key).block(counter) == expected)
    }
  }

  @Test("Each of the eight Philox lanes is the block of its own counter")
  func philoxLanes() {
    // Lane ℓ must not depend on the other lanes: compare with the same counter in every lane.
    let generator = Philox4x32(seed: 0xDEAD_BEEF_1234)
    let low = SIMD8<UInt64>(0, 1, 2, 0xFFFF_FFFF, 77, 1 << 31, 5, 6)
    let high = SIMD8<UInt64>(0, 0, 9, 0xFFFF_FFFF, 3, 1, 0, 2)
    let lanes = generator.blocks(12, 34, low, high)
    for l in 0..<8 {
      let w = generator.block(12, 34, UInt32(low[l]), UInt32(high[l]))
      #expect([UInt64(w.0), UInt64(w.1), UInt64(w.2), UInt64(w.3)] == [lanes.0[l], lanes.1[l], lanes.2[l], lanes.3[l]])
    }
  }

  @Test("The vector logarithm agrees with libm to a few ulp")
  func vectorLog() {
    // Every u = (a + 1)/2³² the ziggurat's tail can draw, sampled on a grid plus the extremes,
    // and values across the exponent range; 4 ulp (relative 1e-15).
    var worst = 0.0
    var inputs: [Double] = [0x1p-32, 0.5, 1, 0.7071067811865476, 0.7071067811865475, 1 - 0x1p-32, 1e-300, 3.7, 1e300]
    for k in 0..<4000 { inputs.append((Double(k) * 1_073_741.3 + 1).rounded() * 0x1p-32) }
    for start in stride(from: 0, to: inputs.count - 7, by: 8) {
      let u = SIMD8<Double>(inputs[start..<(start + 8)])
      let ln = VectorMath.log(u)
      for l in 0..<8 {
        let exact = Foundation.log(u[l])
        if exact != 0 { worst = max(worst, abs(ln[l] - exact) / abs(exact)) } else { #expect(ln[l] == 0) }
      }
    }
    #expect(worst < 1e-15, "worst relative log error \(worst)")
  }

  @Test("The ziggurat's layers all have the area of the base layer, and they close at x = 0")
  func zigguratTables() {
    let z = Ziggurat.shared
    let v = Ziggurat.v
    // Layer i ≥ 1 spans heights f(X_i) … f(X_{i+1}) at half-width X_i = step_i·2²¹; the base
    // layer is X₀·f(r) = v by construction. Built from r and v in double precision through 1023
    // steps of the recurrence, each area is v to a relative 5e-12 (the last layers amplify the
    // rounding of the first: 2.9e-12 at the top layer, below 1e-12 elsewhere).
    let n = Ziggurat.layers, width = 1 / Ziggurat.latticeStep
    #expect(n == 1024 && width == 0x1p21)
    #expect(abs(z.step(0) * width * z.density[1] - v) <= 1e-15 * v)
    for i in 1..<n {
      let area = z.step(i) * width * (z.density[i + 1] - z.density[i])
      #expect(abs(area - v) <= 5e-12 * v, "layer \(i): area \(area)")
      #expect(z.inner(i) < z.step(i) * width, "layer \(i) must be narrower than the one below")
    }
    #expect(z.inner(0) == Ziggurat.r)
    #expect(z.inner(n - 1) == 0 && z.density[n] == 1)
  }

  @Test("Normal numbers pass Kolmogorov–Smirnov and match four moments")
  func normalsDistribution() {
    let n = 200_000
    let source = NormalSource(seed: 2024)
    var z = [Double](repeating: 0, count: n)
    // 1000 rows × 200 numbers: exercises the row and index parts of the address.
    z.withUnsafeMutableBufferPointer { buffer in
      for row in 0..<1000 { source.fill(row: row, stream: .brownian(interval: 7), count: 200, into: buffer.baseAddress! + row * 200) }
    }
    let moments = sampleMoments(z)
    // Five standard errors of each moment estimator under N(0,1): mean 1/√n, variance √(2/n),
    // skewness √(6/n), kurtosis √(24/n); a fixed seed makes the test deterministic.
    let nd = Double(n)
    #expect(abs(moments.mean) < 5 / nd.squareRoot())
    #expect(abs(moments.variance - 1) < 5 * (2 / nd).squareRoot())
    #expect(abs(moments.skewness) < 5 * (6 / nd).squareRoot())
    #expect(abs(moments.kurtosis - 3) < 5 * (24 / nd).squareRoot())
    // KS critical value at significance 0.001 is 1.949/√n.
    let d = kolmogorovSmirnov(z) { 0.5 * erfc(-$0 / 2.0.squareRoot()) }
    #expect(d < 1.949 / nd.squareRoot(), "KS statistic \(d)")
  }

  @Test("Normals depend only on their address, not on how they are requested")
  func normalsAddressed() {
    let source = NormalSource(seed: 99)
    var all = [Double](repeating: 0, count: 11)
    all.withUnsafeMutableBufferPointer { source.fill(row: 5, stream: .brownian(interval: 3), count: 11, into: $0.baseAddress!) }
    for i in 0..<11 {
      #expect(source.normal(row: 5, stream: .brownian(interval: 3), index: i) == all[i])
    }
    var tail = [Double](repeating: 0, count: 6)
    tail.withUnsafeMutableBufferPointer { source.fill(row: 5, stream: .brownian(interval: 3), first: 5, count: 6, into: $0.baseAddress!) }
    #expect(Array(all[5...]) == tail)
    #expect(source.normal(row: 6, stream: .brownian(interval: 3), index: 0) != all[0])
    #expect(source.normal(row: 5, stream: .brownian(interval: 4), index: 0) != all[0])
  }

  @Test("Ziggurat candidates are symmetric, and the vector and scalar forms agree")
  func zigguratCandidates() {
    // A word and its mirror (same layer, lattice index 2²² − 1 − m) give x and −x exactly; a
    // word accepted at once gives the same value through `resolve`, the scalar path.
    let z = Ziggurat.shared
    let philox = Philox4x32(seed: 8)
    for k in 0..<2_000 {
      let w = philox.block(UInt32(k), 0, 0, 0)
      let words = SIMD8<UInt64>(UInt64(w.0), UInt64(w.1), UInt64(w.2), UInt64(w.3),
                                UInt64(w.0 ^ 0x8000_0000), UInt64(w.1 & 0x3FF), UInt64(w.2 | 0xFFFF_FC00), UInt64(w.3 ^ 0x3FF))
      let mirrors = (words & 0x3FF) | ((0x3F_FFFF &- (words &>> 10)) &<< 10)
      let (x, rejected) = candidates(words, z), (y, _) = candidates(mirrors, z)
      for lane in 0..<8 {
        #expect(x[lane] == -y[lane], "word \(words[lane])")
        if rejected & (1 << lane) == 0 {
          #expect(x[lane] == z.resolve(word: UInt32(words[lane]), generator: philox, row: 0, step: 0, index: 0))
        }
      }
    }
  }

  @Test("Normals beyond the ziggurat's base and in its far tail come at the Gaussian rates")
  func normalsTails() {
    // 4·10⁶ numbers. Beyond r = 4.039 (the tail algorithm) the expected count is n·2Φ(−r) ≈ 215
    // and beyond 4.5 about 27; each count is Poisson, bounded by five standard errors (√count).
    let rows = 50_000, count = 80
    let source = NormalSource(seed: 77)
    var z = [Double](repeating: 0, count: rows * count)
    z.withUnsafeMutableBufferPointer { source.fill(rows: 0..<rows, stream: .brownian(interval: 5), count: count, scale: 1, into: $0.baseAddress!) }
    let n = Double(z.count)
    for threshold in [Ziggurat.r, 4.5] {
      let expected = n * erfc(threshold / 2.0.squareRoot())
      let observed = Double(z.lazy.filter { abs($0) > threshold }.count)
      #expect(abs(observed - expected) < 5 * expected.squareRoot(), "beyond \(threshold): \(observed) against \(expected)")
    }
    // Positive and negative halves balance (the lattice is symmetric): 5 standard errors of a
    // binomial proportion.
    let positive = Double(z.lazy.filter { $0 > 0 }.count)
    #expect(abs(positive / n - 0.5) < 5 * (0.25 / n).squareRoot())
  }

  @Test("Normals are the same requested together, one row at a time, or from an odd first row")
  func normalsIndependentOfRequest() {
    // 4,000 rows × 8 numbers hold about 140 that the ziggurat finishes out of line (0.43 %), in
    // every lane position; each must not depend on the rows asked for with it.
    let source = NormalSource(seed: 5)
    let rows = 4_000, count = 8
    var together = [Double](repeating: 0, count: rows * count)
    together.withUnsafeMutableBufferPointer { source.fill(rows: 0..<rows, stream: .brownian(interval: 2), count: count, scale: 1, into: $0.baseAddress!) }
    var shifted = [Double](repeating: 0, count: (rows - 13) * count)
    shifted.withUnsafeMutableBufferPointer { source.fill(rows: 13..<rows, stream: .brownian(interval: 2), count: count, scale: 1, into: $0.baseAddress!) }
    #expect(Array(together[(13 * count)...]) == shifted)
    for row in stride(from: 0, to: rows, by: 7) {
      var one = [Double](repeating: 0, count: count)
      one.withUnsafeMutableBufferPointer { source.fill(row: row, stream: .brownian(interval: 2), count: count, into: $0.baseAddress!) }
      #expect(Array(together[(row * count)..<((row + 1) * count)]) == one, "row \(row)")
    }
  }

  @Test("ΔW and ΔZ have the exact joint Gaussian law and ΔW passes Kolmogorov–Smirnov")
  func incrementsLaw() {
    let rows = 100_000, h = 0.01
    let source = BrownianIncrements(seed: 1)
    var w = [Double](repeating: 0, count: rows), z = w
    w.withUnsafeMutableBufferPointer { wp in
      z.withUnsafeMutableBufferPointer { zp in
        source.fill(rows: 0..<rows, width: 1, step: GridStep(index: 0, count: 1, t: 0, next: h),
                    increments: wp.baseAddress!, spaceTime: zp.baseAddress!)
      }
    }
    let n = Double(rows)
    let standardized = w.map { $0 / h.squareRoot() }
    let m = sampleMoments(standardized)
    // Same five-standard-error bounds as for the normals.
    #expect(abs(m.mean) < 5 / n.squareRoot())
    #expect(abs(m.variance - 1) < 5 * (2 / n).squareRoot())
    #expect(abs(m.skewness) < 5 * (6 / n).squareRoot())
    #expect(abs(m.kurtosis - 3) < 5 * (24 / n).squareRoot())
    #expect(kolmogorovSmirnov(standardized) { 0.5 * erfc(-$0 / 2.0.squareRoot()) } < 1.949 / n.squareRoot())
    // Var ΔZ = h³/3 and Cov(ΔW, ΔZ) = h²/2. In those units ΔZ² is ζ² with ζ ~ N(0,1)
    // (variance 2), and ΔW·ΔZ is ξ₁² + ξ₁ξ₂/√3 (variance 2 + 1/3); bounds are five standard errors.
    let varZ = z.reduce(0) { $0 + $1 * $1 } / n / (h * h * h / 3)
    let cov = zip(w, z).reduce(0) { $0 + $1.0 * $1.1 } / n / (h * h / 2)
    #expect(abs(varZ - 1) < 5 * (2 / n).squareRoot())
    #expect(abs(cov - 1) < 5 * (7 / (3 * n)).squareRoot())
  }

  @Test("Coarse ΔW and ΔZ are the aggregates of the fine ones")
  func gridAggregation() {
    let grid = BrownianGrid(seed: 11, t0: 0, t1: 1, finestSteps: 1 << 6)
    let rows = 50, width = 3
    for level in 0..<6 {
      let coarseSteps = 1 << level, fineSteps = coarseSteps * 2
      let hc = 1.0 / Double(coarseSteps), hf = hc / 2
      for step in 0..<coarseSteps {
        let coarse = fill(grid, rows: rows, width: width, step: step, of: coarseSteps, h: hc)
        let first = fill(grid, rows: rows, width: width, step: 2 * step, of: fineSteps, h: hf)
        let second = fill(grid, rows: rows, width: width, step: 2 * step + 1, of: fineSteps, h: hf)
        for e in 0..<(rows * width) {
          let w = first.w[e] + second.w[e]
          let z = first.z[e] + second.z[e] + first.w[e] * hf
          // Exact identities up to the rounding of a few additions: 1e-12 relative.
          #expect(abs(coarse.w[e] - w) <= 1e-12 * max(abs(w), 1e-300))
          #expect(abs(coarse.z[e] - z) <= 1e-12 * max(abs(z), 1e-300))
        }
      }
    }
    // At the finest level the grid is the per-step source with the same seed.
    let finest = fill(grid, rows: rows, width: width, step: 17, of: 64, h: 1.0 / 64)
    let perStep = fill(BrownianIncrements(seed: 11), rows: rows, width: width, step: 17, of: 64, h: 1.0 / 64)
    #expect(finest.w == perStep.w)
    #expect(finest.z == perStep.z)
  }

  @Test("A row's increments do not depend on the rows requested with it", arguments: [1, 2])
  func rowsIndependentOfBatch(_ width: Int) {
    // Whole groups of 32 rows (copied as vectors when one wide) against part groups (element by
    // element): rows 40 ..< 50 lie inside a group, and from row 13 the groups after the first
    // start at an odd offset in the output.
    let source = BrownianIncrements(seed: 3)
    let all = fill(source, rows: 100, width: width, step: 9, of: 10, h: 0.1)
    for part in [40..<50, 13..<100] {
      var w = [Double](repeating: 0, count: part.count * width), z = w
      w.withUnsafeMutableBufferPointer { wp in
        z.withUnsafeMutableBufferPointer { zp in
          source.fill(rows: part, width: width, step: GridStep(index: 9, count: 10, t: 9 * 0.1, next: 10 * 0.1),
                      increments: wp.baseAddress!, spaceTime: zp.baseAddress!)
        }
      }
      let range = (part.lowerBound * width)..<(part.upperBound * width)
      #expect(Array(all.w[range]) == w, "rows \(part)")
      #expect(Array(all.z[range]) == z, "rows \(part)")
    }
  }
}

func fill<B: BrownianSource>(_ source: B, rows: Int, width: Int, step: Int, of steps: Int, h: Double)
  -> (w: [Double], z: [Double]) {
  var w = [Double](repeating: 0, count: rows * width), z = w
  w.withUnsafeMutableBufferPointer { wp in
    z.withUnsafeMutableBufferPointer { zp in
      source.fill(rows: 0..<rows, width: width,
                  step: GridStep(index: step, count: steps, t: Double(step) * h, next: Double(step + 1) * h),
                  increments: wp.baseAddress!, spaceTime: zp.baseAddress!)
    }
  }
  return (w, z)
}

func sampleMoments(_ x: [Double]) -> (mean: Double, variance: Double, skewness: Double, kurtosis: Double) {
  let n = Double(x.count)
  let mean = x.reduce(0, +) / n
  var m2 = 0.0, m3 = 0.0, m4 = 0.0
  for v in x {
    let d = v - mean
    m2 += d * d
    m3 += d * d * d
    m4 += d * d * d * d
  }
  m2 /= n
  m3 /= n
  m4 /= n
  return (mean, m2, m3 / pow(m2, 1.5), m4 / (m2 * m2))
}

/// The Kolmogorov–Smirnov statistic sup |F_n − F| of a sample against a continuous CDF.
func kolmogorovSmirnov(_ sample: [Double], cdf: (Double) -> Double) -> Double {
  let sorted = sample.sorted()
  let n = Double(sorted.count)
  var d = 0.0
  for (i, x) in sorted.enumerated() {
    let f = cdf(x)
    d = max(d, abs(f - Double(i) / n), abs(Double(i + 1) / n - f))
  }
  return d
}

/// The ziggurat's candidates for eight words as `NormalSource` makes them (the C kernel), and bit
/// ℓ set for each lane ℓ not accepted at once.
private func candidates(_ words: SIMD8<UInt64>, _ z: Ziggurat) -> (values: SIMD8<Double>, rejected: Int32) {
  var rejected: Int32 = 0
  let values = sdekit_ziggurat_candidates8(words, z.layerTable, &rejected)
  return (values, rejected)
}
