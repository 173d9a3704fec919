import Foundation
import GSLIntegrators
import SDEKit
import ScoreModels
import Testing
@testable import Samplers

/// A sampler under a process, at the setting the quality test calls converged.
struct SamplerCase: CustomTestStringConvertible, Sendable {
  let sampler: SamplerName
  let process: ProcessName
  var testDescription: String { "\(sampler.name) on \(process.rawValue)" }

  /// The converged settings, per sampler: fixed-step SDE solvers of strong order ≤ 1 take 1000
  /// steps, SRA1/SRIW1 200; fixed-step ODE solvers 2000 (Euler), 200 (Heun, midpoint, RK4);
  /// adaptive ODE solvers rtol = atol = 1e-5 on the whole batch, except GSL's implicit steppers
  /// (per sample at 1e-3: batch mode would need a dense 40,000² Jacobian); DDPM 1000 steps,
  /// DDIM 500, PC 500 (one corrector step, r = 0.16), annealed Langevin 500 levels × 5 steps at
  /// r = 0.3; issue 21's samplers 1000 steps if stochastic or first order, else 200.
  var configuration: SamplingConfiguration {
    var c = SamplingConfiguration()
    c.process = process
    c.sampler = sampler
    c.count = 20_000
    c.seed = 1
    switch sampler {
    case .reverseSDE(.sra1), .reverseSDE(.sriw1): c.steps = 200
    case .reverseSDE: c.steps = 1000
    case .probabilityFlow(.euler): c.steps = 2000
    case .probabilityFlow: c.steps = 200
    case .probabilityFlowGSL(let stepper) where stepper.needsJacobian:
      c.mode = .perSample
      c.relativeTolerance = 1e-3
      c.absoluteTolerance = 1e-3
    case .probabilityFlowGSL: break
    case .ddpm: c.steps = 1000
    case .ddim: c.steps = 500
    case .pcLangevin: c.steps = 500
    case .annealedLangevin:
      c.steps = 500
      c.diffusionSettings.correctorSteps = 5
      c.diffusionSettings.snr = 0.3
    case .fast(let name):
      // Issue 21's samplers: stochastic and first-order ones as DDPM, the others 200.
      let descriptor = name.descriptor
      c.steps = descriptor.stochastic || descriptor.order == 1 ? 1000 : 200
    // Adaptive SDE samplers per sample. adaptive-sra1: atol 0.05, a tenth of the components'
    // deviation, the relative part left out (rtol 1e-6) as the states grow to |x| ≈ 4;
    // gotta-go-fast: rtol = atol = 0.005 (at 0.01 its VE mean log p was 0.036 off).
    case .adaptiveSRA1:
      c.mode = .perSample
      c.relativeTolerance = 1e-6
      c.absoluteTolerance = 0.05
    case .gottaGoFast:
      c.mode = .perSample
      c.relativeTolerance = 0.005
      c.absoluteTolerance = 0.005
    }
    return c
  }

  /// Score evaluations per sample a fixed-step sampler makes at this setting (nil: adaptive).
  var expectedEvaluations: Int? {
    let c = configuration, d = sampler.descriptor
    switch sampler {
    case .pcLangevin: return c.steps * (c.diffusionSettings.correctorSteps + 1)
    case .annealedLangevin: return c.steps * c.diffusionSettings.correctorSteps
    default: return d.evaluationsPerStep.map { c.steps * $0 }
    }
  }
}

@Suite("Samplers")
struct SamplersTests {
  static let qualityCases: [SamplerCase] = SamplerName.allCases.flatMap { sampler in
    [ProcessName.vp, .ve].filter { sampler.descriptor.processes.contains($0) }.map { SamplerCase(sampler: sampler, process: $0) }
  }

  /// The quality test's bound on the covariance error of 20,000 samples of gmm2d8: 2.5 times the
  /// median for exact sample sets of that size (from 32 sets). Exact sets pass it about 99 % of
  /// the time: over 400 exact sets the median was 0.076, the 95th percentile 1.9 times it, the
  /// 99th 2.4 times and the largest 3.0 times. (Twice the median of 7 sets, the bound before,
  /// was near the 90th percentile: seed changes failed correct samplers.)
  static let covarianceErrorBound: Double = {
    let target = TargetName.gmm2d8.mixture
    let errors = (0..<32).map { momentErrors(target.sample(count: 20_000, seed: 1000 + UInt64($0)), target: target).1 }
      .sorted()
    return 2.5 * (errors[15] + errors[16]) / 2
  }()

