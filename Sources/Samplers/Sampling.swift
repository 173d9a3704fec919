import Foundation
import GSLIntegrators
import ScoreModels
import SDEKit

/// The settings of the samplers, beyond which sampler and which grid.
public struct SamplerSettings: Sendable, Hashable, Codable {
  /// DDPM's per-step variance: β (true) or the posterior β̃ (false).
  public var ancestralUsesBeta: Bool = true
  /// DDIM's η ∈ [0, 1]: 0 deterministic, 1 DDPM-like.
  public var eta: Double = 0
  /// The Langevin corrector of `pc-langevin` and `annealed-langevin`.
  public var corrector = LangevinCorrector()
  /// The predictor of `pc-langevin`.
  public var predictor: PCPredictor = .reverseDiffusion
  /// Tolerances and norm of the adaptive probability-flow samplers.
  public var adaptive = AdaptiveSettings(tolerance: 1e-5)
  /// Adaptive samplers: the batch as one system or each sample on its own.
  public var mode: SystemMode = .batch
  /// The fast samplers' settings (and diffusers' DDIM stride).
  public var fastSamplers = FastSamplerSettings()

  public init() {}

  /// Throws naming the first setting out of range.
  public func validate() throws {
    guard (0...1).contains(eta) else { throw DiffusionError.invalidSetting("η must lie in [0, 1], got \(eta)") }
    guard corrector.snr > 0, corrector.snr.isFinite else {
      throw DiffusionError.invalidSetting("snr must be positive, got \(corrector.snr)")
    }
    guard corrector.steps >= 1 else {
      throw DiffusionError.invalidSetting("corrector steps must be at least 1, got \(corrector.steps)")
    }
    do { try adaptive.validate() } catch let error as SolveError { throw DiffusionError.invalidSetting(error.description) }
  }
}

/// How SDE samplers and the noise of DDPM-like samplers address their Brownian increments.
public enum BrownianAddressing: Sendable, Hashable, Codable {
  /// Independent increments per step of the sampler's own grid (`BrownianIncrements`): cheapest.
  case perStep
  /// One Brownian path per sample over the sampler's interval, fixed on 2^`levels` fine
  /// intervals (`BrownianGrid`): every grid on the interval samples the same path, so samplers
  /// with different grids, and a reference run, can be compared sample by sample.
  case path(levels: Int)
}

/// Samples and what they cost.
public struct SamplingResult: Sendable {
  public var samples: StateBatch
  /// Score evaluations per sample, counted.
  public var nfe: Int
  /// Score evaluations summed over the samples: nfe × count, except in per-sample adaptive
  /// solves, where each sample takes its own number (and `nfe` is their mean rounded down).
  /// Runs sampled in parts add these up exactly.
  public var evaluations: Int
  public var seconds: Double

  public init(samples: StateBatch, nfe: Int, seconds: Double, evaluations: Int? = nil) {
    self.samples = samples
    self.nfe = nfe
    self.evaluations = evaluations ?? nfe * samples.count
    self.seconds = seconds
  }
}

/// Called with the time t each score evaluation reaches, from any thread; sampling runs from T
/// down to ε, so T − t measures progress.
public typealias SamplingProgress = @Sendable (_ t: Double) -> Void

