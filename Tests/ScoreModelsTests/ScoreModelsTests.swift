import Foundation
import SDEKit
import Testing
@testable import ScoreModels

@Suite("Processes, exact mixture scores and parameterisations")
struct ScoreModelsTests {
  static let processes: [ProcessName] = ProcessName.allCases

  @Test("Mean and variance of every process solve the linear SDE's moment equations", arguments: processes)
  func momentEquations(_ name: ProcessName) {
    // For dx = c x dt + g dW: da/dt = c a and d(s²)/dt = 2 c s² + g². Central differences with
    // h = 1e-6 have error O(h²·|third derivative|) ≈ 1e-9 here; assert 1e-6 relative. The times
    // lie between the DDPM chain's steps (t_i = (i + 1)/1000), where its β is constant.
    let p = name.process
    for t in [0.0505, 0.3005, 0.6005, 0.9005] {
      let h = 1e-6
      let dA = (p.meanCoefficient(t + h) - p.meanCoefficient(t - h)) / (2 * h)
      let s2 = { (u: Double) in p.standardDeviation(u) * p.standardDeviation(u) }
      let dS = (s2(t + h) - s2(t - h)) / (2 * h)
      let c = p.driftRate(t), g = p.diffusion(t), a = p.meanCoefficient(t)
      #expect(abs(dA - c * a) <= 1e-6 * max(abs(c * a), 1e-3), "\(name) t = \(t): da/dt")
      #expect(abs(dS - (2 * c * s2(t) + g * g)) <= 1e-6 * max(abs(2 * c * s2(t) + g * g), 1e-3), "\(name) t = \(t): ds²/dt")
    }
  }

  @Test("Exact scores equal the gradient of the exact log p_t", arguments: processes)
  func scoreIsGradient(_ name: ProcessName) {
    let process = name.process
    for target in TargetName.allCases {
      let mixture = target.mixture, d = mixture.dimension
      let rows = target == .gmm64d16 ? 4 : 16
      for t in [process.defaultEpsilon, 0.1, 0.5, process.T] {
        // Points from p_t itself: a·x₀ + s·z with x₀ exact samples.
        let x0 = mixture.sample(count: rows, seed: 3)
        let a = process.meanCoefficient(t), s = process.standardDeviation(t)
        var x = x0.values
        for e in x.indices { x[e] = a * x[e] + s * NormalSource(seed: 4).normal(row: e / d, stream: .brownian(interval: 0), index: e % d) }
        var score = [Double](repeating: 0, count: x.count)
        x.withUnsafeBufferPointer { xp in
          score.withUnsafeMutableBufferPointer { mixture.evaluate(xp, a: a, s: s, logDensity: nil, score: $0) }
        }
        var worst = 0.0
        for e in x.indices {
          let h = 1e-5 * max(1, abs(x[e]))
          var plus = x, minus = x
          plus[e] += h
          minus[e] -= h
          let difference = (logDensity(mixture, plus, a, s)[e / d] - logDensity(mixture, minus, a, s)[e / d]) / (plus[e] - minus[e])
          worst = max(worst, abs(difference - score[e]) / (abs(score[e]) + 1))
        }
        // Central differences: truncation ≈ h²·|∂³ log p|/6 and rounding ≈ 1e-16·|log p|/h,
        // both below 1e-8 at these points; the bound is 1e-6 relative.
        #expect(worst < 1e-6, "\(name) \(target) t = \(t): worst relative difference \(worst)")
      }
    }
  }

  func logDensity(_ mixture: GaussianMixture, _ x: [Double], _ a: Double, _ s: Double) -> [Double] {
    var out = [Double](repeating: 0, count: x.count / mixture.dimension)
    x.withUnsafeBufferPointer { xp in
      out.withUnsafeMutableBufferPointer { mixture.evaluate(xp, a: a, s: s, logDensity: $0, score: nil) }
    }
    return out
  }

  @Test("DDPM's ᾱ_i matches the continuous process's a(t_i)²", arguments: DDPMSchedule.Kind.allCases)
  func ddpmMatchesContinuous(_ kind: DDPMSchedule.Kind) {
    let schedule = kind == .linear ? DDPMSchedule.linear() : DDPMSchedule.cosine()
    let process = schedule.continuousProcess
    var worst = 0.0
    for i in 0..<(schedule.steps - 1) {
      let a = process.meanCoefficient(schedule.time(ofStep: i))
      worst = max(worst, abs(schedule.alphaBars[i] - a * a))
    }
    // Differences are the O(β²) terms of log(1 − β) and the discretisation of ∫β: measured
    // below 2e-4; the bound is 1e-3.
    #expect(worst < 1e-3, "worst |ᾱ_i − a(t_i)²| = \(worst)")
  }