  /// E_p[log p] of gmm2d8 from 200,000 exact samples (standard error ≈ 0.0022).
  static let exactMeanLogDensity = meanLogDensity(TargetName.gmm2d8.mixture.sample(count: 200_000, seed: 7),
                                                  target: TargetName.gmm2d8.mixture)

  /// Mean log p₀ under gmm2d8 and the standard error of its difference from
  /// `exactMeanLogDensity`: sd/√n from the samples and sd/√200,000 from the exact estimate.
  static func meanLogDensityAndError(_ samples: StateBatch) -> (Double, Double) {
    let target = TargetName.gmm2d8.mixture
    let n = Double(samples.count)
    var logs = [Double](repeating: 0, count: samples.count)
    samples.values.withUnsafeBufferPointer { xp in
      logs.withUnsafeMutableBufferPointer { target.evaluate(xp, a: 1, s: 0, logDensity: $0, score: nil) }
    }
    let mean = logs.reduce(0, +) / n
    let sd = (logs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)).squareRoot()
    return (mean, sd * (1 / n + 1 / 200_000).squareRoot())
  }

  /// The VE probability-flow ODE's own limit for the quality test's prior points: GSL rk8pd at
  /// rtol = atol = 1e-10 from the same 20,000 prior samples (seed 1).
  ///
  /// The VE prior N(0, σ_max² I) is narrower than the true p_T (variance 100 against
  /// 100 + 8.25 per coordinate for gmm2d8), as in score_sde. A deterministic flow carries that
  /// mismatch to t = ε: its covariance error is about 0.17–0.25 for any seed, about three exact
  /// medians, and its mean log p is 0.03 too high. Stochastic samplers forget part of it.
  /// So the VE flow samplers are held to this limit instead of to exact samples.
  static let veFlowLimit: StateBatch = {
    var c = SamplerCase(sampler: .probabilityFlowGSL(.rk8pd), process: .ve).configuration
    c.relativeTolerance = 1e-10
    c.absoluteTolerance = 1e-10
    return try! runSampler(c).samples
  }()

  /// The unbiased sample covariance, row-major d × d.
  static func covariance(_ samples: StateBatch) throws -> [Double] {
    var metrics = StreamingMetrics(target: TargetName.gmm2d8.mixture)
    try metrics.add(samples)
    return metrics.covariance
  }

  @Test("Every sampler at its converged setting reproduces gmm2d8", arguments: qualityCases)
  func quality(_ c: SamplerCase) throws {
    let target = TargetName.gmm2d8.mixture
    let result = try runSampler(c.configuration)
    let n = Double(result.samples.count)
    let heldToFlowLimit = c.process == .ve && !c.sampler.descriptor.stochastic
    // (The sliced W2 of `evaluateSamples` is left out here: between exact sets it already
    // varies as 0.087 ± 0.024, and its 768 sorts would double the test's time.)
    // 1. Covariance error within `covarianceErrorBound` (for the VE flow, measured from its own
    //    limit on the same prior points).
    var covarianceError = momentErrors(result.samples, target: target).1
    if heldToFlowLimit {
      covarianceError = zip(try Self.covariance(result.samples), try Self.covariance(Self.veFlowLimit))
        .reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
    }
    #expect(covarianceError <= Self.covarianceErrorBound,
            "covariance error \(covarianceError), bound \(Self.covarianceErrorBound)")
    // 2. Each mode within 4 binomial standard errors of 1/8.
    let binomial = (0.125 * 0.875 / n).squareRoot()
    var counts = [Double](repeating: 0, count: 8)
    for k in target.mostResponsibleComponent(result.samples.values) { counts[k] += 1 }
    for (k, count) in counts.enumerated() {
      #expect(abs(count / n - 0.125) <= 4 * binomial, "mode \(k): \(count / n)")
    }
    // 3. Score evaluations per sample, counted as they happen, against the descriptor's.
    if let expected = c.expectedEvaluations {
      #expect(result.nfe == expected, "NFE \(result.nfe), expected \(expected)")
    }
    // 4. Mean log-density within 4 Monte-Carlo standard errors of E_p[log p] (for the VE flow, of its limit).
    //    GSL's first-order rk1imp on the VE flow is still converging at settings a test can
    //    afford (per sample at 1e-3 its mean log p is 0.036, 5 SE, from the limit; 1e-4 takes
    //    170 s). It is held instead to converging on the limit sample by sample: from rtol = atol
    //    = 1e-2 to 1e-3 its RMS distance to the limit must fall at least threefold (first order:
    //    about tenfold).
    if heldToFlowLimit && c.sampler == .probabilityFlowGSL(.rk1imp) {
      var coarse = c.configuration
      coarse.relativeTolerance = 1e-2
      coarse.absoluteTolerance = 1e-2
      let coarseError = pathError(try runSampler(coarse).samples, Self.veFlowLimit).rms
      let fineError = pathError(result.samples, Self.veFlowLimit).rms
      #expect(fineError * 3 <= coarseError, "RMS distance to the limit \(coarseError) at 1e-2, \(fineError) at 1e-3")
      return
    }
    let (mean, standardError) = Self.meanLogDensityAndError(result.samples)
    let expected = heldToFlowLimit ? meanLogDensity(Self.veFlowLimit, target: target) : Self.exactMeanLogDensity
    #expect(abs(mean - expected) <= 4 * standardError, "mean log p \(mean), expected \(expected), SE \(standardError)")
  }

  @Test("Stochastic samplers give the same bits for any thread count and batch size",
        arguments: SamplerName.allCases.filter { $0.descriptor.stochastic })
  func reproducible(_ sampler: SamplerName) throws {
    var c = SamplingConfiguration()
    c.sampler = sampler
    c.process = sampler.descriptor.processes.contains(.vp) ? .vp : .ve
    c.steps = 20
    c.count = 64
    c.seed = 3
    c.diffusionSettings.eta = 0.5
    // Adaptive SDE samplers: per sample (in batch mode one step size couples the rows).
    c.mode = .perSample
    c.threads = 1
    let one = try runSampler(c).samples
    c.threads = 3
    #expect(try runSampler(c).samples == one)
    c.count = 40
    c.threads = 2
    #expect(try runSampler(c).samples == one.rows(0..<40))
  }

  @Test("Sampling consecutive row ranges gives the whole run's bits (what streaming relies on)",
        arguments: SamplerName.allCases)
  func rowRanges(_ sampler: SamplerName) throws {
    var c = SamplingConfiguration()
    c.sampler = sampler
    c.process = sampler.descriptor.processes.contains(.vp) ? .vp : .ve
    c.steps = 10
    c.count = 50
    c.seed = 11
    c.diffusionSettings.eta = 0.5
    // Batch-mode adaptive solves couple the rows through one step size; per sample they do not.
    c.mode = .perSample
    c.relativeTolerance = 1e-3
    c.absoluteTolerance = 1e-3
    let whole = try runSampler(c).samples
    var pieces: [Double] = []
    for rows in [0..<17, 17..<18, 18..<50] { pieces += try runSampler(c, rows: rows).samples.values }
    #expect(pieces == whole.values)
  }

  @Test("Metrics taken chunk by chunk equal the metrics of the whole set")
  func streamingMetrics() throws {
    let target = TargetName.gmm2d8.mixture
    let samples = target.sample(count: 30_000, seed: 5)
    let whole = try evaluateSamples(samples, target: target, seed: 2, floor: 0)
    var streamed = StreamingMetrics(target: target, seed: 2)
    for rows in [0..<7_000, 7_000..<7_001, 7_001..<30_000] { try streamed.add(samples.rows(rows)) }
    let chunked = try streamed.finish(floor: 0)
    // The head of 20,000 rows for sliced W2 and the occupancy counts are the same numbers; the
    // merged moments differ from the one-pass ones only by rounding (values of size ~5, 3·10⁴ terms).
    #expect(chunked.slicedW2 == whole.slicedW2 && chunked.modeOccupancy == whole.modeOccupancy)
    #expect(abs(chunked.meanError - whole.meanError) <= 1e-12)
    #expect(abs(chunked.covarianceError - whole.covarianceError) <= 1e-11)
    #expect(abs(chunked.meanLogDensity - whole.meanLogDensity) <= 1e-12)
  }

  /// The Gaussian target's probability-flow map is exact:
  /// x_t = a(t)μ + √(v(t)/v(T))·(x_T − a(T)μ), v = a²σ₀² + s², per component.
  func exactFlow(_ prior: StateBatch, process: VPSDE, epsilon: Double) -> StateBatch {
    let target = TargetName.gaussian.mixture
    var out = prior
    for r in 0..<prior.count {
      for j in 0..<2 {
        let mu = target.means[0][j], sigma = target.standardDeviations[0][j]
        let v = { (t: Double) -> Double in
          let a = process.meanCoefficient(t), s = process.standardDeviation(t)
          return a * a * sigma * sigma + s * s
        }
        out[r, j] = process.meanCoefficient(epsilon) * mu
          + (v(epsilon) / v(process.T)).squareRoot() * (prior[r, j] - process.meanCoefficient(process.T) * mu)
      }
    }
    return out
  }

  @Test("Gaussian target, probability-flow ODE: fixed-step slopes against the exact flow map",
        arguments: [(SolverName.euler, 1.0), (.heun, 2.0), (.rk4, 4.0)])
  func flowOrder(_ solver: SolverName, declared: Double) throws {
    let process = VPSDE(), epsilon = 1e-3
    let score = ExactMixtureScore(mixture: TargetName.gaussian.mixture, process: process)
    let prior = priorSamples(process, count: 100, dimension: 2, seed: 8)
    let exact = exactFlow(prior, process: process, epsilon: epsilon)
    guard case .ode(let method) = solver.solver else { return }
    var errors: [Double] = [], steps: [Double] = []
    // Levels 6…10: with β up to 20 the coarser grids are not yet in the asymptotic range.
    for level in 6...10 {
      let n = 1 << level
      let final = try solve(probabilityFlowODE(process: process, score: score, initial: prior, epsilon: epsilon),
                            solver: method, grid: .uniform(steps: n)).final
      errors.append(zip(final.values, exact.values).map { abs($0 - $1) }.max()!)
      steps.append(Double(n))
    }
    let slope = -leastSquaresSlope(x: steps.map { log($0) }, y: errors.map { log($0) })
    #expect(abs(slope - declared) <= 0.3, "slope \(slope): errors \(errors)")
  }

  @Test("Gaussian target, probability-flow ODE: adaptive solvers meet their tolerance",
        arguments: ["ode-dopri5", "ode-gsl-rkf45", "ode-gsl-rk8pd", "ode-gsl-msadams"])
  func flowAdaptive(_ name: String) throws {
    let process = VPSDE()
    for tolerance in [1e-4, 1e-7] {
      var c = SamplingConfiguration()
      c.sampler = try SamplerName.named(name)
      c.target = .gaussian
      c.count = 100
      c.seed = 8
      c.relativeTolerance = tolerance
      c.absoluteTolerance = tolerance
      let result = try runSampler(c)
      let exact = exactFlow(priorSamples(process, count: 100, dimension: 2, seed: 8), process: process, epsilon: 1e-3)
      let error = zip(result.samples.values, exact.values).map { abs($0 - $1) / (1 + abs($1)) }.max()!
      // Errors accumulate over the steps of a local-error control (see GSLIntegrators' tests);
      // measured at most 6× the tolerance here, asserted 30×.
      #expect(error <= 30 * tolerance, "\(name) at \(tolerance): error \(error)")
    }
  }

  @Test("Gaussian target, reverse SDE: strong order against a 2¹⁴-step solution on the same path",
        arguments: [(SolverName.eulerMaruyama, TargetName.gaussian, 1.0), (.sra1, .gaussian, 2.0), (.sra1, .gmm2d8, 1.5)])
  func reverseStrongOrder(_ solver: SolverName, target: TargetName, expected: Double) throws {
    let process = VPSDE(), epsilon = 1e-3, paths = 400
    let score = ExactMixtureScore(mixture: target.mixture, process: process)
    let prior = priorSamples(process, count: paths, dimension: 2, seed: 12)
    let problem = reverseSDE(process: process, score: score, initial: prior, epsilon: epsilon)
    let grid = BrownianGrid(seed: 12, t0: process.T, t1: epsilon, finestSteps: 1 << 14)
    let reference = try solve(problem, solver: SRA1(), grid: .uniform(steps: 1 << 14), noise: grid).final
    guard case .sde(let method) = solver.solver else { return }
    var errors: [Double] = [], sizes: [Double] = []
    for level in 6...10 {
      let final = try solve(problem, solver: method, grid: .uniform(steps: 1 << level), noise: grid).final
      var total = 0.0
      for r in 0..<paths {
        let dx = final[r, 0] - reference[r, 0], dy = final[r, 1] - reference[r, 1]
        total += (dx * dx + dy * dy).squareRoot()
      }
      errors.append(total / Double(paths))
      sizes.append((process.T - epsilon) / Double(1 << level))
    }
    let slope = leastSquaresSlope(x: sizes.map { log($0) }, y: errors.map { log($0) })
    // ±0.25 as the issue states. On the Gaussian target the reverse SDE is linear with additive
    // noise, where SRA1's order-1.5 remainder vanishes and it measures 1.93 (as on the linear
    // additive SDE in SDEKit's tests); its declared 1.5 shows on gmm2d8, whose score is nonlinear.
    #expect(abs(slope - expected) <= 0.25, "slope \(slope): errors \(errors)")
  }

  @Test("Predictor–corrector with each predictor reproduces gmm2d8", arguments: PCPredictor.allCases)
  func predictors(_ predictor: PCPredictor) throws {
    for process in [ProcessName.vp, .ve] {
      var c = SamplerCase(sampler: .pcLangevin, process: process).configuration
      c.diffusionSettings.predictor = predictor
      let samples = try runSampler(c).samples
      let target = TargetName.gmm2d8.mixture
      // The quality test's covariance and mean log-density criteria, for each predictor.
      #expect(momentErrors(samples, target: target).1 <= Self.covarianceErrorBound, "\(process)")
      let (mean, standardError) = Self.meanLogDensityAndError(samples)
      #expect(abs(mean - Self.exactMeanLogDensity) <= 4 * standardError, "\(process): \(mean)")
    }
  }

  @Test("Metrics of exact samples sit at their floors")
  func metricsOfExactSamples() throws {
    let target = TargetName.gmm2d8.mixture
    let metrics = try evaluateSamples(target.sample(count: 20_000, seed: 77), target: target, seed: 5)
    // An exact set is another draw of the floor's pairs: within the floor's spread (0.087 ± 0.024
    // for 20,000 samples) — asserted within 3× the floor.
    #expect(metrics.slicedW2 < 3 * metrics.slicedW2Floor, "\(metrics.slicedW2) vs floor \(metrics.slicedW2Floor)")
    #expect(metrics.slicedW2Floor > 0.02 && metrics.slicedW2Floor < 0.2)
    #expect(abs(metrics.meanLogDensity - metrics.exactMeanLogDensity) < 0.04)
    #expect(metrics.modeOccupancy.allSatisfy { abs($0 - 0.125) < 0.01 })
  }

  @Test("The sliced W2's sort agrees with Swift's sort, on its bucket path and on the radix path it falls back to")
  func sorting() {
    var normals = [Double](repeating: 0, count: 5_000)
    normals.withUnsafeMutableBufferPointer { NormalSource(seed: 12).fill(rows: 0..<5_000, stream: .brownian(interval: 0), count: 1, scale: 1, into: $0.baseAddress!) }
    let workspace = SortWorkspace(capacity: 5_000)
    let cases: [[Double]] = [
      normals,                                    // smooth: buckets of one or two
      normals.map { ($0 * 2).rounded() },          // many ties: buckets past 64, radix
      Array(normals.dropLast()) + [1e12],          // an outlier squeezes the rest: radix
      [3, -1e308, 1e308, 0, -0.5],                 // the span overflows: radix
      [Double](repeating: 2.5, count: 100), [1], [], [2, 1], [-1, 1, -1, 1],
    ]
    for values in cases {
      var sorted = values
      sorted.withUnsafeMutableBufferPointer { sortFinite($0, workspace: workspace) }
      #expect(sorted == values.sorted(), "\(values.prefix(5))…, \(values.count) values")
    }
  }

  @Test("Bad settings give errors that name the value")
  func errors() throws {
    func failure(_ change: (inout SamplingConfiguration) -> Void) -> String? {
      var c = SamplingConfiguration()
      c.count = 4
      c.steps = 4
      change(&c)
      do {
        _ = try runSampler(c)
        return nil
      } catch { return "\(error)" }
    }
    #expect(failure { $0.epsilon = 0 }?.contains("ε") == true)
    #expect(failure { $0.epsilon = 1 }?.contains("1") == true)
    #expect(failure { $0.steps = 0 }?.contains("steps") == true)
    #expect(failure { $0.sampler = SamplerName(name: "ddpm")!; $0.process = .ve }?.contains("ve") == true)
    #expect(failure { $0.sampler = SamplerName(name: "annealed-langevin")!; $0.process = .vp }?.contains("vp") == true)
    // diffusers' DDIM stride ⌊N/n⌋ is 0 beyond N steps: refused, naming both.
    let stride = failure {
      $0.process = .ddpm
      $0.sampler = .ddim
      $0.steps = 2000
      var fast = FastSamplerSettings()
      fast.diffusersDDIMStride = true
      $0.fastSamplers = fast
    }
    #expect(stride?.contains("2000") == true && stride?.contains("1000") == true, "\(stride ?? "no error")")
    // η of a sampler that takes none.
    let eta = failure {
      $0.sampler = .fast(.dpmSolver1)
      var fast = FastSamplerSettings()
      fast.eta = 0.5
      $0.fastSamplers = fast
    }
    #expect(eta?.contains("--eta") == true && eta?.contains("dpm-solver-1") == true, "\(eta ?? "no error")")
    // gotta-go-fast's norm is the paper's RMS; another is not silently ignored.
    let norm = failure {
      $0.sampler = .gottaGoFast
      $0.mode = .perSample
      $0.relativeTolerance = 1e-2
      $0.absoluteTolerance = 1e-2
      $0.errorNorm = .maximum
    }
    #expect(norm?.contains("gotta-go-fast") == true && norm?.contains("max") == true, "\(norm ?? "no error")")
    let unknown = try #require({ () -> String? in
      do { _ = try SamplerName.named("nope"); return nil } catch { return "\(error)" }
    }())
    #expect(unknown.contains("nope") && unknown.contains("euler-maruyama") && unknown.contains("ode-gsl-rk8pd"))
    let wrong = StateBatch(count: 4, dimension: 3)
    #expect(throws: DiffusionError.self) { try evaluateSamples(wrong, target: TargetName.gmm2d8.mixture) }
  }

  @Test("Time grids run from T to ε and are monotone", arguments: TimeGridKind.allCases)
  func grids(_ kind: TimeGridKind) {
    for process in [ProcessName.vp, .ve] {
      let times = kind.times(process: process.process, steps: 50, epsilon: 1e-3)
      #expect(times.count == 51 && times.first == process.process.T && times.last == 1e-3)
      #expect(zip(times, times.dropFirst()).allSatisfy { $0 > $1 }, "\(kind) on \(process)")
    }
  }
}