/// Runs `sampler` with any process and score model from your own starting points over your own
/// time grid: the library's door to every sampler in the registry.
///
/// - Parameters:
///   - initial: the rows at `times[0]` (usually prior draws at T; `priorSamples` makes them).
///   - times: the grid, strictly decreasing within [0, T] (adaptive samplers use its ends only).
///   - seed: keys every random stream; sample i is a pure function of (seed, firstSample + i).
///   - brownian: per-step increments, or one shared path (see `BrownianAddressing`).
///   - firstSample: the sample index of `initial`'s first row, so a run sampled in parts
///     concatenates to the whole run bit for bit (not for adaptive samplers in batch mode, whose
///     one system is the batch given).
///   - progress: told the time of every score evaluation.
/// - Throws: `DiffusionError` when the sampler cannot sample this process, a setting or the
///   grid is out of range, or the dimensions differ; `SolveError` when the state or a solve fails.
public func sample<P: DiffusionProcess, S: ScoreModel>(
  _ sampler: SamplerName, settings: SamplerSettings = SamplerSettings(), process: P, score: S,
  initial: StateBatch, times: [Double], seed: UInt64 = 0, brownian: BrownianAddressing = .perStep,
  firstSample: Int = 0, threads: Int? = nil, progress: SamplingProgress? = nil
) throws -> SamplingResult {
  if let progress {
    return try sample(sampler, settings: settings, process: process, score: ReportingScore(base: score, report: progress),
                      initial: initial, times: times, seed: seed, brownian: brownian, firstSample: firstSample,
                      threads: threads)
  }
  try checkSampling(sampler, settings: settings, process: process, score: score, initial: initial, times: times,
                    brownian: brownian)
  let clock = ContinuousClock(), start = clock.now
  let (t0, t1) = (times[0], times[times.count - 1])

  // (samples, NFE per sample, evaluations summed over the samples when they differ per sample)
  func run<B: BrownianSource>(_ noise: B) throws -> (StateBatch, Int, Int?) {
    switch sampler {
    case .reverseSDE(let name):
      guard case .sde(let solver) = name.solver else { throw notA("an SDE solver", name.rawValue) }
      let problem = SDEProblem(drift: ReverseDrift(process: process, score: score),
                               diffusion: ProcessDiffusion(process: process), initial: initial, t0: t0, t1: t1)
      let solution = try solve(problem, solver: solver, grid: .times(times), noise: noise,
                               firstSample: firstSample, threads: threads)
      return (solution.final, solution.statistics.driftEvaluations, nil)
    case .probabilityFlow(let name):
      let ode = ODEProblem(field: ProbabilityFlowField(process: process, score: score), initial: initial, t0: t0, t1: t1)
      switch name.solver {
      case .ode(let solver):
        let solution = try solve(ode, solver: solver, grid: .times(times), threads: threads)
        return (solution.final, solution.statistics.driftEvaluations, nil)
      case .adaptiveODE:
        return try solveAdaptive(ode, solver: DormandPrince5(settings: settings.adaptive), mode: settings.mode,
                                 threads: threads)
      case .sde:
        throw notA("an ODE solver", name.rawValue)
      }
    case .probabilityFlowGSL(let stepper):
      let ode = ODEProblem(field: ProbabilityFlowField(process: process, score: score), initial: initial, t0: t0, t1: t1)
      return try solveAdaptive(ode, solver: GSLODESolver(stepper, settings: settings.adaptive), mode: settings.mode,
                               threads: threads)
    case .ddpm:
      return try runDiffusion(DDPMAncestral(usesBeta: settings.ancestralUsesBeta), noise)
    case .ddim:
      guard settings.fastSamplers.diffusersDDIMStride == true else { return try runDiffusion(DDIM(eta: settings.eta), noise) }
      // checkFastSampling has refused the stride on any other process already.
      guard let chain = process as? DDPMChain else {
        throw DiffusionError.invalidSetting("--diffusers-ddim-stride applies to the ddpm chain; got \(process.name)")
      }
      return try runDiffusion(DDIMDiffusersStride(eta: settings.eta, trainSteps: chain.schedule.steps,
                                                  steps: times.count - 1), noise)
    case .pcLangevin:
      return try runDiffusion(PredictorCorrector(predictor: settings.predictor, corrector: settings.corrector), noise)
    case .annealedLangevin:
      return try runDiffusion(AnnealedLangevin(corrector: settings.corrector), noise)
    case .fast(let name):
      let (samples, nfe) = try name.run(settings.fastSamplers, DriveSampler(
        process: process, score: score, brownian: noise, seed: seed, initial: initial, times: times,
        firstSample: firstSample, threads: threads))
      return (samples, nfe, nil)
    case .adaptiveSRA1, .gottaGoFast:
      return try sampleAdaptiveSDE(sampler, settings: settings, process: process, score: score, initial: initial,
                                   t0: t0, t1: t1, seed: seed, firstSample: firstSample, threads: threads)
    }
  }

  func runDiffusion<D: DiffusionSampler, B: BrownianSource>(_ method: D, _ noise: B) throws -> (StateBatch, Int, Int?) {
    let result = try sample(with: method, process: process, score: score, initial: initial, times: times,
                            seed: seed, brownian: noise, firstSample: firstSample, threads: threads)
    return (result.samples, result.nfe, nil)
  }

  let (samples, nfe, evaluations): (StateBatch, Int, Int?)
  switch brownian {
  case .perStep:
    (samples, nfe, evaluations) = try run(BrownianIncrements(seed: seed))
  case .path(let levels):
    (samples, nfe, evaluations) = try run(BrownianGrid(seed: seed, t0: t0, t1: t1, finestSteps: 1 << levels))
  }
  let elapsed = clock.now - start
  return SamplingResult(samples: samples, nfe: nfe,
                        seconds: elapsed.inSeconds,
                        evaluations: evaluations)
}

