import ScoreModels
import SDEKit

/// Levels of the Brownian tree of the adaptive SDE samplers: leaves of (T − ε)/2²⁰, the smallest
/// step they take: about 1e-6 where T ≈ 1 (every built-in process but edm), 7.6e-5 for edm at its
/// default T = σ_max = 80. Steps at tolerances down to 1e-5 are hundreds of times longer.
public let adaptiveSamplerTreeDepth = 20

/// The descriptors of `adaptive-sra1` and `gotta-go-fast`.
func adaptiveSDEDescriptor(_ sampler: SamplerName) -> SamplerDescriptor {
  switch sampler {
  case .gottaGoFast:
    return SamplerDescriptor(
      name: sampler.name,
      summary: "Gotta Go Fast (Jolicoeur-Martineau et al. 2021): Euler–Maruyama with an improved-Euler error estimate, scaled ℓ2 (RMS) error, adaptive (--rtol --atol)",
      stochastic: true, order: 1, evaluationsPerStep: nil, adaptive: true, family: .sde, requirement: .any)
  default:
    return SamplerDescriptor(
      name: sampler.name,
      summary: "reverse-time SDE under SRA1 with its embedded error estimate and PI step control on a Brownian tree, adaptive (--rtol --atol)",
      stochastic: true, order: 1.5, evaluationsPerStep: nil, adaptive: true, family: .sde, requirement: .any)
  }
}

/// The step-size controller of `adaptive-sra1`: SDEKit's default for the embedded estimate
/// (`AdaptiveSDESettings.defaultController(order: 1.5)`) but growing up to 2× per step, not
/// 1.2×. The default suits problems that do not contract; the reverse process leaves its early
/// steps' errors behind, so its steps must grow fast once t leaves T. Measured on gmm2d8 at the
/// quality test's setting (per sample, atol 0.05, rtol 1e-6, 20,000 samples, seeds 1 and 2): NFE
/// 45 against 67 at 1.2×, the mean log-density within 2 standard errors of the exact value either way.
public let adaptiveSRA1Controller = {
  var controller = AdaptiveSDESettings.defaultController(order: 1.5)
  controller.maxGrowth = 2
  return controller
}()

/// Runs an adaptive SDE sampler over [t0 = T, t1 = ε]: the reverse-time SDE with the process's
/// additive diffusion, on the Brownian tree of `seed` (its own stream, `.brownianTree`, so not
/// the path of `BrownianAddressing.path`). Tolerances from `settings.adaptive` (`adaptive-sra1`
/// also takes its norm; `gotta-go-fast` always uses the paper's RMS), mode from `settings.mode`.
///
/// `adaptive-sra1` weighs each step's error by how much of it reaches the sample at ε
/// (`FinalSampleSensitivity`): the reverse process forgets where it was near T, so an error there
/// moves the sample by a(t)/a(ε) of itself (VP) — 1/150 of it at T for the built-in VP process.
/// Unweighted, the controller spent most of its steps in [0.5, 1] and needed 1.5–2× the
/// evaluations for the same mean log-density on gmm2d8 (rtol = atol = 0.05: NFE 67 against 38
/// weighted at 0.03, both within 0.03 of the exact value).
///
/// Returns the samples, score evaluations per sample (in per-sample mode their mean rounded down)
/// and, in per-sample mode, the evaluations summed over the samples, counted: a run split into
/// parts then adds up to the whole run's total (`SamplingResult.evaluations`).
func sampleAdaptiveSDE<P: DiffusionProcess, S: ScoreModel>(
  _ sampler: SamplerName, settings: SamplerSettings, process: P, score: S, initial: StateBatch,
  t0: Double, t1: Double, seed: UInt64, firstSample: Int, threads: Int?
) throws -> (StateBatch, Int, Int?) {
  let problem = SDEProblem(drift: ReverseDrift(process: process, score: score),
                           diffusion: ProcessDiffusion(process: process), initial: initial, t0: t0, t1: t1)
  let tree = try BrownianTree(seed: seed, t0: t0, t1: t1, depth: adaptiveSamplerTreeDepth)
  var adaptive = AdaptiveSDESettings(relativeTolerance: settings.adaptive.relativeTolerance,
                                     absoluteTolerance: settings.adaptive.absoluteTolerance)
  let solution: Solution
  switch sampler {
  case .gottaGoFast:
    // The paper's acceptance, E ≤ 1: SDEKit's default ratio 10 was measured for SRA1 and SRIW1's
    // embedded estimates (`AdaptiveSDESettings.rejectionRatio`), not for this method.
    adaptive.rejectionRatio = 1
    solution = try solve(problem, method: GottaGoFast(), settings: adaptive, noise: tree, mode: settings.mode,
                         firstSample: firstSample, threads: threads)
  default:
    adaptive.norm = settings.adaptive.norm
    adaptive.controller = adaptiveSRA1Controller
    let sensitivity = FinalSampleSensitivity(process: process, end: t1)
    solution = try solve(problem, solver: SRA1(), settings: adaptive, noise: tree, mode: settings.mode,
                         firstSample: firstSample, threads: threads, errorWeight: { sensitivity.at($0) })
  }
  let evaluations = solution.statistics.driftEvaluations
  guard settings.mode == .perSample else { return (solution.final, evaluations, nil) }
  return (solution.final, evaluations / max(1, initial.count), evaluations)
}

