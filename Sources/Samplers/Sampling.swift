import Foundation
import GSLIntegrators
import ScoreModels
import SDEKit

/// One sampling run, fully described: what `sdekit sample` saves beside its output to replay it.
public struct SamplingConfiguration: Sendable, Codable, Hashable {
  public var process: ProcessName = .vp
  public var target: TargetName = .gmm2d8
  /// A `SamplerName.name`.
  public var sampler: String = "euler-maruyama"
  public var steps: Int = 1000
  public var grid: TimeGridKind = .uniform
  public var count: Int = 10_000
  public var seed: UInt64 = 0
  /// Where the reverse process stops; nil for the process's default.
  public var epsilon: Double?
  public var relativeTolerance: Double = 1e-5
  public var absoluteTolerance: Double = 1e-5
  /// The error norm of adaptive samplers; nil for the maximum (GSL's standard control).
  /// Optional so that configurations saved before it existed still load.
  public var errorNorm: ErrorNorm?
  public var mode: SystemMode = .batch
  /// A final Tweedie denoising step at ε.
  public var denoise: Bool = false
  public var diffusionSettings = DiffusionSamplerSettings()
  public var threads: Int?
  /// A learned score: the path of an MLP in safetensors format (see `SafeTensors`); nil for the
  /// target's exact score. The target then only serves the metrics.
  public var model: String?

  public init() {}

  /// The sampler, or an error listing the valid names.
  public func samplerName() throws -> SamplerName {
    guard let name = SamplerName(name: sampler) else {
      throw DiffusionError.invalidSetting(
        "unknown sampler '\(sampler)'; valid samplers: \(SamplerName.allCases.map(\.name).joined(separator: ", "))")
    }
    return name
  }

  /// Throws naming the first setting out of range.
  public func validate() throws {
    let name = try samplerName()
    let process = self.process.process
    guard steps >= 1 else { throw DiffusionError.invalidSetting("steps must be at least 1, got \(steps)") }
    guard count >= 1 else { throw DiffusionError.invalidSetting("count must be at least 1, got \(count)") }
    try process.validate(epsilon: epsilon ?? process.defaultEpsilon)
    guard name.descriptor.processes.contains(self.process) else {
      throw DiffusionError.unsupported(
        "\(name.name) supports the processes \(name.descriptor.processes.map(\.rawValue).joined(separator: ", ")); got \(self.process.rawValue)")
    }
    guard relativeTolerance > 0, absoluteTolerance > 0 else {
      throw DiffusionError.invalidSetting("rtol and atol must be positive, got \(relativeTolerance) and \(absoluteTolerance)")
    }
    if errorNorm != nil, !name.descriptor.adaptive {
      throw DiffusionError.invalidSetting("an error norm applies to adaptive samplers; \(name.name) takes fixed steps")
    }
    let s = diffusionSettings
    guard (0...1).contains(s.eta) else { throw DiffusionError.invalidSetting("η must lie in [0, 1], got \(s.eta)") }
    guard s.snr > 0 else { throw DiffusionError.invalidSetting("snr must be positive, got \(s.snr)") }
    if s.predictor == .ancestral && self.process == .subvp {
      throw DiffusionError.unsupported("the ancestral predictor needs a variance-preserving or variance-exploding process; got subvp")
    }
    guard s.correctorSteps >= 1 else {
      throw DiffusionError.invalidSetting("corrector steps must be at least 1, got \(s.correctorSteps)")
    }
    if let threads, threads < 1 { throw DiffusionError.invalidSetting("threads must be at least 1, got \(threads)") }
  }
}

/// Samples and what they cost.
public struct SamplingResult: Sendable {
  public var samples: StateBatch
  /// Score evaluations per sample.
  public var nfe: Int
  public var seconds: Double
}

/// Called with the time t each score evaluation reaches, from any thread; sampling runs from T
/// down to ε, so T − t measures progress.
public typealias SamplingProgress = @Sendable (_ t: Double) -> Void

/// Runs a sampler on an exact Gaussian-mixture target: prior samples, the sampler's loop, an
/// optional denoising step.
///
/// - Parameters:
///   - rows: which samples to produce (default all `configuration.count`). Sample i is a pure
///     function of (configuration, i), so consecutive ranges concatenate to the whole run bit for
///     bit — except for adaptive samplers in `.batch` mode, whose one system is the batch given.
///   - progress: told the time of every score evaluation.
public func runSampler(_ configuration: SamplingConfiguration, rows: Range<Int>? = nil,
                       progress: SamplingProgress? = nil) throws -> SamplingResult {
  try configuration.validate()
  let network = try configuration.model.map { path in
    let mlp = try SafeTensors.read(path)
    guard mlp.dimension == configuration.target.mixture.dimension else {
      throw DiffusionError.dimensionMismatch(
        "the model \(path) has dimension \(mlp.dimension) but the target \(configuration.target.rawValue) has dimension \(configuration.target.mixture.dimension)")
    }
    return mlp
  }
  func run<P: DiffusionProcess>(_ process: P) throws -> SamplingResult {
    if let network {
      return try sample(configuration, process: process, score: MLPScore(mlp: network, process: process),
                        rows: rows, progress: progress)
    }
    let score = ExactMixtureScore(mixture: configuration.target.mixture, process: process)
    return try sample(configuration, process: process, score: score, rows: rows, progress: progress)
  }
  return try run(configuration.process.process)
}

