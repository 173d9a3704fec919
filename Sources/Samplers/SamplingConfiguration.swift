import Foundation
import GSLIntegrators
import ScoreModels
import SDEKit

/// One sampling run of the command line, fully described: what `sdekit sample` saves beside its
/// output to replay it. The library's own door is `sample(_:settings:process:score:initial:times:…)`;
/// this record adds the built-in process, target and grid by name.
public struct SamplingConfiguration: Sendable, Codable, Hashable {
  public var process: ProcessName = .vp
  public var target: TargetName = .gmm2d8
  public var sampler: SamplerName = .reverseSDE(.eulerMaruyama)
  public var steps: Int = 1000
  public var grid: TimeGridKind = .uniform
  public var count: Int = 10_000
  public var seed: UInt64 = 0
  /// Where the reverse process stops; nil for the process's default.
  public var epsilon: Double?
  public var relativeTolerance: Double = 1e-5
  public var absoluteTolerance: Double = 1e-5
  /// The error norm of adaptive samplers; nil for the maximum (GSL's standard control).
  public var errorNorm: ErrorNorm?
  public var mode: SystemMode = .batch
  /// A final Tweedie denoising step at ε.
  public var denoise: Bool = false
  public var diffusionSettings = DiffusionSamplerSettings()
  public var threads: Int?
  /// A learned score: the path of an MLP in safetensors format (see `SafeTensors`); nil for the
  /// target's exact score. The target then only serves the metrics.
  public var model: String?
  /// The DDPM chain's schedule (`--sde ddpm`); nil for linear.
  public var schedule: DDPMSchedule.Kind?
  /// The DDPM chain's number of steps N; nil for 1000.
  public var trainSteps: Int?
  /// One shared Brownian path on 2^levels fine intervals of [ε, T]; nil for independent
  /// increments per step (see `BrownianAddressing`).
  public var brownianPathLevels: Int?
  // MARK: Issue 21 (each optional, so older configurations still load)
  /// σ_min and σ_max of ve and edm; nil for the process's defaults.
  public var sigmaMin: Double?
  public var sigmaMax: Double?
  /// The flow-matching time shift; nil for 1.
  public var shift: Double?
  /// Karras's ρ for `--grid karras`; nil for 7.
  public var rho: Double?
  /// Where the last step goes (see `SamplingGrid.finalStep`).
  public var finalStep: FinalStep?
  /// diffusers' timesteps on the DDPM chain (or flow) instead of `grid`.
  public var timestepSpacing: TimestepSpacing?
  /// The settings of issue 21's samplers; nil for every default.
  public var fastSamplers: FastSamplerSettings?
  /// The .npy file the run started from instead of prior draws (`runSampler`'s `initial` holds
  /// its rows; the library does not read it).
  public var initial: String?

  public init() {}

  /// The process's shaping options.
  public var processOptions: ProcessOptions {
    ProcessOptions(schedule: schedule ?? .linear, trainSteps: trainSteps ?? 1000, sigmaMin: sigmaMin,
                   sigmaMax: sigmaMax, shift: shift)
  }

  /// The built-in process, with its options.
  public var diffusionProcess: any DiffusionProcess { process.makeProcess(processOptions) }

  /// The sampler settings this record holds.
  public var samplerSettings: SamplerSettings {
    var settings = SamplerSettings()
    let d = diffusionSettings
    settings.ancestralUsesBeta = d.ancestralUsesBeta
    settings.eta = d.eta
    settings.corrector = LangevinCorrector(snr: d.snr, steps: d.correctorSteps)
    settings.predictor = d.predictor
    settings.adaptive = AdaptiveSettings(relativeTolerance: relativeTolerance, absoluteTolerance: absoluteTolerance,
                                         norm: errorNorm ?? .maximum)
    settings.mode = mode
    settings.fastSamplers = fastSamplers ?? FastSamplerSettings()
    return settings
  }

  public var brownian: BrownianAddressing { brownianPathLevels.map { .path(levels: $0) } ?? .perStep }

  /// How the steps are placed: `grid`, `rho`, `finalStep`, `timestepSpacing`.
  public var samplingGrid: SamplingGrid {
    SamplingGrid(kind: grid, rho: rho ?? 7, finalStep: finalStep, timestepSpacing: timestepSpacing,
                 ddimTimesteps: sampler == .ddim)
  }

  /// The grid's times from T down to ε (or 0); empty when the grid is invalid (`validate` says why).
  public var times: [Double] {
    let process = diffusionProcess
    return (try? samplingGrid.times(process: process, steps: steps, epsilon: epsilon ?? process.defaultEpsilon)) ?? []
  }

