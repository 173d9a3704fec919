import Foundation
import GSLIntegrators
import SDEKit
import Testing
@testable import Samplers
@testable import ScoreModels

/// Issue 22: the probability-flow log-likelihood (exact and Hutchinson divergence), the DDPM
/// variational bound, and the score derivatives under them.
@Suite("Likelihood")
struct LikelihoodTests {
  // MARK: - Helpers

  /// Exact samples of a target (set 0 of `seed`).
  static func samples(_ target: TargetName, count: Int, seed: UInt64) -> StateBatch {
    target.mixture.sample(count: count, seed: seed)
  }

  /// The closed-form log p_t of every row under the mixture's marginal at t.
  static func closedForm<P: DiffusionProcess>(_ data: StateBatch, mixture: GaussianMixture, process: P, t: Double) -> [Double] {
    var out = [Double](repeating: 0, count: data.count)
    let score = ExactMixtureScore(mixture: mixture, process: process)
    data.withView { view in out.withUnsafeMutableBufferPointer { score.logDensity(view, t: t, into: $0) } }
    return out
  }

  static func meanAbsoluteDifference(_ a: [Double], _ b: [Double]) -> Double {
    zip(a, b).reduce(0) { $0 + abs($1.0 - $1.1) } / Double(a.count)
  }

  static func dopri5(_ tolerance: Double, norm: ErrorNorm = .maximum, mode: SystemMode = .batch) -> LikelihoodSolver {
    .adaptive(DormandPrince5(settings: AdaptiveSettings(relativeTolerance: tolerance, absoluteTolerance: tolerance, norm: norm)),
              mode: mode)
  }

  /// Central differences of `score` in x along `direction`, per row: (s(x + hv) − s(x − hv))/2h.
  static func finiteDifference<S: ScoreModel>(_ score: S, _ x: StateBatch, t: Double, direction: [Double], h: Double) -> [Double] {
    var plus = x, minus = x
    for e in x.values.indices {
      plus.values[e] += h * direction[e]
      minus.values[e] -= h * direction[e]
    }
    var sPlus = [Double](repeating: 0, count: x.values.count), sMinus = sPlus
    plus.withView { v in sPlus.withUnsafeMutableBufferPointer { score.score(v, t: t, into: MutableBatchView($0, dimension: x.dimension)) } }
    minus.withView { v in sMinus.withUnsafeMutableBufferPointer { score.score(v, t: t, into: MutableBatchView($0, dimension: x.dimension)) } }
    return (0..<x.values.count).map { (sPlus[$0] - sMinus[$0]) / (2 * h) }
  }

  /// J v (one tangent per row) and the divergence from a model's own derivatives, and the score.
  static func derivatives<S: DivergenceModel>(_ model: S, _ x: StateBatch, t: Double, tangent: [Double])
    -> (score: [Double], products: [Double], divergence: [Double]) {
    let n = x.values.count, d = x.dimension
    var score = [Double](repeating: 0, count: n), products = score, again = score
    var divergence = [Double](repeating: 0, count: x.count)
    x.withView { v in
      tangent.withUnsafeBufferPointer { tp in
        score.withUnsafeMutableBufferPointer { sp in
          products.withUnsafeMutableBufferPointer { pp in
            model.scoreAndJacobianProducts(v, t: t, tangents: BatchView(tp, dimension: d), score: MutableBatchView(sp, dimension: d),
                                           products: MutableBatchView(pp, dimension: d))
          }
        }
      }
      again.withUnsafeMutableBufferPointer { sp in
        divergence.withUnsafeMutableBufferPointer { model.scoreAndDivergence(v, t: t, score: MutableBatchView(sp, dimension: d), divergence: $0) }
      }
    }
    #expect(score == again, "the two derivative calls give the same score")
    return (score, products, divergence)
  }

