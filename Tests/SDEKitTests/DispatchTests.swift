import CSIMDMath
import Foundation
import Testing
@testable import SDEKit

/// The vector kernels are compiled once per SIMD level and one level is picked per process; these
/// tests run the same work at every level this machine supports and demand the same bits, and
/// check the per-step kernels against the Swift loops they replaced. The tolerance is zero
/// everywhere: every operation in the kernels is exact or one correctly rounded IEEE operation.
@Suite("SIMD levels: every level gives the same bits")
struct DispatchTests {
  /// The bit patterns `body` gives at each supported level, which must all equal the baseline's
  /// (the first level). Returns the baseline's.
  @discardableResult
  func sameOnEveryLevel(_ what: String, _ body: () throws -> [Double]) rethrows -> [UInt64] {
    let levels = SIMDLevel.supported
    #expect(levels.first == .baseline)
    let reference = try SIMDLevel.with(.baseline) { try body().map(\.bitPattern) }
    for level in levels.dropFirst() {
      let bits = try SIMDLevel.with(level) { try body().map(\.bitPattern) }
      let first = bits.indices.first { $0 >= reference.count || bits[$0] != reference[$0] }
      #expect(bits.count == reference.count && first == nil,
              "\(what): level \(level) differs from the baseline at element \(first ?? -1) of \(bits.count)")
    }
    return reference
  }

  /// A new buffer holding `values` (the caller deallocates it).
  func copy(_ values: [Double]) -> UnsafeMutablePointer<Double> {
    let p = UnsafeMutablePointer<Double>.allocate(capacity: max(1, values.count))
    p.initialize(from: values, count: values.count)
    return p
  }

  /// Values in [−s, s) from a fixed generator, so a failure reproduces.
  func values(_ count: Int, seed: UInt64, scale s: Double = 3) -> [Double] {
    var state = seed
    return (0..<count).map { _ in
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return (Double(state >> 11) * 0x1p-53 * 2 - 1) * s
    }
  }

  @Test("The process runs the best level the CPU supports, unless SDEKIT_ISA says otherwise")
  func levelInUse() {
    let supported = SIMDLevel.supported
    #expect(supported.contains(.baseline))
    #expect(supported == SIMDLevel.allCases.filter(\.isSupported))
    // Levels only add to each other: a CPU that runs one runs every lower one.
    #expect(supported == Array(SIMDLevel.allCases.prefix(supported.count)))
    if ProcessInfo.processInfo.environment["SDEKIT_ISA", default: ""].isEmpty {
      #expect(SIMDLevel.with(.baseline) { SIMDLevel.current } == .baseline)
    }
    #expect(SIMDLevel.allCases.map(\.description) == ["baseline", "avx2", "avx512"])
  }

  @Test("Normal numbers, Philox blocks, ziggurat candidates and exp are byte-identical on every level")
  func randomNumbers() {
    let normals = NormalSource(seed: 0x5EED)
    // Rows 3 ..< 205: partial groups of 32 at both ends; widths through every copy path (one,
    // two, under eight, a multiple of eight, and eight plus a remainder).
    for count in [1, 2, 3, 5, 8, 13, 64] {
      sameOnEveryLevel("normals, \(count) per row") {
        var out = [Double](repeating: 0, count: 202 * count)
        out.withUnsafeMutableBufferPointer { normals.fill(rows: 3..<205, stream: .brownian(interval: 9), count: count, scale: 0.7, into: $0.baseAddress!) }
        return out
      }
    }
    sameOnEveryLevel("Philox blocks") {
      let generator = Philox4x32(seed: 99)
      var words: [Double] = []
      for c in 0..<64 {
        let low = SIMD8<UInt64>(0, 1, 2, 3, 4, 5, 6, 7) &+ UInt64(8 * c), high = SIMD8<UInt64>(repeating: UInt64(c))
        let b = generator.blocks(UInt32(c), 7, low, high)
        for l in 0..<8 { words += [b.0[l], b.1[l], b.2[l], b.3[l]].map { Double($0) } }
      }
      return words
    }
    sameOnEveryLevel("ziggurat candidates") {
      let generator = Philox4x32(seed: 3)
      var out: [Double] = []
      for c in 0..<512 {
        let words = generator.blocks(UInt32(c), 0, SIMD8(0, 1, 2, 3, 4, 5, 6, 7), SIMD8(repeating: 0)).0
        var rejected: Int32 = 0
        let x = sdekit_ziggurat_candidates8(words, Ziggurat.shared.layerTable, &rejected)
        for l in 0..<8 { out.append(x[l]) }
        out.append(Double(rejected))
      }
      return out
    }
    // exp over its whole range, the clamp below −708 and the overflow above 709 included.
    sameOnEveryLevel("exp") {
      var out: [Double] = []
      for x in stride(from: -760.0, through: 712, by: 0.173) {
        let y = VectorMath.exp(VectorMath.Lanes(x, -x / 3, x / 700, 1e-3 * x, -0.0, x * x / 1e3, 0.5, -x))
        for l in 0..<8 { out.append(y[l]) }
      }
      return out
    }
  }

  @Test("Brownian increments (ΔW and ΔZ, fine and coarse) are byte-identical on every level")
  func brownianIncrements() {
    for width in [1, 3] {
      sameOnEveryLevel("increments, width \(width)") {
        let rows = 7..<170, n = rows.count * width
        var dW = [Double](repeating: 0, count: n), dZ = dW, coarse = dW, coarseZ = dW
        // One step of a uniform grid of 8, and the same step from a grid 8 times finer (coarse
        // increments as sums of fine ones, ΔZ through the bridge).
        let step = GridStep(index: 3, count: 8, t: 0.375, next: 0.5)
        BrownianIncrements(seed: 5).fill(rows: rows, width: width, step: step, increments: &dW, spaceTime: &dZ)
        BrownianGrid(seed: 5, t0: 0, t1: 1, finestSteps: 64).fill(
          rows: rows, width: width, step: step, increments: &coarse, spaceTime: &coarseZ)
        return dW + dZ + coarse + coarseZ
      }
    }
  }

  @Test("Every SDE solver and Dormand–Prince give byte-identical solutions on every level")
  func solutions() throws {
    for name in SolverName.allCases {
      switch name.solver {
      case .sde(let method):
        // Additive noise (OU, two dimensions, 37 paths: blocks of eight and a remainder) and, where
        // the method takes it, diagonal noise (GBM, W4's problem, in the method's calculus).
        try sameOnEveryLevel("\(name.rawValue) on OU") {
          var problem = OrnsteinUhlenbeck().problem(paths: 37)
          problem.initial = StateBatch(count: 37, repeatingRow: [3, -1])
          return try solve(problem, solver: method, grid: .uniform(steps: 20), seed: 11).final.values
        }
        if method.descriptor.orders.contains(where: { $0.noise == .diagonal }) {
          try sameOnEveryLevel("\(name.rawValue) on GBM") {
            let gbm = GeometricBrownianMotion(calculus: method.descriptor.calculus == .stratonovich ? .stratonovich : .ito)
            return try solve(gbm.problem(paths: 37), solver: method, grid: .uniform(steps: 20), seed: 11).final.values
          }
        }
      case .ode, .adaptiveODE:
        continue
      }
    }
    try sameOnEveryLevel("dopri5 on Lotka–Volterra") {
      try DormandPrince5(settings: AdaptiveSettings(tolerance: 1e-8)).integrate(
        LotkaVolterra().problem(), through: [1, 5]).states.flatMap(\.values)
    }
  }

  @Test("The Euler–Maruyama and stochastic Runge–Kutta update kernels give the bits of the Swift loops they replaced")
  func updateKernels() {
    // Lengths below, at and around the eight-wide vectors, at an odd offset into the buffers.
    for n in [0, 1, 7, 8, 9, 37] {
      let x0 = values(n + 1, seed: 1), f = values(n + 1, seed: 2), g = values(n + 1, seed: 3)
      let dW = values(n + 1, seed: 4), dZ = values(n + 1, seed: 5)
      let h = -0.013, gScalar = 1.7, absH = 0.013
      // The loops as EulerMaruyama.step and StochasticRungeKuttaMethod.step wrote them before.
      var additive = Array(x0[1...]), diagonal = additive, integrals = additive, stage = additive
      for e in 0..<n { additive[e] += h * f[e + 1] + gScalar * dW[e + 1] }
      for e in 0..<n { diagonal[e] += h * f[e + 1] + g[e + 1] * dW[e + 1] }
      var i11 = [Double](repeating: 0, count: n), i111 = i11
      for e in 0..<n {
        let w = dW[e + 1]
        i11[e] = 0.5 * (w * w - absH)
        i111[e] = w * (w * w - 3 * absH) / 6
      }
      let (b1, b2, b3, b4) = (0.3, -1.1, 2.5, 0.25)
      for e in 0..<n { integrals[e] += g[e + 1] * (b1 * dW[e + 1] + b2 * i11[e] + b3 * dZ[e + 1] + b4 * i111[e]) }
      for e in 0..<n { stage[e] += 0.4 * f[e + 1] }
      let expected = additive + diagonal + i11 + i111 + integrals + stage
      let kernels = sameOnEveryLevel("updates, n = \(n)") {
        // Fresh copies, each starting one element into its buffer (an odd alignment).
        let buffers = [x0, x0, x0, x0, f, g, dW, dZ].map { copy($0) }
        defer { buffers.forEach { $0.deallocate() } }
        let (x, y, z, w) = (buffers[0] + 1, buffers[1] + 1, buffers[2] + 1, buffers[3] + 1)
        let (fp, gp, dWp, dZp) = (buffers[4] + 1, buffers[5] + 1, buffers[6] + 1, buffers[7] + 1)
        let j11 = UnsafeMutablePointer<Double>.allocate(capacity: n + 1), j111 = UnsafeMutablePointer<Double>.allocate(capacity: n + 1)
        defer { j11.deallocate(); j111.deallocate() }
        eulerMaruyamaUpdate(UnsafeMutableBufferPointer(start: x, count: n), h: h,
                            drift: UnsafeMutableBufferPointer(start: fp, count: n), diffusion: gScalar,
                            increments: UnsafeBufferPointer(start: dWp, count: n))
        eulerMaruyamaUpdate(UnsafeMutableBufferPointer(start: y, count: n), h: h,
                            drift: UnsafeMutableBufferPointer(start: fp, count: n),
                            diffusion: UnsafeMutableBufferPointer(start: gp, count: n),
                            increments: UnsafeBufferPointer(start: dWp, count: n))
        stochasticRungeKuttaIntegrals(count: n, increments: dWp, absStep: absH, i11: j11, i111: j111)
        stochasticRungeKuttaDiffusionUpdate(count: n, z, gp, b1, dWp, b2, j11, b3, dZp, b4, j111)
        stochasticRungeKuttaDriftUpdate(count: n, w, 0.4, fp)
        return [x, y, j11, j111, z, w].flatMap { (p: UnsafeMutablePointer<Double>) in Array(UnsafeBufferPointer(start: p, count: n)) }
      }
      #expect(kernels == expected.map(\.bitPattern), "updates, n = \(n): the kernels differ from the Swift loops")
    }
  }

  @Test("Stage sums give the bits of one pass per term, for any mix of terms, with and without a base")
  func stageSums() {
    let n = 45
    let buffers = (0..<7).map { values(n, seed: 20 + UInt64($0)) }
    let coefficients = [0.3, -1.25, 7.5e-3, 2, -0.5, 1e5, 0.125]
    // Term patterns: each length up to seven, factors (ΔZ in a drift stage) in several places, so
    // the passes of up to four plain terms split in every way.
    let patterns: [[Bool]] = [[], [false], [true], [false, false, false, false, false], [false, true, false, false],
                              [true, true], [false, false, true, false, false, false, false], [false, false, false, true]]
    for pattern in patterns {
      for withBase in [false, true] {
        // The reference: out = base (or 0), then one pass per term, out[e] = out[e] + c·v[e]
        // (times the factor): the sum the kernel must reproduce.
        var expected = withBase ? buffers[6] : [Double](repeating: 0, count: n)
        for (t, hasFactor) in pattern.enumerated() {
          for e in 0..<n {
            expected[e] = hasFactor ? expected[e] + coefficients[t] * buffers[t][e] * buffers[5][e]
              : expected[e] + coefficients[t] * buffers[t][e]
          }
        }
        let kernel = sameOnEveryLevel("stage sum \(pattern), base \(withBase)") {
          var out = [Double](repeating: .nan, count: n)
          let pointers = buffers.map { UnsafePointer(copy($0)) }
          defer { pointers.forEach { UnsafeMutablePointer(mutating: $0).deallocate() } }
          let terms = pattern.enumerated().map { t, hasFactor in
            StageTerm(coefficients[t], pointers[t], times: hasFactor ? pointers[5] : nil)
          }
          out.withUnsafeMutableBufferPointer { out in
            terms.withUnsafeBufferPointer { terms in
              // Two calls over parts of the elements, as the solvers' blocks make them.
              addStageTerms(terms, to: withBase ? pointers[6] : nil, into: out.baseAddress!, elements: 0..<13)
              addStageTerms(terms, to: withBase ? pointers[6] : nil, into: out.baseAddress!, elements: 13..<n)
            }
          }
          return out
        }
        #expect(kernel == expected.map(\.bitPattern), "stage sum \(pattern), base \(withBase)")
      }
    }
  }

  @Test("The non-finite scan finds the first NaN or infinity at every position on every level")
  func nonFinite() {
    for level in SIMDLevel.supported {
      SIMDLevel.with(level) {
        for n in [1, 8, 19, 64] {
          #expect(firstNonFiniteRow(values(n, seed: 9, scale: 1e308), dimension: 1) == nil)
          for position in 0..<n {
            for bad in [Double.nan, .infinity, -.infinity] {
              var v = values(n, seed: 9)
              v[position] = bad
              if position + 2 < n { v[position + 2] = .nan }  // a later one must not win
              #expect(firstNonFiniteRow(v, dimension: 1) == position, "\(level): \(bad) at \(position) of \(n)")
            }
          }
        }
      }
    }
  }
}
