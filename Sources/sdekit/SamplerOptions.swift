import ArgumentParser
import Foundation
import Samplers
import ScoreModels
import SDEKit

extension FinalStep: ExpressibleByArgument {}
extension TimestepSpacing: ExpressibleByArgument {}
extension SDESolverType: ExpressibleByArgument {}
extension UniPCVariant: ExpressibleByArgument {}

/// The process's own settings, as sample, compare and likelihood take them: the DDPM chain's β
/// schedule and length, σ_min and σ_max of ve and edm, flow's shift. Each left out is the
/// process's default (`ProcessOptions`); each applies only to its processes
/// (`ProcessOptions.validate(for:)` says so).
struct ProcessSettingsOptions: ParsableArguments {
  @Option(help: ArgumentHelp("The DDPM chain's β schedule (--sde ddpm). (default: linear)", valueName: "schedule"))
  var schedule: DDPMSchedule.Kind?

  @Option(help: ArgumentHelp("The DDPM chain's number of steps N (--sde ddpm). (default: 1000)", valueName: "N"))
  var trainSteps: Int?

  @Option(help: ArgumentHelp("σ_min of --sde ve or edm (edm: also its ε). (default: 0.01 for ve, 0.002 for edm)", valueName: "σ"))
  var sigmaMin: Double?

  @Option(help: ArgumentHelp("σ_max of --sde ve or edm (edm: also its T and prior standard deviation). (default: 10 for ve, 80 for edm)", valueName: "σ"))
  var sigmaMax: Double?

  @Option(help: ArgumentHelp("--sde flow: diffusers' time shift τ ↦ shift·τ/(1 + (shift − 1)τ), > 0 (Stable Diffusion 3 uses 3). (default: 1)", valueName: "shift"))
  var shift: Double?

  var processOptions: ProcessOptions {
    let defaults = ProcessOptions()
    return ProcessOptions(schedule: schedule ?? defaults.schedule, trainSteps: trainSteps ?? defaults.trainSteps,
                          sigmaMin: sigmaMin, sigmaMax: sigmaMax, shift: shift)
  }
}

/// The step-size control of adaptive solvers and samplers, as sample and likelihood take it.
struct AdaptiveSolverOptions: ParsableArguments {
  @Option(help: "Relative tolerance of adaptive solvers and samplers (dimensionless, per state element).")
  var rtol: Double = 1e-5

  @Option(help: "Absolute tolerance of adaptive solvers and samplers, in the state's units.")
  var atol: Double = 1e-5

  @Option(name: .customLong("error-norm"), help: ArgumentHelp(
    "Adaptive ODE solvers: how the error vector meets the tolerances — max (every element, GSL's control) or rms (on average, as SciPy and diffrax). (default: max)",
    valueName: "norm"))
  var errorNorm: ErrorNorm?

  @Option(help: "Adaptive solvers: the batch as one system, or each sample on its own (then a sample's result does not depend on the others).")
  var mode: SystemMode = .batch
}

/// The fast samplers' options (sample and compare): the EDM and flow-matching processes' settings, grids in
/// σ and diffusers' timesteps, starting points from a file, and the settings of the fast samplers
/// (DPM-Solver(++), UniPC, Karras's Euler and Heun, the ancestral and SDE variants). Each is
/// optional: left out, the process's or sampler's default applies (k-diffusion's or diffusers'),
/// and one given for a process or sampler it does not apply to is an error.
struct FastSamplerOptions: ParsableArguments {
  @OptionGroup var processSettings: ProcessSettingsOptions

  @Option(help: ArgumentHelp("--grid karras: Karras's ρ > 0, σ_i = (σ_max^{1/ρ} + i/(n−1)(σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ. (default: 7)", valueName: "ρ"))
  var rho: Double?

  @Option(help: ArgumentHelp("zero: the last of the steps goes from ε to σ = 0 and returns the data prediction (k-diffusion's appended zero, diffusers' final_sigmas_type zero); none: the grid ends at ε. (default: zero with --timestep-spacing, else none)", valueName: "kind"))
  var finalStep: FinalStep?

  @Option(help: ArgumentHelp("diffusers' timesteps instead of --grid: on --sde ddpm the integer timesteps its schedulers visit (DDIMScheduler's own rules for ddim), on --sde flow the flow-matching schedulers' grid (linspace only).", valueName: "spacing"))
  var timestepSpacing: TimestepSpacing?

  @Option(help: ArgumentHelp("Start from the points in this file instead of prior draws: a .npy file (float64 or float32, shape (N, d), or (N,) when d = 1) or a .csv file, one point a line; every value finite. N sets --count (or must equal it).", valueName: "file"))
  var initial: String?

  @Option(help: ArgumentHelp("edm-euler, edm-heun: Karras's S_churn ≥ 0, fresh noise raising σ to σ(1 + γ), γ = min(S_churn/N, √2 − 1) before each step. (default: 0, deterministic)", valueName: "S_churn"))
  var churn: Double?