  /// The exact score re-expressed as a network of the given parameterisation.
  struct ExactPrediction: DenoisingNetwork {
    let exact: ExactMixtureScore<VPSDE>
    let parameterisation: Parameterisation
    var dimension: Int { exact.dimension }

    func predict(_ x: BatchView, t: Double, into output: MutableBatchView) {
      exact.score(x, t: t, into: output)
      let a = exact.process.meanCoefficient(t), s = exact.process.standardDeviation(t)
      for e in 0..<output.count {
        let epsilon = -s * output[e]
        let x0 = (x[e] - s * epsilon) / a
        switch parameterisation {
        case .score: break
        case .noise: output[e] = epsilon
        case .data: output[e] = x0
        case .velocity: output[e] = a * epsilon - s * x0
        case .flowVelocity: output[e] = epsilon - x0
        }
      }
    }
  }

  @Test("Every parameterisation converts back to the same score", arguments: Parameterisation.allCases)
  func parameterisations(_ parameterisation: Parameterisation) {
    let exact = ExactMixtureScore(mixture: TargetName.gmm2d8.mixture, process: VPSDE())
    let model = ParameterisedScore(network: ExactPrediction(exact: exact, parameterisation: parameterisation),
                                   process: VPSDE(), parameterisation: parameterisation)
    let x = TargetName.gmm2d8.mixture.sample(count: 32, seed: 9).values
    for t in [0.01, 0.3, 0.9] {
      var expected = [Double](repeating: 0, count: x.count), actual = expected
      x.withUnsafeBufferPointer { xp in
        let view = BatchView(xp, dimension: 2)
        expected.withUnsafeMutableBufferPointer { exact.score(view, t: t, into: MutableBatchView($0, dimension: 2)) }
        actual.withUnsafeMutableBufferPointer { model.score(view, t: t, into: MutableBatchView($0, dimension: 2)) }
      }
      // Two conversions in double precision: a few ulp of the larger of |x|/s² and the score.
      for (e, a) in zip(expected, actual) { #expect(abs(e - a) <= 1e-9 * (1 + abs(e)), "t = \(t): \(e) vs \(a)") }
    }
  }

  @Test("The vectorised mixture evaluation equals the textbook formula with libm, for every target and any row count",
        arguments: TargetName.allCases)
  func mixtureAgainstTextbook(_ name: TargetName) {
    let mixture = name.mixture, d = mixture.dimension, K = mixture.components
    // 21 rows: two full blocks of eight and a partial one; some rows far out in the tails.
    var x = mixture.sample(count: 21, seed: 3).values
    for e in 0..<(3 * d) { x[e] *= 7 }
    for (a, s) in [(1.0, 0.0), (0.8, 0.6), (0.05, 0.9987)] {
      var logDensity = [Double](repeating: 0, count: 21), score = [Double](repeating: 0, count: 21 * d)
      x.withUnsafeBufferPointer { xp in
        logDensity.withUnsafeMutableBufferPointer { lp in
          score.withUnsafeMutableBufferPointer { mixture.evaluate(xp, a: a, s: s, logDensity: lp, score: $0) }
        }
      }
      for r in 0..<21 {
        var terms = [Double](), gradients = [[Double]]()
        for k in 0..<K {
          var term = Foundation.log(mixture.weights[k]), gradient = [Double]()
          for j in 0..<d {
            let sd = mixture.standardDeviations[k][j], v = a * a * sd * sd + s * s
            let difference = x[r * d + j] - a * mixture.means[k][j]
            term -= 0.5 * Foundation.log(2 * Double.pi * v) + difference * difference / (2 * v)
            gradient.append(-difference / v)
          }
          terms.append(term)
          gradients.append(gradient)
        }
        let largest = terms.max()!
        let weights = terms.map { Foundation.exp($0 - largest) }, total = weights.reduce(0, +)
        // Relative 1e-12 on log p and on the score's scale: the vector exp is within 1 ulp of
        // libm's, and the sums run in a different order, so a few ulp times K·d terms.
        let expectedLog = largest + Foundation.log(total)
        #expect(abs(logDensity[r] - expectedLog) <= 1e-12 * max(1, abs(expectedLog)), "\(name) row \(r)")
        let scale = gradients.flatMap { $0 }.map(abs).max()!
        for j in 0..<d {
          let expected = (0..<K).reduce(0) { $0 + weights[$1] / total * gradients[$1][j] }
          #expect(abs(score[r * d + j] - expected) <= 1e-12 * max(1, scale), "\(name) row \(r) coordinate \(j)")
        }
      }
    }
  }

  /// Every built-in target (isotropic, one variance), one with a variance per component and one
  /// with a deviation per coordinate: the three paths of the mixture's evaluation.
  static let mixtureKinds: [(String, GaussianMixture)] = TargetName.allCases.map { ($0.rawValue, $0.mixture) } + [
    ("variance per component",
     GaussianMixture(weights: [1, 2, 3], means: [[0, 1, 2], [-1, 0.5, 0], [2, -2, 1]],
                     standardDeviations: [[0.3, 0.3, 0.3], [0.7, 0.7, 0.7], [1.1, 1.1, 1.1]])),
    ("deviation per coordinate",
     GaussianMixture(weights: [1, 1], means: [[0, 1, 2], [-1, 0.5, 0]],
                     standardDeviations: [[0.3, 0.5, 0.9], [0.7, 0.2, 1.3]])),
  ]

  @Test("The mixture's in-register combination c·x + b·s has the bits of the default pass",
        arguments: mixtureKinds.indices)
  func combinationInRegisters(_ kind: Int) {
    let (name, mixture) = Self.mixtureKinds[kind]
    // The default is ScoreModel's extension, reached through a model that does not override it.
    struct Plain: ScoreModel {
      let exact: ExactMixtureScore<VPSDE>
      var dimension: Int { exact.dimension }
      func score(_ x: BatchView, t: Double, into output: MutableBatchView) {
        exact.score(x, t: t, into: output)
      }
    }
    let exact = ExactMixtureScore(mixture: mixture, process: VPSDE())
    // 21 rows: two full blocks of eight and a partial one.
    let x = mixture.sample(count: 21, seed: 4).values
    for (t, c, b) in [(0.02, -0.3, -1.7), (0.6, 1.25, -0.5), (0.97, -9.0, -19.0)] {
      var fused = [Double](repeating: 0, count: x.count), twoPasses = fused
      let d = mixture.dimension
      x.withUnsafeBufferPointer { xp in
        let view = BatchView(xp, dimension: d)
        fused.withUnsafeMutableBufferPointer {
          exact.combination(view, t: t, xCoefficient: c, scoreCoefficient: b, into: MutableBatchView($0, dimension: d))
        }
        twoPasses.withUnsafeMutableBufferPointer {
          Plain(exact: exact).combination(view, t: t, xCoefficient: c, scoreCoefficient: b,
                                          into: MutableBatchView($0, dimension: d))
        }
      }
      // Exact: the same IEEE operations on the same values, so sampler outputs keep their bits.
      let differing = zip(fused, twoPasses).filter { $0.bitPattern != $1.bitPattern }.count
      #expect(differing == 0, "\(name) at t = \(t): \(differing) of \(x.count) values differ")
    }
  }

  /// Mixtures whose components share one deviation, for each C kernel: two-dimensional (gmm2d8,
  /// grid25) and rows of a multiple of eight under a multiple of eight components (gmm64d16: two
  /// passes over the components, eight over the coordinates; 24 wide under 24: three and three).
  static let kernelMixtures: [(String, GaussianMixture)] = {
    let targets: [TargetName] = [.gmm2d8, .grid25, .gmm64d16]
    let means: [[Double]] = (0..<24).map { k in
      (0..<24).map { j -> Double in
        let angle: Double = 0.3 + 0.7 * Double(k) + 1.1 * Double(j)
        return 1.5 * sin(angle)
      }
    }
    return targets.map { ($0.rawValue, $0.mixture) }
      + [("24 wide, 24 components", GaussianMixture(means: means, standardDeviation: 0.4))]
  }()

  @Test("Mixtures with one deviation: the C kernels give the bits of the general evaluation",
        arguments: kernelMixtures.indices)
  func mixtureKernels(_ kind: Int) {
    // A score alone takes the kernel (whole blocks of eight rows, then the general path for the
    // rest); asked together with log p it takes the general path for every block. 37 rows: four
    // whole blocks and five rows more.
    let (name, mixture) = Self.kernelMixtures[kind]
    let x = mixture.sample(count: 37, seed: 6).values.map { 1.7 * $0 }
    for (a, s, combination) in [(1.0, 0.0, nil), (0.8, 0.6, nil), (0.05, 0.9987, (x: -0.4, score: -2.5))] as
          [(Double, Double, (x: Double, score: Double)?)] {
      var kernel = [Double](repeating: 0, count: x.count), general = kernel
      var logDensity = [Double](repeating: 0, count: 37)
      x.withUnsafeBufferPointer { xp in
        kernel.withUnsafeMutableBufferPointer {
          mixture.evaluate(xp, a: a, s: s, logDensity: nil, score: $0, combinedWith: combination)
        }
        logDensity.withUnsafeMutableBufferPointer { lp in
          general.withUnsafeMutableBufferPointer {
            mixture.evaluate(xp, a: a, s: s, logDensity: lp, score: $0, combinedWith: combination)
          }
        }
      }
      // Exact: the kernel repeats the general path's operations in its order.
      let differing = zip(kernel, general).filter { $0.bitPattern != $1.bitPattern }.count
      #expect(differing == 0, "\(name), a = \(a): \(differing) of \(x.count) values differ")
    }
  }

  @Test("Exact samples follow their definition: component from Philox block (0, 0, row), normals from step 1")
  func exactSampleDefinition() {
    let mixture = TargetName.gmm2d8.mixture
    let samples = mixture.sample(count: 13, seed: 21, firstRow: 5)
    let philox = NoiseStream.targetComponent(set: 0).generator(seed: 21), normals = NormalSource(seed: 21)
    for i in 0..<13 {
      let row = 5 + i
      let u = (Double(philox.block(0, 0, UInt32(row), 0).0) + 0.5) * 0x1p-32
      let k = min(Int(u * 8), 7)  // equal weights: the cumulative search is a floor
      for j in 0..<2 {
        let expected = mixture.means[k][j] + 0.5 * normals.normal(row: row, stream: .targetSample(set: 0), index: j)
        #expect(samples[i, j] == expected, "row \(row) coordinate \(j)")
      }
    }
  }

  @Test("Vector exp is within 1 ulp of libm's on [−708, 709] and flushes below")
  func vectorExp() {
    var worst = 0.0
    var generator = SystemRandomNumberGenerator()
    for _ in 0..<20_000 {
      let x = VectorMath.Lanes((0..<8).map { _ in Double.random(in: -708...709, using: &generator) })
      let y = VectorMath.exp(x)
      for lane in 0..<8 {
        let exact = Foundation.exp(x[lane])
        worst = max(worst, abs(y[lane] - exact) / exact.ulp)
      }
    }
    // The table entry (≤ 0.4 ulp), the polynomial (1.2e-17) and the final addition (½ ulp) keep
    // it within 1 ulp of the true value; 4·10⁶ arguments across the range measured 1.0 from libm.
    #expect(worst <= 1, "worst error \(worst) ulp")
    let small = VectorMath.exp(VectorMath.Lanes(-708.5, -800, -1e300, 0, -0.0, 1, -1, 709))
    #expect(small[0] == 0 && small[1] == 0 && small[2] == 0 && small[3] == 1 && small[4] == 1)
    #expect(small[5] == Foundation.exp(1.0) || abs(small[5] - Foundation.exp(1.0)) <= Foundation.exp(1.0).ulp)
  }

  @Test("Exact samples: moments match and a sample depends only on (seed, row)")
  func exactSamples() {
    let mixture = TargetName.gmm2d8.mixture
    let n = 100_000
    let samples = mixture.sample(count: n, seed: 11)
    let m = mixture.mean, c = mixture.covariance
    for j in 0..<2 {
      let column = stride(from: j, to: samples.values.count, by: 2).map { samples.values[$0] }
      let mean = column.reduce(0, +) / Double(n)
      // Five standard errors: √(C_jj / n).
      #expect(abs(mean - m[j]) < 5 * (c[j * 2 + j] / Double(n)).squareRoot())
      let variance = column.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n - 1)
      // Var of a sample variance ≈ (μ₄ − σ⁴)/n; for this mixture μ₄ ≤ 2σ⁴, so SE ≤ σ²/√n.
      #expect(abs(variance - c[j * 2 + j]) < 5 * c[j * 2 + j] / Double(n).squareRoot())
    }
    let occupancy = mixture.mostResponsibleComponent(samples.values).reduce(into: [Int](repeating: 0, count: 8)) { $0[$1] += 1 }
    // Components overlap negligibly (distance 3.06 = 6σ): each near n/8, within 5 binomial SE.
    for count in occupancy { #expect(abs(Double(count) / Double(n) - 0.125) < 5 * (0.125 * 0.875 / Double(n)).squareRoot()) }
    let part = mixture.sample(count: 10, seed: 11, firstRow: 5)
    #expect(part == samples.rows(5..<15))
  }

  @Test("ε outside (0, T) is rejected with a message naming it")
  func epsilonValidation() {
    #expect(throws: DiffusionError.self) { try VPSDE().validate(epsilon: 0) }
    #expect(throws: DiffusionError.self) { try VPSDE().validate(epsilon: 1) }
    #expect(throws: Never.self) { try VPSDE().validate(epsilon: 1e-3) }
  }
}
