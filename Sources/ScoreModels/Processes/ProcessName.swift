/// The built-in forward processes, by command-line name.
public enum ProcessName: String, CaseIterable, Sendable, Codable {
  case vp
  case subvp
  case ve
  /// The discrete DDPM chain (β linear or cosine, N = 1000 by default): `DDPMChain`.
  case ddpm
  /// The cosine schedule's continuous counterpart.
  case cosine

  /// The process with default options.
  public var process: any DiffusionProcess { makeProcess(ProcessOptions()) }

  /// The process with `options` (those that do not apply to it are ignored; `validate` says so).
  public func makeProcess(_ options: ProcessOptions) -> any DiffusionProcess {
    switch self {
    case .vp: VPSDE()
    case .subvp: SubVPSDE()
    case .ve: VESDE()
    case .ddpm: DDPMChain(schedule: .make(options.schedule, steps: options.trainSteps))
    case .cosine: CosineVPSDE()
    }
  }

  public var summary: String {
    switch self {
    case .vp: "variance preserving, β linear 0.1 → 20, T = 1, ε = 1e-3, prior N(0, I)"
    case .subvp: "sub-VP, same β, variance (1 − a²)², prior N(0, I)"
    case .ve: "variance exploding, σ 0.01 → 10 geometric, prior N(0, 100 I)"
    case .ddpm: "the discrete DDPM chain (Ho et al. 2020): β linear 1e-4 → 0.02 or cosine, N = 1000; step i at t = (i + 1)/N, data at t = 0"
    case .cosine: "cosine schedule (Nichol & Dhariwal 2021) as an SDE, T = 0.999"
    }
  }
}

/// The settings that shape a built-in process beyond its name.
public struct ProcessOptions: Sendable, Codable, Hashable {
  /// The DDPM chain's β schedule.
  public var schedule: DDPMSchedule.Kind = .linear
  /// The DDPM chain's number of steps N.
  public var trainSteps: Int = 1000

  public init(schedule: DDPMSchedule.Kind = .linear, trainSteps: Int = 1000) {
    self.schedule = schedule
    self.trainSteps = trainSteps
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
  }
}