@Suite("README sampling example")
struct ReadmeSamplingExample {
  @Test("The README's sampling snippet runs and lands at the floor")
  func readme() throws {
    var run = SamplingConfiguration()           // VP SDE, gmm2d8, 1000 steps, 10,000 samples
    run.sampler = SamplerName(name: "sra1")!                        // any name from `sdekit list samplers`
    run.steps = 200
    let result = try runSampler(run)            // exact score of the target; or sample(_:process:score:)
    let metrics = try evaluateSamples(result.samples, target: TargetName.gmm2d8.mixture)
    #expect(result.nfe == 400)
    // Converged: within twice the noise floor of sliced W2 at 10,000 samples.
    #expect(metrics.slicedW2 < 2 * metrics.slicedW2Floor, "\(metrics.slicedW2) vs \(metrics.slicedW2Floor)")
  }
}

@Suite("Shipped learned scores")
struct ShippedModels {
  @Test("The shipped gmm2d8 model with Euler–Maruyama in 1000 steps: every mode within 0.125 ± 0.03, sliced W2 ≤ 0.25")
  func gmm2d8Model() throws {
    let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("Models/gmm2d8.safetensors").path
    var c = SamplingConfiguration()
    c.model = path
    c.count = 20_000
    c.steps = 1000
    let result = try runSampler(c)
    let metrics = try evaluateSamples(result.samples, target: TargetName.gmm2d8.mixture)
    // ±0.03 is 13 standard errors of an occupancy at 20,000 samples (√(0.125·0.875/20000) = 0.0023):
    // a miss means a mode the network did not learn, not noise. The exact score reaches the floor
    // (0.058); 0.25 leaves room for the network's error.
    for (k, occupancy) in metrics.modeOccupancy.enumerated() {
      #expect(abs(occupancy - 0.125) <= 0.03, "mode \(k): \(occupancy)")
    }
    #expect(metrics.slicedW2 <= 0.25, "sliced W2 \(metrics.slicedW2)")
  }
}