  /// Checks a model's J v against central differences along v, and its divergence against the
  /// trace of the differenced Jacobian (d differences along the unit vectors). Differences at
  /// h = 1e-5 of a smooth score err by O(h²) ≈ 1e-10 times its third derivative plus rounding
  /// ≈ 1e-16/h times its size; `tolerance` is relative to 1 + |value|.
  static func checkDerivatives<S: DivergenceModel>(_ model: S, _ x: StateBatch, t: Double, tolerance: Double,
                                                   label: String) {
    let d = x.dimension
    var tangent = [Double](repeating: 0, count: x.values.count)
    NormalSource(seed: 77).fill(rows: 0..<x.count, stream: .probes, count: d, scale: 1, into: &tangent)
    let (score, products, divergence) = derivatives(model, x, t: t, tangent: tangent)
    var plain = [Double](repeating: 0, count: x.values.count)
    x.withView { v in plain.withUnsafeMutableBufferPointer { model.score(v, t: t, into: MutableBatchView($0, dimension: d)) } }
    var scoreError = 0.0
    for e in score.indices { scoreError = max(scoreError, abs(score[e] - plain[e]) / (1 + abs(plain[e]))) }
    #expect(scoreError <= 1e-12, "\(label): the derivative pass's score differs from score() by \(scoreError)")
    let differenced = finiteDifference(model, x, t: t, direction: tangent, h: 1e-5)
    var productError = 0.0
    for e in products.indices { productError = max(productError, abs(products[e] - differenced[e]) / (1 + abs(differenced[e]))) }
    #expect(productError <= tolerance, "\(label): J v differs from central differences by \(productError)")
    var trace = [Double](repeating: 0, count: x.count)
    for j in 0..<d {
      var unit = [Double](repeating: 0, count: x.values.count)
      for r in 0..<x.count { unit[r * d + j] = 1 }
      let column = finiteDifference(model, x, t: t, direction: unit, h: 1e-5)
      for r in 0..<x.count { trace[r] += column[r * d + j] }
    }
    var divergenceError = 0.0
    for r in 0..<x.count { divergenceError = max(divergenceError, abs(divergence[r] - trace[r]) / (1 + abs(trace[r]))) }
    #expect(divergenceError <= tolerance * Double(d), "\(label): the divergence differs from the differenced trace by \(divergenceError)")
  }

  // MARK: - Score derivatives

  @Test("The mixtures' closed-form J v and divergence match central differences of the score (shared, isotropic and diagonal variances)")
  func mixtureDerivatives() {
    let process = VPSDE()
    // Two components with different isotropic variances, and one with a diagonal covariance,
    // take the general path; the built-in targets the shared-variance one.
    let unequal = GaussianMixture(weights: [0.3, 0.7], means: [[1, -2, 0.5], [-1, 0.5, 2]],
                                  standardDeviations: [[0.4, 0.4, 0.4], [0.9, 0.9, 0.9]])
    let diagonal = TargetName.gaussian.mixture
    for (label, mixture) in [("gmm2d8", TargetName.gmm2d8.mixture), ("gmm64d16", TargetName.gmm64d16.mixture),
                             ("unequal variances", unequal), ("diagonal", diagonal)] {
      let model = ExactMixtureScore(mixture: mixture, process: process)
      // 13 rows: one whole SIMD block and a partial one.
      for t in [0.01, 0.3, 0.9] {
        var x = mixture.sample(count: 13, seed: 5)
        // Points between the modes too, where several responsibilities are far from 0 and 1.
        for e in x.values.indices where e % 3 == 0 { x.values[e] *= 0.5 }
        Self.checkDerivatives(model, x, t: t, tolerance: 1e-6, label: "\(label) at t = \(t)")
      }
    }
  }

  @Test("The two-dimensional shared-variance kernel gives the Swift path's bits: score, divergence and J v")
  func derivativeKernel() {
    for (mixture, t) in [(TargetName.gmm2d8.mixture, 0.2), (TargetName.grid25.mixture, 0.7)] {
      // 27 rows: three whole blocks through the kernel and three rows on the Swift path.
      let x = mixture.sample(count: 27, seed: 4)
      var tangents = [Double](repeating: 0, count: 54)
      NormalSource(seed: 1).fill(rows: 0..<27, stream: .probes, count: 2, scale: 1, into: &tangents)
      let (a, s) = (VPSDE().meanCoefficient(t), VPSDE().standardDeviation(t))
      func run(kernel: Bool, withTangents: Bool) -> [Double] {
        var score = [Double](repeating: 0, count: 54), products = score, divergence = [Double](repeating: 0, count: 27)
        x.values.withUnsafeBufferPointer { xp in
          tangents.withUnsafeBufferPointer { tp in
            score.withUnsafeMutableBufferPointer { sp in
              products.withUnsafeMutableBufferPointer { pp in
                divergence.withUnsafeMutableBufferPointer { dp in
                  mixture.evaluateDerivatives(xp, a: a, s: s, score: sp, divergence: dp, tangents: withTangents ? tp : nil,
                                              products: withTangents ? pp : nil, kernel: kernel)
                }
              }
            }
          }
        }
        return score + divergence + products
      }
      for withTangents in [false, true] {
        let fast = run(kernel: true, withTangents: withTangents), reference = run(kernel: false, withTangents: withTangents)
        #expect(fast.map(\.bitPattern) == reference.map(\.bitPattern), "t = \(t), tangents: \(withTangents)")
      }
    }
  }