/// Runs a diffusion sampler of your own — any `DiffusionSampler` — through the driver every
/// built-in sampler uses: tiled, threaded, its NFE counted, bit-identical for any split.
///
/// - Parameters:
///   - initial: the rows at `times[0]`; `times` strictly monotone.
///   - brownian: the source of the steps' own noise (`SamplerNoise.standardNormals(over:)`),
///     e.g. `BrownianIncrements(seed:)` or a shared `BrownianGrid`.
///   - seed: keys the named streams (`SamplerNoise.normals(_:)`).
/// - Throws: `DiffusionError` for mismatched dimensions, `SolveError` for a bad grid or a state
///   that stops being finite (with its row, step and time).
public func sample<D: DiffusionSampler, P: DiffusionProcess, S: ScoreModel, B: BrownianSource>(
  with sampler: D, process: P, score: S, initial: StateBatch, times: [Double], seed: UInt64 = 0,
  brownian: B, firstSample: Int = 0, threads: Int? = nil
) throws -> SamplingResult {
  guard score.dimension == initial.dimension else {
    throw DiffusionError.dimensionMismatch(
      "the score model has dimension \(score.dimension) but the initial batch has dimension \(initial.dimension)")
  }
  try brownian.validate(times: times)
  let clock = ContinuousClock(), start = clock.now
  let solution = try drive(SamplerMethod(sampler: sampler, process: process, score: score, brownian: brownian, seed: seed),
                           initial: initial, times: times, firstSample: firstSample, threads: threads)
  let elapsed = clock.now - start
  return SamplingResult(samples: solution.final, nfe: solution.statistics.driftEvaluations,
                        seconds: elapsed.inSeconds)
}

private func notA(_ kind: String, _ name: String) -> DiffusionError {
  .unsupported("\(name) is not \(kind); build the sampler from SamplerName.allCases or SamplerName(name:)")
}

/// Everything `sample` checks before it starts, each failure naming the value and what is allowed.
func checkSampling<P: DiffusionProcess, S: ScoreModel>(
  _ sampler: SamplerName, settings: SamplerSettings, process: P, score: S, initial: StateBatch, times: [Double],
  brownian: BrownianAddressing
) throws {
  let descriptor = sampler.descriptor
  guard descriptor.requirement.isMet(by: process) else {
    throw DiffusionError.unsupported(
      "\(sampler.name) needs a \(descriptor.requirement.rawValue) process; \(process.name) is not one (supported built-ins: \(descriptor.processes.map(\.rawValue).joined(separator: ", ")))")
  }
  if sampler == .pcLangevin, settings.predictor == .ancestral,
     !(SamplerDescriptor.Requirement.variancePreserving.isMet(by: process)
       || SamplerDescriptor.Requirement.varianceExploding.isMet(by: process)) {
    throw DiffusionError.unsupported(
      "the ancestral predictor needs a variance-preserving or variance-exploding process; got \(process.name)")
  }
  try settings.validate()
  try checkFastSampling(sampler, settings: settings.fastSamplers, process: process, times: times)
  guard score.dimension == initial.dimension else {
    throw DiffusionError.dimensionMismatch(
      "the score model has dimension \(score.dimension) but the initial batch has dimension \(initial.dimension)")
  }
  guard initial.count >= 1 else { throw DiffusionError.invalidSetting("the initial batch has no rows") }
  guard times.count >= 2 else {
    throw DiffusionError.invalidSetting("a sampling grid needs at least two times, got \(times.count)")
  }
  for i in times.indices {
    guard times[i].isFinite, times[i] >= 0, times[i] <= process.T * (1 + 1e-12) else {
      throw DiffusionError.invalidSetting("sampling time \(times[i]) (index \(i)) lies outside [0, T = \(process.T)] of \(process.name)")
    }
    if i > 0, !(times[i] < times[i - 1]) {
      throw DiffusionError.invalidSetting(
        "sampling times must decrease from T towards ε; times[\(i - 1)] = \(times[i - 1]), times[\(i)] = \(times[i])")
    }
  }
  if case .path(let levels) = brownian, !(0...24).contains(levels) {
    throw DiffusionError.invalidSetting("a shared Brownian path takes 0...24 levels (2^levels fine intervals), got \(levels)")
  }
}

/// An adaptive solve of the probability-flow ODE; NFE per sample (summed over samples in
/// per-sample mode, then divided by the count) and, in per-sample mode, that sum.
private func solveAdaptive<F: VectorField, S: AdaptiveODESolver>(
  _ ode: ODEProblem<F>, solver: S, mode: SystemMode, threads: Int?
) throws -> (StateBatch, Int, Int?) {
  let solution = try solve(ode, solver: solver, mode: mode, threads: threads)
  let evaluations = solution.statistics.driftEvaluations
  guard mode == .perSample else { return (solution.final, evaluations, nil) }
  return (solution.final, evaluations / max(1, ode.initial.count), evaluations)
}

/// A score model that reports each evaluation's time before evaluating.
struct ReportingScore<Base: ScoreModel>: ScoreModel {
  let base: Base
  let report: SamplingProgress

  var dimension: Int { base.dimension }

  func score(_ x: BatchView, t: Double, into output: MutableBatchView) {
    report(t)
    base.score(x, t: t, into: output)
  }

  func combination(_ x: BatchView, t: Double, xCoefficient c: Double, scoreCoefficient b: Double,
                   into output: MutableBatchView) {
    report(t)
    base.combination(x, t: t, xCoefficient: c, scoreCoefficient: b, into: output)
  }

  func dataPrediction(_ x: BatchView, t: Double, a: Double, s: Double, into output: MutableBatchView) {
    report(t)
    base.dataPrediction(x, t: t, a: a, s: s, into: output)
  }
}