/// How much of a perturbation of x at time t reaches the sample at `end` under the reverse
/// process, for data of unit variance: ∂E[x_end | x_t]/∂x_t = (a(t)/a(end))·v(end)/v(t) with
/// v = a² + s² (the Gaussian posterior mean's slope). VP: a(t)/a(end); VE: (1 + σ_end²)/(1 + σ(t)²).
public struct FinalSampleSensitivity<P: DiffusionProcess>: Sendable {
  public let process: P
  public let end: Double

  public init(process: P, end: Double) {
    self.process = process
    self.end = end
  }

  public func at(_ t: Double) -> Double {
    let at = process.meanCoefficient(t), st = process.standardDeviation(t)
    let ae = process.meanCoefficient(end), se = process.standardDeviation(end)
    return (at / ae) * (ae * ae + se * se) / (at * at + st * st)
  }
}

/// The pathwise reference of an adaptive SDE sampler's run (`compareSamplers`): SRA1 on `steps`
/// uniform steps from the same prior points (or `initial`) on the same Brownian tree, with the run's process
/// and score (the target's exact one or its learned model).
/// - Throws: `DiffusionError` for a bad configuration, or `initial` not of `configuration.count`
///   rows of the target's dimension.
public func adaptiveSDEReference(_ configuration: SamplingConfiguration, steps: Int,
                                 initial: StateBatch? = nil) throws -> StateBatch {
  try configuration.validate()
  let initial = try startingRows(configuration, initial: initial, rows: 0..<configuration.count)
  let network = try configuration.model.map { try SafeTensors.read($0) }
  func run<P: DiffusionProcess>(_ process: P) throws -> StateBatch {
    let times = configuration.times
    let (t0, t1) = (times[0], times[times.count - 1])
    let tree = try BrownianTree(seed: configuration.seed, t0: t0, t1: t1, depth: adaptiveSamplerTreeDepth)
    func solve<S: ScoreModel>(_ score: S) throws -> StateBatch {
      let initial = initial
        ?? priorSamples(process, count: configuration.count, dimension: score.dimension, seed: configuration.seed)
      let problem = SDEProblem(drift: ReverseDrift(process: process, score: score),
                               diffusion: ProcessDiffusion(process: process), initial: initial, t0: t0, t1: t1)
      return try solveOnTree(problem, solver: SRA1(), steps: steps, tree: tree, threads: configuration.threads)
    }
    if let network { return try solve(MLPScore(mlp: network, process: process)) }
    return try solve(ExactMixtureScore(mixture: configuration.target.mixture, process: process))
  }
  return try run(configuration.diffusionProcess)
}