  @Test("The MLP's Jacobian–vector products, and the score's through every parameterisation, match central differences")
  func networkDerivatives() throws {
    let architecture = MLPArchitecture(dimension: 3, timeFeatures: 6, hidden: [16, 8], parameterisation: .noise)
    let floats = initialParameters(architecture, seed: 11)
    let parameters = MLPParameters<Double>(weights: floats.weights.map { $0.map(Double.init) },
                                           biases: floats.biases.map { $0.map(Double.init) })
    let network = try MLP(architecture: architecture, parameters: parameters)
    var x = StateBatch(count: 11, dimension: 3)
    x.values.withUnsafeMutableBufferPointer {
      NormalSource(seed: 3).fill(rows: 0..<11, stream: .targetSample(set: 9), count: 3, scale: 2, into: $0.baseAddress!)
    }
    for parameterisation in Parameterisation.allCases {
      let score = ParameterisedScore(network: network, process: VPSDE(), parameterisation: parameterisation)
      // A double-precision network: differences are as accurate as for the mixtures.
      Self.checkDerivatives(score, x, t: 0.4, tolerance: 1e-6, label: "MLP, \(parameterisation)")
    }
    // Several tangents per row: each row's k-th product is J times its k-th tangent.
    let score = ParameterisedScore(network: network, process: VPSDE(), parameterisation: .noise)
    let perRow = 3
    var tangents = [Double](repeating: 0, count: x.count * perRow * 3)
    NormalSource(seed: 8).fill(rows: 0..<x.count, stream: .probes, count: perRow * 3, scale: 1, into: &tangents)
    var out = [Double](repeating: 0, count: x.values.count), products = tangents
    x.withView { v in
      tangents.withUnsafeBufferPointer { tp in
        out.withUnsafeMutableBufferPointer { op in
          products.withUnsafeMutableBufferPointer {
            score.scoreAndJacobianProducts(v, t: 0.4, tangents: BatchView(tp, dimension: 3),
                                           score: MutableBatchView(op, dimension: 3), products: MutableBatchView($0, dimension: 3))
          }
        }
      }
    }
    for k in 0..<perRow {
      var direction = [Double](repeating: 0, count: x.values.count)
      for r in 0..<x.count { for j in 0..<3 { direction[r * 3 + j] = tangents[(r * perRow + k) * 3 + j] } }
      let differenced = Self.finiteDifference(score, x, t: 0.4, direction: direction, h: 1e-5)
      for r in 0..<x.count {
        for j in 0..<3 {
          let value = products[(r * perRow + k) * 3 + j]
          #expect(abs(value - differenced[r * 3 + j]) <= 1e-6 * (1 + abs(value)), "row \(r), tangent \(k)")
        }
      }
    }
  }

  // MARK: - Probability flow, exact divergence

  @Test("Exact divergence on exact samples (gmm2d8, gmm64d16): within 1e-4 nats of the closed-form p_ε at rtol = atol = 1e-8, and falling with the tolerance")
  func exactAgainstClosedForm() throws {
    let process = VPSDE()
    for (target, count) in [(TargetName.gmm2d8, 1000), (.gmm64d16, 300)] {
      let mixture = target.mixture
      let score = ExactMixtureScore(mixture: mixture, process: process)
      let data = Self.samples(target, count: count, seed: 3)
      let exact = Self.closedForm(data, mixture: mixture, process: process, t: process.defaultEpsilon)
      var errors: [Double] = []
      for tolerance in [1e-4, 1e-6, 1e-8] {
        let result = try logLikelihood(data, process: process, score: score,
                                       settings: LikelihoodSettings(solver: Self.dopri5(tolerance), terminal: .marginal))
        errors.append(Self.meanAbsoluteDifference(result.logLikelihood, exact))
        #expect(result.nfe > 0 && result.steps > 0)
      }
      print("likelihood: \(target) mean |log p̂ − log p_ε| at rtol = atol = 1e-4, 1e-6, 1e-8: \(errors)")
      #expect(errors[2] < 1e-4, "\(target): \(errors[2]) nats at 1e-8")
      // Each factor of 100 in the tolerance buys at least a factor of 10 (5th order: about 40).
      #expect(errors[1] < errors[0] / 10 && errors[2] < errors[1] / 10, "\(target): \(errors)")
    }
  }