/// Runs the configured sampler with any score model; `rows` and `progress` as for `runSampler`.
public func sample<P: DiffusionProcess, S: ScoreModel>(
  _ configuration: SamplingConfiguration, process: P, score: S, rows: Range<Int>? = nil,
  progress: SamplingProgress? = nil
) throws -> SamplingResult {
  if let progress {
    return try sample(configuration, process: process, score: ReportingScore(base: score, report: progress),
                      rows: rows, progress: nil)
  }
  try configuration.validate()
  let name = try configuration.samplerName()
  let rows = rows ?? 0..<configuration.count
  guard rows.lowerBound >= 0, !rows.isEmpty else {
    throw DiffusionError.invalidSetting("sample rows must be a non-empty range from 0 up, got \(rows)")
  }
  let clock = ContinuousClock()
  let start = clock.now
  let epsilon = configuration.epsilon ?? process.defaultEpsilon
  let d = score.dimension
  let threads = configuration.threads ?? ProcessInfo.processInfo.activeProcessorCount
  let times = configuration.grid.times(process: process, steps: configuration.steps, epsilon: epsilon)
  var x = priorSamples(process, count: rows.count, dimension: d, seed: configuration.seed, firstRow: rows.lowerBound)
  var nfe: Int
  let seed = configuration.seed, settings = configuration.diffusionSettings

  switch name {
  case .reverseSDE(let solverName):
    guard case .sde(let solver) = solverName.solver else { preconditionFailure("registry mismatch") }
    let solution = try solve(reverseSDE(process: process, score: score, initial: x, epsilon: epsilon),
                             solver: solver, grid: .times(times), noise: BrownianIncrements(seed: seed),
                             firstSample: rows.lowerBound, threads: threads)
    x = solution.final
    nfe = solution.statistics.driftEvaluations
  case .probabilityFlow(let solverName):
    let ode = probabilityFlowODE(process: process, score: score, initial: x, epsilon: epsilon)
    switch solverName.solver {
    case .ode(let solver):
      let solution = try solve(ode, solver: solver, grid: .times(times), threads: threads)
      x = solution.final
      nfe = solution.statistics.driftEvaluations
    case .adaptiveODE:
      let solver = DormandPrince5(settings: adaptiveSettings(configuration))
      (x, nfe) = try solveAdaptive(ode, solver: solver, configuration: configuration, threads: threads)
    case .sde:
      preconditionFailure("registry mismatch")
    }
  case .probabilityFlowGSL(let stepper):
    let ode = probabilityFlowODE(process: process, score: score, initial: x, epsilon: epsilon)
    let solver = GSLODESolver(stepper, settings: adaptiveSettings(configuration))
    (x, nfe) = try solveAdaptive(ode, solver: solver, configuration: configuration, threads: threads)
  case .ddpm, .ddim, .pcLangevin, .annealedLangevin:
    forEachChunk(of: &x, firstRow: rows.lowerBound, threads: threads) { rows, chunk in
      switch name {
      case .ddpm:
        DiffusionLoops.ancestral(chunk, rows: rows, process: process, score: score, times: times,
                                 settings: settings, seed: seed)
      case .ddim:
        DiffusionLoops.ddim(chunk, rows: rows, process: process, score: score, times: times,
                            settings: settings, seed: seed)
      default:
        DiffusionLoops.predictorCorrector(chunk, rows: rows, process: process, score: score, times: times,
                                          settings: settings, seed: seed, predictor: name == .pcLangevin)
      }
    }
    let steps = configuration.steps
    switch name {
    case .ddpm, .ddim: nfe = steps
    case .pcLangevin: nfe = steps * (settings.correctorSteps + 1)
    default: nfe = steps * settings.correctorSteps
    }
    if let bad = x.values.firstIndex(where: { !$0.isFinite }) {
      throw SolveError.nonFinite(row: rows.lowerBound + bad / d, step: steps - 1, time: epsilon)
    }
  }
  if configuration.denoise {
    denoise(&x, process: process, score: score, t: epsilon)
    nfe += 1
  }
  let elapsed = clock.now - start
  let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
  return SamplingResult(samples: x, nfe: nfe, seconds: seconds)
}

private func adaptiveSettings(_ configuration: SamplingConfiguration) -> AdaptiveSettings {
  AdaptiveSettings(relativeTolerance: configuration.relativeTolerance,
                   absoluteTolerance: configuration.absoluteTolerance, norm: configuration.errorNorm ?? .maximum)
}

/// An adaptive solve of the probability-flow ODE; NFE per sample (summed over samples in
/// per-sample mode, then divided by the count).
private func solveAdaptive<F: VectorField, S: AdaptiveODESolver>(
  _ ode: ODEProblem<F>, solver: S, configuration: SamplingConfiguration, threads: Int
) throws -> (StateBatch, Int) {
  let solution = try solve(ode, solver: solver, mode: configuration.mode, threads: threads)
  let evaluations = solution.statistics.driftEvaluations
  let perSample = configuration.mode == .perSample ? evaluations / max(1, ode.initial.count) : evaluations
  return (solution.final, perSample)
}

/// A score model that reports each evaluation's time before evaluating.
struct ReportingScore<Base: ScoreModel>: ScoreModel {
  let base: Base
  let report: SamplingProgress

  var dimension: Int { base.dimension }

  func score(_ x: UnsafeBufferPointer<Double>, t: Double, into output: UnsafeMutableBufferPointer<Double>) {
    report(t)
    base.score(x, t: t, into: output)
  }

  func combination(_ x: UnsafeBufferPointer<Double>, t: Double, xCoefficient c: Double, scoreCoefficient b: Double,
                   into output: UnsafeMutableBufferPointer<Double>) {
    report(t)
    base.combination(x, t: t, xCoefficient: c, scoreCoefficient: b, into: output)
  }
}
