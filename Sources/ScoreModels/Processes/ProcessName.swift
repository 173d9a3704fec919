/// The built-in forward processes, by command-line name.
public enum ProcessName: String, CaseIterable, Sendable, Codable {
  case vp
  case subvp
  case ve
  /// The discrete DDPM chain (β linear or cosine, N = 1000 by default): `DDPMChain`.
  case ddpm
  /// The cosine schedule's continuous counterpart.
  case cosine
  // MARK: The EDM and flow-matching processes
  /// Karras et al. (2022): x = x₀ + σn with σ(t) = t (`EDMProcess`).
  case edm
  /// Rectified flow: x = (1 − τ)x₀ + τn (`FlowMatchingProcess`).
  case flow

  /// The process with default options.
  public var process: any DiffusionProcess { makeProcess(ProcessOptions()) }

  /// The process with `options` (those that do not apply to it are ignored; `validate` says so).
  public func makeProcess(_ options: ProcessOptions) -> any DiffusionProcess {
    switch self {
    case .vp: VPSDE()
    case .subvp: SubVPSDE()
    case .ve: VESDE(sigmaMin: options.sigmaMin ?? 0.01, sigmaMax: options.sigmaMax ?? 10)
    case .ddpm: DDPMChain(schedule: .make(options.schedule, steps: options.trainSteps))
    case .cosine: CosineVPSDE()
    case .edm: EDMProcess(sigmaMin: options.sigmaMin ?? 0.002, sigmaMax: options.sigmaMax ?? 80)
    case .flow: FlowMatchingProcess(shift: options.shift ?? 1)
    }
  }

  public var summary: String {
    switch self {
    case .vp: "variance preserving, β linear 0.1 → 20, T = 1, ε = 1e-3, prior N(0, I)"
    case .subvp: "sub-VP, same β, variance (1 − a²)², prior N(0, I)"
    case .ve: "variance exploding, σ 0.01 → 10 geometric, prior N(0, 100 I)"
    case .ddpm: "the discrete DDPM chain (Ho et al. 2020): β linear 1e-4 → 0.02 or cosine, N = 1000; step i at t = (i + 1)/N, data at t = 0"
    case .cosine: "cosine schedule (Nichol & Dhariwal 2021) as an SDE, T = 0.999"
    case .edm: "EDM (Karras et al. 2022): x = x₀ + σn, σ(t) = t from 80 (T) to 0.002 (ε), prior N(0, 6400 I); --sigma-min, --sigma-max"
    case .flow: "flow matching (rectified flow): x = (1 − τ)x₀ + τn, τ from 1 to 1e-3, prior N(0, I), velocity n − x₀; --shift"
    }
  }
}

/// The settings that shape a built-in process beyond its name.
public struct ProcessOptions: Sendable, Codable, Hashable {
  /// The DDPM chain's β schedule.
  public var schedule: DDPMSchedule.Kind = .linear
  /// The DDPM chain's number of steps N.
  public var trainSteps: Int = 1000
  /// σ_min of `ve` and `edm` (nil: the process's default, 0.01 and 0.002).
  public var sigmaMin: Double?
  /// σ_max of `ve` and `edm` (nil: 10 and 80).
  public var sigmaMax: Double?
  /// The flow-matching time shift (nil: 1, no shift).
  public var shift: Double?

  public init(schedule: DDPMSchedule.Kind = .linear, trainSteps: Int = 1000, sigmaMin: Double? = nil,
              sigmaMax: Double? = nil, shift: Double? = nil) {
    self.schedule = schedule
    self.trainSteps = trainSteps
    self.sigmaMin = sigmaMin
    self.sigmaMax = sigmaMax
    self.shift = shift
  }

  /// Throws naming the first option out of range, or one set for a process it does not apply to.
  public func validate(for process: ProcessName) throws {
    let defaults = ProcessOptions()
    if process != .ddpm, schedule != defaults.schedule || trainSteps != defaults.trainSteps {
      throw DiffusionError.invalidSetting("--schedule and --train-steps apply to the ddpm chain; got --sde \(process.rawValue)")
    }
    guard (2...100_000).contains(trainSteps) else {
      throw DiffusionError.invalidSetting("the chain's train steps must lie in 2...100000, got \(trainSteps)")
    }
    try validateNoiseOptions(for: process)
  }

  /// The checks of the process options: σ_min and σ_max for ve and edm, the shift for flow.
  private func validateNoiseOptions(for process: ProcessName) throws {
    if sigmaMin != nil || sigmaMax != nil, process != .ve, process != .edm {
      throw DiffusionError.invalidSetting("--sigma-min and --sigma-max apply to ve and edm; got --sde \(process.rawValue)")
    }
    if shift != nil, process != .flow {
      throw DiffusionError.invalidSetting("--shift applies to flow; got --sde \(process.rawValue)")
    }
    for (option, value) in [("--sigma-min", sigmaMin), ("--sigma-max", sigmaMax), ("--shift", shift)] {
      if let value, !(value > 0 && value.isFinite) {
        throw DiffusionError.invalidSetting("\(option) must be positive and finite, got \(value)")
      }
    }
    let defaults: (Double, Double) = process == .edm ? (0.002, 80) : (0.01, 10)
    let (low, high) = (sigmaMin ?? defaults.0, sigmaMax ?? defaults.1)
    guard low < high else {
      throw DiffusionError.invalidSetting("σ_min must lie below σ_max; got --sigma-min \(low) and --sigma-max \(high)")
    }
  }
}