  @Test("Every kind of solver reaches the closed form: GSL steppers in batch and per sample (an implicit one differencing the augmented field), fixed steps, the RMS norm")
  func everySolver() throws {
    let process = VPSDE(), mixture = TargetName.gmm2d8.mixture
    let score = ExactMixtureScore(mixture: mixture, process: process)
    let data = Self.samples(.gmm2d8, count: 200, seed: 4)
    let exact = Self.closedForm(data, mixture: mixture, process: process, t: process.defaultEpsilon)
    let tight = AdaptiveSettings(tolerance: 1e-7)
    let cases: [(String, LikelihoodSolver, Double)] = [
      // (solver, bound on the mean error in nats): adaptive ones at 1e-7 well below 1e-4; RK4's
      // global error at 200 steps (h ≈ 5e-3, β up to 20) about 1e-6.
      ("gsl-rkf45 batch", .adaptive(GSLODESolver(.rkf45, settings: tight), mode: .batch), 1e-4),
      ("gsl-rk8pd per sample", .adaptive(GSLODESolver(.rk8pd, settings: tight), mode: .perSample), 1e-4),
      ("gsl-msadams batch", .adaptive(GSLODESolver(.msadams, settings: tight), mode: .batch), 1e-4),
      ("gsl-rk4imp per sample", .adaptive(GSLODESolver(.rk4imp, settings: AdaptiveSettings(tolerance: 1e-6)), mode: .perSample), 1e-3),
      ("dopri5 rms", Self.dopri5(1e-7, norm: .rms), 1e-4),
      ("rk4 200 steps", .fixed(RK4(), steps: 200), 1e-4),
    ]
    for (label, solver, bound) in cases {
      for divergence in [DivergenceEstimator.exact, .hutchinson(probes: 2, distribution: .rademacher)] {
        let result = try logLikelihood(data, process: process, score: score,
                                       settings: LikelihoodSettings(solver: solver, divergence: divergence, terminal: .marginal),
                                       threads: 2)
        if divergence == .exact {
          let error = Self.meanAbsoluteDifference(result.logLikelihood, exact)
          #expect(error < bound, "\(label): mean error \(error)")
        } else {
          // Hutchinson's estimate differs by the probes' noise; within 5 of its standard errors
          // of the mean (row estimates are independent).
          let noise = (result.probeStandardError!.reduce(0) { $0 + $1 * $1 }).squareRoot() / Double(data.count)
          let meanExact = exact.reduce(0, +) / Double(data.count)
          #expect(abs(result.mean - meanExact) <= 5 * noise, "\(label) Hutchinson: \(result.mean) against \(meanExact) ± \(noise)")
        }
      }
    }
  }

  @Test("A row's result depends on (seed, row) only: per-sample and fixed-step runs are the same bits for any split and thread count")
  func reproducibleByRow() throws {
    let process = VPSDE(), score = ExactMixtureScore(mixture: TargetName.gmm2d8.mixture, process: process)
    let data = Self.samples(.gmm2d8, count: 40, seed: 6)
    for solver in [Self.dopri5(1e-6, mode: .perSample), .fixed(Heun(), steps: 50)] {
      let settings = LikelihoodSettings(solver: solver, divergence: .hutchinson(probes: 3, distribution: .gaussian))
      let whole = try logLikelihood(data, process: process, score: score, settings: settings, seed: 9, threads: 1)
      let first = try logLikelihood(data.rows(0..<17), process: process, score: score, settings: settings, seed: 9, threads: 2)
      let rest = try logLikelihood(data.rows(17..<40), process: process, score: score, settings: settings, seed: 9,
                                   firstSample: 17, threads: 3)
      #expect(first.logLikelihood + rest.logLikelihood == whole.logLikelihood, "\(solver.name)")
      #expect(first.probeStandardError! + rest.probeStandardError! == whole.probeStandardError!)
      // Another seed draws other probes.
      let other = try logLikelihood(data, process: process, score: score, settings: settings, seed: 10, threads: 1)
      #expect(other.logLikelihood != whole.logLikelihood)
    }
  }