  @Option(name: .customLong("s-tmin"), help: ArgumentHelp("edm-euler, edm-heun: churn only where σ ≥ S_tmin. (default: 0)", valueName: "σ"))
  var churnMinimum: Double?

  @Option(name: .customLong("s-tmax"), help: ArgumentHelp("edm-euler, edm-heun: churn only where σ ≤ S_tmax. (default: ∞)", valueName: "σ"))
  var churnMaximum: Double?

  @Option(name: .customLong("s-noise"), help: ArgumentHelp("Karras's S_noise ≥ 0: the scale of the churn and ancestral noise. (default: 1)", valueName: "scale"))
  var noiseScale: Double?

  @Flag(inversion: .prefixedNo, help: "dpm-solver++-2m, dpm-solver++-3m, unipc: lower the order of the last steps as diffusers' lower_order_final (default: on for 2m and unipc, off for 3m).")
  var lowerOrderFinal: Bool?

  @Option(help: ArgumentHelp("dpm-solver++-2m-sde: the second-order term, k-diffusion's solver_type. (default: midpoint)", valueName: "type"))
  var solverType: SDESolverType?

  @Option(help: ArgumentHelp("unipc: the predictor's order p in 1…3 (p + 1 with the corrector). (default: 2)", valueName: "p"))
  var order: Int?

  @Option(help: ArgumentHelp("unipc: B(h) = h (bh1) or e^h − 1 (bh2). (default: bh2)", valueName: "variant"))
  var variant: UniPCVariant?

  @Flag(help: "unipc: the UniP predictor alone, without the UniC corrector.")
  var noCorrector = false

  @Flag(name: .customLong("k-diffusion-3m"), help: "dpm-solver++-3m: the third-order term as k-diffusion and diffusers compute it (half the Taylor term: second order), for parity with them.")
  var kDiffusion3M = false

  @Flag(help: "ddim on the ddpm chain: step from timestep τ to τ − ⌊N/n⌋ as diffusers' DDIMScheduler does, whatever the next timestep (they differ with linspace spacing).")
  var diffusersDDIMStride = false

  /// Writes these options into `c`; `eta` is sample's --eta (the ancestral and SDE samplers'
  /// η, default 1, as DDIM's is its η, default 0).
  func apply(to c: inout SamplingConfiguration, eta: Double?) {
    c.schedule = processSettings.schedule
    c.trainSteps = processSettings.trainSteps
    c.sigmaMin = processSettings.sigmaMin
    c.sigmaMax = processSettings.sigmaMax
    c.shift = processSettings.shift
    c.rho = rho
    c.finalStep = finalStep
    c.timestepSpacing = timestepSpacing
    var settings = FastSamplerSettings()
    if case .fast = c.sampler {
      // η is theirs, not DDIM's (whose [0, 1] does not bind them).
      settings.eta = eta
      c.diffusionSettings.eta = 0
    }
    settings.churn = churn
    settings.churnMinimum = churnMinimum
    settings.churnMaximum = churnMaximum
    settings.noiseScale = noiseScale
    settings.lowerOrderFinal = lowerOrderFinal
    settings.solverType = solverType
    settings.order = order
    settings.variant = variant
    settings.corrector = noCorrector ? false : nil
    settings.kDiffusion3M = kDiffusion3M ? true : nil
    settings.diffusersDDIMStride = diffusersDDIMStride ? true : nil
    c.fastSamplers = settings == FastSamplerSettings() ? nil : settings
    c.initial = initial
  }

  /// Reads the --initial file `c` names, once, and checks it against `c`: a row per sample, of
  /// the target's dimension. `countSource` names what fixed `c.count` (--count, a --config
  /// file); nil when nothing did, and the file's rows set it.
  /// - Returns: the points; nil when `c` draws its starting points from the prior.
  static func loadInitialPoints(into c: inout SamplingConfiguration, countSource: String?) throws -> StateBatch? {
    guard let path = c.initial else { return nil }
    let points = try readDataFile(path, option: "--initial", minimumRows: 2, reason: "the metrics need two samples")
    let d = c.target.mixture.dimension
    guard points.dimension == d else {
      throw ValidationError("--initial \(path) has shape (\(points.count), \(points.dimension)); --target \(c.target.rawValue) needs (N, \(d))")
    }
    guard let countSource else {
      c.count = points.count
      return points
    }
    guard points.count == c.count else {
      let hint = countSource == "--count" ? "give the same count, or leave --count out to take it from the file" : "give a file of as many rows"
      throw ValidationError("--initial \(path) has \(points.count) rows but \(countSource) is \(c.count): \(hint)")
    }
    return points
  }
}

/// Runs `body`, turning the library's refusal of a setting (`DiffusionError`) into a usage error
/// (exit 64): the options asked for a run the library cannot make.
func usageError<T>(_ body: () throws -> T) throws -> T {
  do {
    return try body()
  } catch let error as DiffusionError {
    throw ValidationError(error.description)
  }
}