  /// Throws naming the first setting out of range.
  public func validate() throws {
    try processOptions.validate(for: process)
    let process = diffusionProcess
    guard steps >= 1 else { throw DiffusionError.invalidSetting("steps must be at least 1, got \(steps)") }
    guard count >= 1 else { throw DiffusionError.invalidSetting("count must be at least 1, got \(count)") }
    try process.validate(epsilon: epsilon ?? process.defaultEpsilon)
    if rho != nil, grid != .karras || timestepSpacing != nil {
      throw DiffusionError.invalidSetting("--rho applies to --grid karras; got --grid \(grid.rawValue)\(timestepSpacing == nil ? "" : " with --timestep-spacing")")
    }
    _ = try samplingGrid.times(process: process, steps: steps, epsilon: epsilon ?? process.defaultEpsilon)
    guard relativeTolerance > 0, absoluteTolerance > 0 else {
      throw DiffusionError.invalidSetting("rtol and atol must be positive, got \(relativeTolerance) and \(absoluteTolerance)")
    }
    if errorNorm != nil, !sampler.descriptor.adaptive {
      throw DiffusionError.invalidSetting("an error norm applies to adaptive samplers; \(sampler.name) takes fixed steps")
    }
    if let errorNorm, sampler == .gottaGoFast {
      throw DiffusionError.invalidSetting(
        "--error-norm \(errorNorm.rawValue) does not apply to gotta-go-fast, which always takes the paper's RMS norm")
    }
    if let threads, threads < 1 { throw DiffusionError.invalidSetting("threads must be at least 1, got \(threads)") }
    func check<P: DiffusionProcess>(_ process: P) throws {
      try checkSampling(sampler, settings: samplerSettings, process: process,
                        score: ExactMixtureScore(mixture: target.mixture, process: process),
                        initial: StateBatch(count: 1, dimension: target.mixture.dimension), times: times,
                        brownian: brownian)
    }
    try check(process)
  }
}

/// The diffusion samplers' settings as the configuration file stores them.
public struct DiffusionSamplerSettings: Sendable, Hashable, Codable {
  /// DDPM's per-step variance: β (true) or the posterior β̃ (false).
  public var ancestralUsesBeta: Bool = true
  /// DDIM's η ∈ [0, 1]: 0 deterministic, 1 DDPM-like.
  public var eta: Double = 0
  /// Langevin signal-to-noise ratio r: corrector step ε = 2 r² s(t)².
  public var snr: Double = 0.16
  /// Langevin corrector steps per noise level.
  public var correctorSteps: Int = 1
  /// The predictor of `pc-langevin`.
  public var predictor: PCPredictor = .reverseDiffusion

  public init(ancestralUsesBeta: Bool = true, eta: Double = 0, snr: Double = 0.16, correctorSteps: Int = 1,
              predictor: PCPredictor = .reverseDiffusion) {
    self.ancestralUsesBeta = ancestralUsesBeta
    self.eta = eta
    self.snr = snr
    self.correctorSteps = correctorSteps
    self.predictor = predictor
  }
}

/// Runs a configuration on its built-in target: prior samples from the stream `.prior`, the
/// sampler over the configured grid, an optional denoising step. The score is the target's
/// exact one, or the configuration's learned model.
///
/// - Parameters:
///   - rows: which samples to produce (default all `configuration.count`). Sample i is a pure
///     function of (configuration, i), so consecutive ranges concatenate to the whole run bit for
///     bit — except for adaptive samplers in `.batch` mode, whose one system is the batch given.
///   - progress: told the time of every score evaluation.
///   - initial: the whole run's starting points (`configuration.count` rows at the grid's first
///     time), for a configuration with an `initial` file; the rows of `rows` are taken from it.
public func runSampler(_ configuration: SamplingConfiguration, rows: Range<Int>? = nil,
                       progress: SamplingProgress? = nil, initial: StateBatch? = nil) throws -> SamplingResult {
  try configuration.validate()
  let rows = rows ?? 0..<configuration.count
  guard rows.lowerBound >= 0, !rows.isEmpty else {
    throw DiffusionError.invalidSetting("sample rows must be a non-empty range from 0 up, got \(rows)")
  }
  let start = try startingRows(configuration, initial: initial, rows: rows)
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
                        rows: rows, progress: progress, start: start)
    }
    return try sample(configuration, process: process,
                      score: ExactMixtureScore(mixture: configuration.target.mixture, process: process),
                      rows: rows, progress: progress, start: start)
  }
  return try run(configuration.diffusionProcess)
}

private func sample<P: DiffusionProcess, S: ScoreModel>(
  _ configuration: SamplingConfiguration, process: P, score: S, rows: Range<Int>, progress: SamplingProgress?,
  start: StateBatch?
) throws -> SamplingResult {
  let initial = start ?? priorSamples(process, count: rows.count, dimension: score.dimension, seed: configuration.seed,
                                      firstRow: rows.lowerBound)
  let times = configuration.times
  var result = try sample(configuration.sampler, settings: configuration.samplerSettings, process: process,
                          score: score, initial: initial, times: times, seed: configuration.seed,
                          brownian: configuration.brownian, firstSample: rows.lowerBound,
                          threads: configuration.threads, progress: progress)
  if configuration.denoise {
    denoise(&result.samples, process: process, score: score, t: times[times.count - 1])
    result.nfe += 1
    result.evaluations += result.samples.count
  }
  return result
}