  @Test("Probes: from the stream .probes, Rademacher the signs of the Gaussian ones, nested in K")
  func probes() {
    let gaussian = ProbeTable(rows: 5, dimension: 3, perRow: 4, distribution: .gaussian, seed: 2, firstSample: 10)
    let rademacher = ProbeTable(rows: 5, dimension: 3, perRow: 4, distribution: .rademacher, seed: 2, firstSample: 10)
    let single = ProbeTable(rows: 5, dimension: 3, perRow: 1, distribution: .gaussian, seed: 2, firstSample: 10)
    let source = NormalSource(seed: 2)
    for r in 0..<5 {
      for e in 0..<12 {
        let value = gaussian.values[r * 12 + e]
        #expect(value == source.normal(row: 10 + r, stream: .probes, index: e))
        #expect(rademacher.values[r * 12 + e] == (value < 0 ? -1 : 1))
      }
      for e in 0..<3 { #expect(single.values[r * 3 + e] == gaussian.values[r * 12 + e]) }
    }
  }

  // MARK: - Hutchinson

  @Test("Hutchinson (K = 32 probes): the 95 % intervals of 1,000 samples cover the exact divergence's result for 90–99 % of them")
  func hutchinsonCoverage() throws {
    let process = VPSDE(), mixture = TargetName.gmm2d8.mixture
    let score = ExactMixtureScore(mixture: mixture, process: process)
    let data = Self.samples(.gmm2d8, count: 1000, seed: 3)
    let solver = Self.dopri5(1e-6)
    let exact = try logLikelihood(data, process: process, score: score, settings: LikelihoodSettings(solver: solver))
    // Student's t for 31 degrees of freedom, 97.5 %: a row's estimate is the mean of 32 probes'.
    let t = 2.040
    for distribution in ProbeDistribution.allCases {
      let estimate = try logLikelihood(data, process: process, score: score,
                                       settings: LikelihoodSettings(solver: solver, divergence: .hutchinson(probes: 32, distribution: distribution)),
                                       seed: 5)
      let errors = try #require(estimate.probeStandardError)
      let covered = (0..<data.count).filter { abs(estimate.logLikelihood[$0] - exact.logLikelihood[$0]) <= t * errors[$0] }.count
      let coverage = Double(covered) / Double(data.count)
      print("likelihood: Hutchinson \(distribution) × 32: 95 % intervals cover the exact value for \(covered) of 1000; mean SE \(errors.reduce(0, +) / 1000) nats")
      // 1,000 intervals at a true 95 % cover 95 ± 0.7 %; the probes' quadratic forms are skewed
      // (Gaussian: χ²-like), so Student's intervals run a little short: 90–99 % as the issue asks.
      #expect(coverage >= 0.90 && coverage <= 0.99, "\(distribution): coverage \(coverage)")
      // The run's mean differs from the exact one by the probes' noise alone.
      let noise = (errors.reduce(0) { $0 + $1 * $1 }).squareRoot() / Double(data.count)
      #expect(abs(estimate.mean - exact.mean) <= 4 * noise, "\(distribution): \(estimate.mean) against \(exact.mean) ± \(noise)")
    }
  }

  // MARK: - A learned model

  @Test("The shipped gmm2d8 MLP: its likelihood of held-out exact samples is within 0.1 nats of the exact score's")
  func learnedModel() throws {
    let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent("../../Models/gmm2d8.safetensors").standardized.path
    let network = try SafeTensors.read(path)
    let process = VPSDE()
    // Seed 7: the model was trained on 50,000 samples of seed 0, so these are held out. 500 rows
    // give a mean with a standard error of about 0.07 nats, but the two models see the same rows:
    // the difference of their means has a far smaller error (reported below).
    let data = Self.samples(.gmm2d8, count: 500, seed: 7)
    // A float32 network is rough at the level of 1e-7: tight tolerances only multiply its steps.
    let settings = LikelihoodSettings(solver: Self.dopri5(1e-3))
    let learned = try logLikelihood(data, process: process, score: MLPScore(mlp: network, process: process), settings: settings)
    let exact = try logLikelihood(data, process: process, score: ExactMixtureScore(mixture: TargetName.gmm2d8.mixture, process: process),
                                  settings: settings)
    let differences = zip(learned.logLikelihood, exact.logLikelihood).map { $0 - $1 }
    let (difference, error) = meanAndStandardError(differences)
    print("likelihood: shipped gmm2d8 MLP \(learned.mean) ± \(learned.meanStandardError) nats (NFE \(learned.nfe)), exact score \(exact.mean) ± \(exact.meanStandardError) (NFE \(exact.nfe)); difference \(difference) ± \(error)")
    #expect(abs(learned.mean - exact.mean) < 0.1)
    // Hutchinson through the network's Jacobian–vector products agrees with its exact trace.
    let probed = try logLikelihood(data, process: process, score: MLPScore(mlp: network, process: process),
                                   settings: LikelihoodSettings(solver: Self.dopri5(1e-3), divergence: .hutchinson(probes: 4, distribution: .rademacher)),
                                   seed: 1)
    let noise = (probed.probeStandardError!.reduce(0) { $0 + $1 * $1 }).squareRoot() / Double(data.count)
    #expect(abs(probed.mean - learned.mean) <= 4 * noise + 1e-3, "\(probed.mean) against \(learned.mean) ± \(noise)")
  }

  // MARK: - Units

  @Test("Discrete levels: score_sde's dequantisation stays in each level's cell and gives its 7-bit offset on [−1, 1]; non-integers are refused")
  func discreteLevels() throws {
    let levels = DiscreteLevels(levels: 256, range: .centered)
    let data = StateBatch(count: 3, dimension: 2, values: [0, 255, 17, 128, 254, 1])
    try levels.validate(data)
    let y = levels.dequantised(data, seed: 4, firstSample: 2)
    for e in data.values.indices {
      let low = -1 + 2 * data.values[e] / 256
      #expect(y.values[e] > low && y.values[e] < low + 2.0 / 256)
    }
    #expect(levels.dequantised(data, seed: 4, firstSample: 2) == y)
    #expect(levels.dequantised(data.rows(1..<3), seed: 4, firstSample: 3).values == Array(y.values[2...]))
    // bits/dim = −(log p(y) + d log(2/256))/(d ln 2) = −log p(y)/(d ln 2) + 7.
    let offset = bitsPerDimension(logLikelihood: 2 * levels.logCellWidth, dimension: 2)
    #expect(abs(offset - 7) < 1e-12)
    #expect(abs(bitsPerDimension(logLikelihood: levels.logCellWidth, dimension: 1) - 7) < 1e-12)
    #expect(abs(bitsPerDimension(logLikelihood: DiscreteLevels(levels: 256, range: .unit).logCellWidth, dimension: 1) - 8) < 1e-12)
    // Ho et al.'s centres: k/127.5 − 1.
    #expect(levels.centres(data).values == data.values.map { -1 + 2 * $0 / 255 })
    #expect(abs(levels.halfWidth - 1.0 / 255) < 1e-15)
    for bad in [0.5, -1, 256, .nan] {
      #expect(throws: DiffusionError.self) { try levels.validate(StateBatch(count: 1, dimension: 2, values: [3, bad])) }
    }
  }

  @Test("Bad input is refused with a message naming it")
  func badInput() throws {
    let process = VPSDE(), score = ExactMixtureScore(mixture: TargetName.gmm2d8.mixture, process: process)
    let data = Self.samples(.gmm2d8, count: 4, seed: 1)
    func message(_ body: () throws -> Void) -> String {
      do { try body() } catch { return "\(error)" }
      return "no error"
    }
    #expect(message { _ = try logLikelihood(StateBatch(count: 2, dimension: 3), process: process, score: score) }
      .contains("dimension 3"))
    var bad = data
    bad[2, 1] = .infinity
    #expect(message { _ = try logLikelihood(bad, process: process, score: score) }.contains("row 2, coordinate 1 is inf"))
    #expect(message { _ = try logLikelihood(data, process: process, score: score, epsilon: 0) }.contains("ε"))
    #expect(message {
      _ = try logLikelihood(data, process: process, score: score,
                            settings: LikelihoodSettings(divergence: .hutchinson(probes: 0, distribution: .gaussian)))
    }.contains("at least 1 probe"))
    let network = try SafeTensors.read(URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent("../../Models/gmm2d8.safetensors").standardized.path)
    #expect(message {
      _ = try logLikelihood(data, process: process, score: MLPScore(mlp: network, process: process),
                            settings: LikelihoodSettings(terminal: .marginal))
    }.contains("marginal"))
  }

  // MARK: - The DDPM bound

  /// The DDPM chain that discretises the reference VP SDE in N steps: β_i from 0.1/N to 20/N.
  static func chain(steps: Int) -> DDPMChain {
    DDPMChain(schedule: .linear(steps: steps, betaStart: 0.1 / Double(steps), betaEnd: 20 / Double(steps)))
  }

  @Test("The bound is at least the data's entropy (−mean log q(x₀), less 3 standard errors) and falls toward it from N = 100 to 1000")
  func boundAgainstEntropy() throws {
    let mixture = TargetName.gmm2d8.mixture
    // σ² = β carries a small gap (0.09 nats at N = 100, 0.02 at 1000): 20,000 samples resolve it
    // to ±0.012. σ² = β̃'s gap is a hundred times larger; 2,000 samples do.
    for (variance, count) in [(DDPMBoundSettings.Variance.beta, 20_000), (.posterior, 2_000)] {
      let data = Self.samples(.gmm2d8, count: count, seed: 3)
      let logQ = Self.closedForm(data, mixture: mixture, process: VPSDE(), t: 0)
      var gaps: [(mean: Double, standardError: Double)] = []
      for steps in [100, 1000] {
        let chain = Self.chain(steps: steps)
        let result = try ddpmBound(data, chain: chain, score: ExactMixtureScore(mixture: mixture, process: chain),
                                   settings: DDPMBoundSettings(variance: variance), seed: 1)
        // Paired with log q of the same rows: the bound's excess over the entropy, per sample.
        let gap = meanAndStandardError(zip(result.bound, logQ).map { $0 + $1 })
        gaps.append(gap)
        print("likelihood: DDPM bound, σ² = \(variance), N = \(steps): \(result.mean) ± \(result.meanStandardError) nats against the entropy estimate \(-logQ.reduce(0, +) / Double(count)); gap \(gap.mean) ± \(gap.standardError)")
        #expect(gap.mean >= -3 * gap.standardError, "σ² = \(variance), N = \(steps): gap \(gap.mean) ± \(gap.standardError)")
        #expect(result.termCounts.allSatisfy { $0 == count } && result.nfe == steps)
        #expect(abs(result.termMeans.reduce(0, +) - result.mean) < 1e-9 * (1 + abs(result.mean)))
      }
      let fall = gaps[0].mean - gaps[1].mean
      let fallError = (gaps[0].standardError * gaps[0].standardError + gaps[1].standardError * gaps[1].standardError).squareRoot()
      #expect(fall > 3 * fallError, "σ² = \(variance): the gap falls by \(fall) ± \(fallError) from N = 100 to 1000")
    }
  }

  @Test("The bound's KL terms match Monte-Carlo estimates of the same KLs; the posterior is Bayes' rule's; L_T is the prior's KL")
  func boundTerms() throws {
    let mixture = TargetName.gmm2d8.mixture, chain = Self.chain(steps: 100), d = 2
    let x0 = Self.samples(.gmm2d8, count: 3, seed: 8)
    for variance in DDPMBoundSettings.Variance.allCases {
      let bound = DDPMBound(chain: chain, score: ExactMixtureScore(mixture: mixture, process: chain),
                            settings: DDPMBoundSettings(variance: variance))
      for n in [2, 10, 60, 100] {
        let xn = x0.withView { bound.noised($0, step: n, samples: 0..<3, seed: 4) }
        let closed = x0.withView { bound.term($0, step: n, samples: 0..<3, seed: 4) }
        let (target, targetVariance) = x0.withView { x in xn.withUnsafeBufferPointer { bound.posterior(x0: x, xn: BatchView($0, dimension: d), step: n) } }
        let (mean, modelVariance) = xn.withUnsafeBufferPointer { bound.model(xn: BatchView($0, dimension: d), step: n) }
        // Bayes: q(x_{n−1} | x_n, x₀) ∝ N(x_n; √α_n x_{n−1}, β_n) N(x_{n−1}; √ᾱ_{n−1} x₀, 1 − ᾱ_{n−1}).
        let beta = chain.schedule.betas[n - 1], previous = chain.schedule.alphaBars[n - 2]
        let precision = (1 - beta) / beta + 1 / (1 - previous)
        #expect(abs(targetVariance - 1 / precision) <= 1e-12 * targetVariance)
        for e in 0..<(3 * d) {
          let bayes = ((1 - beta).squareRoot() * xn[e] / beta + previous.squareRoot() * x0.values[e] / (1 - previous)) / precision
          #expect(abs(target[e] - bayes) <= 1e-10 * (1 + abs(bayes)))
        }
        // Monte Carlo: KL = E_q[log q(y) − log p(y)], y ~ q, from 200,000 draws.
        let draws = 200_000
        var z = [Double](repeating: 0, count: draws * d)
        NormalSource(seed: UInt64(n)).fill(rows: 0..<draws, stream: .targetSample(set: 5), count: d, scale: 1, into: &z)
        for r in 0..<3 {
          var ratios = [Double](repeating: 0, count: draws)
          for i in 0..<draws {
            var logQ = 0.0, logP = 0.0
            for j in 0..<d {
              let y = target[r * d + j] + targetVariance.squareRoot() * z[i * d + j]
              logQ += -0.5 * z[i * d + j] * z[i * d + j] - 0.5 * log(2 * .pi * targetVariance)
              let u = y - mean[r * d + j]
              logP += -0.5 * u * u / modelVariance - 0.5 * log(2 * .pi * modelVariance)
            }
            ratios[i] = logQ - logP
          }
          let (estimate, error) = meanAndStandardError(ratios)
          #expect(abs(estimate - closed[r]) <= 4 * error, "σ² = \(variance), n = \(n), row \(r): \(closed[r]) against \(estimate) ± \(error)")
        }
      }
      // L_T against Monte Carlo of log q(x_N | x₀) − log N(x_N; 0, I).
      let prior = x0.withView { bound.priorTerm($0) }
      let abN = chain.schedule.alphaBars[99]
      var z = [Double](repeating: 0, count: 200_000 * d)
      NormalSource(seed: 3).fill(rows: 0..<200_000, stream: .targetSample(set: 6), count: d, scale: 1, into: &z)
      for r in 0..<3 {
        let ratios = (0..<200_000).map { i in
          (0..<d).reduce(0.0) { sum, j in
            let y = abN.squareRoot() * x0[r, j] + (1 - abN).squareRoot() * z[i * d + j]
            return sum - 0.5 * z[i * d + j] * z[i * d + j] - 0.5 * log(1 - abN) + 0.5 * y * y
          }
        }
        let (estimate, error) = meanAndStandardError(ratios)
        #expect(abs(estimate - prior[r]) <= 4 * error + 1e-12, "L_T row \(r): \(prior[r]) against \(estimate) ± \(error)")
      }
    }
  }

  @Test("Sampled terms: an unbiased estimate of the full bound, the same per-term values; reproducible by row")
  func sampledTerms() throws {
    let mixture = TargetName.gmm2d8.mixture, chain = Self.chain(steps: 200)
    let score = ExactMixtureScore(mixture: mixture, process: chain)
    let data = Self.samples(.gmm2d8, count: 4000, seed: 2)
    let all = try ddpmBound(data, chain: chain, score: score, seed: 3)
    let sampled = try ddpmBound(data, chain: chain, score: score, settings: DDPMBoundSettings(terms: .sampled(8)), seed: 3,
                                threads: 2)
    #expect(sampled.nfe == 9 && all.nfe == 200)
    // Independent-ish estimates of one mean: their difference within 4 combined errors.
    let error = (all.meanStandardError * all.meanStandardError + sampled.meanStandardError * sampled.meanStandardError).squareRoot()
    #expect(abs(sampled.mean - all.mean) <= 4 * error, "\(sampled.mean) against \(all.mean) ± \(error)")
    #expect(sampled.standardError != nil && all.standardError == nil)
    // The decoder and prior terms are computed for every sample, with the same draws.
    #expect(sampled.termMeans[0] == all.termMeans[0] && sampled.termMeans[200] == all.termMeans[200])
    // Rows are functions of (seed, row): a part of the data gives the same bounds.
    let part = try ddpmBound(data.rows(1000..<1300), chain: chain, score: score, settings: DDPMBoundSettings(terms: .sampled(8)),
                             seed: 3, firstSample: 1000, threads: 1)
    #expect(part.bound == Array(sampled.bound[1000..<1300]))
  }

  @Test("Sampled terms: the rows that drew a step, evaluated together, give each row's bits alone")
  func sampledTermsBatched() throws {
    let mixture = TargetName.gmm2d8.mixture, chain = Self.chain(steps: 100)
    let score = ExactMixtureScore(mixture: mixture, process: chain)
    let data = Self.samples(.gmm2d8, count: 64, seed: 2)
    // 64 rows × 8 draws of 99 steps: about five rows per step (a row may draw one twice).
    let settings = DDPMBoundSettings(terms: .sampled(8))
    let whole = try ddpmBound(data, chain: chain, score: score, settings: settings, seed: 3, threads: 1)
    #expect(whole.bound.allSatisfy(\.isFinite) && whole.standardError?.allSatisfy(\.isFinite) == true)
    for r in [0, 1, 17, 40, 63] {
      let alone = try ddpmBound(data.rows(r..<(r + 1)), chain: chain, score: score, settings: settings, seed: 3,
                                firstSample: r, threads: 1)
      #expect(alone.bound[0] == whole.bound[r], "row \(r)")
      #expect(alone.standardError?[0] == whole.standardError?[r], "row \(r)")
    }
  }

  @Test("The discretised decoder: cell probabilities from the accurate tail; the density times the cell's width where σ ≫ the cell; end cells reach to infinity")
  func discretisedDecoder() {
    let chain = Self.chain(steps: 10), levels = DiscreteLevels(levels: 256, range: .centered)
    let score = ExactMixtureScore(mixture: TargetName.gmm2d8.mixture, process: chain)
    let continuous = DDPMBound(chain: chain, score: score), discrete = DDPMBound(chain: chain, score: score,
                                                                                settings: DDPMBoundSettings(levels: levels))
    // Interior centres, means off them by up to 1.8σ, σ = 0.1 ≫ the cell (half-width h = 1/255):
    // P(cell) = φ(z)(2h/σ)(1 + (h/σ)²(z² − 1)/6 + …), the density times the width to within
    // (h/σ)² · 3.24/6 ≈ 8e-4 in log per coordinate, 2e-3 for two.
    let x0 = levels.centres(StateBatch(count: 3, dimension: 2, values: [10, 200, 128, 37, 90, 250]))
    let mean = x0.values.enumerated().map { $0.element + 0.1 * (Double($0.offset % 5) - 2) * 0.9 }
    let (c, q) = x0.withView { (continuous.decoderTerm($0, mean: mean, variance: 0.01), discrete.decoderTerm($0, mean: mean, variance: 0.01)) }
    for r in 0..<3 { #expect(abs(q[r] - (c[r] - 2 * log(2.0 / 255))) < 2e-3, "row \(r): \(q[r]) against \(c[r] - 2 * log(2.0 / 255))") }
    // The top level's cell reaches to +∞: with the mean on it, more than half the mass.
    let top = levels.centres(StateBatch(count: 1, dimension: 1, values: [255]))
    let edge = top.withView { discrete.decoderTerm($0, mean: [1.0], variance: 0.01) }
    #expect(edge[0] < -log(0.5) && edge[0] > 0)

    #expect(logNormalProbability(from: -.infinity, to: .infinity) == 0)
    #expect(abs(logNormalProbability(from: 0, to: .infinity) - log(0.5)) < 1e-15)
    #expect(abs(logNormalProbability(from: -1.959963984540054, to: 1.959963984540054) - log(0.95)) < 1e-12)
    // Φ(−10) − Φ(−11) = 7.6198530241604e-24 − 1.9106595744986e-28 (far in the tail, where 1 − Φ
    // differences would be zero).
    #expect(abs(logNormalProbability(from: 10, to: 11) - log(7.6198530241604e-24 - 1.9106595744986e-28)) < 1e-9)
    #expect(abs(logNormalProbability(from: -11, to: -10) - log(7.6198530241604e-24 - 1.9106595744986e-28)) < 1e-9)
  }
}
