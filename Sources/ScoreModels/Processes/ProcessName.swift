/// The built-in forward processes, by command-line name.
public enum ProcessName: String, CaseIterable, Sendable, Codable {
  case vp
  case subvp
  case ve
  /// The discrete DDPM chain (linear β, N = 1000); as an SDE, its continuous limit (VP).
  case ddpm
  /// The cosine schedule's continuous counterpart.
  case cosine

  public var process: any DiffusionProcess {
    switch self {
    case .vp: VPSDE()
    case .subvp: SubVPSDE()
    case .ve: VESDE()
    case .ddpm: DDPMSchedule.linear().continuousProcess
    case .cosine: CosineVPSDE()
    }
  }

  /// The discrete chain behind `ddpm`, nil for the continuous processes.
  public var schedule: DDPMSchedule? { self == .ddpm ? .linear() : nil }

  public var summary: String {
    switch self {
    case .vp: "variance preserving, β linear 0.1 → 20, T = 1, ε = 1e-3, prior N(0, I)"
    case .subvp: "sub-VP, same β, variance (1 − a²)², prior N(0, I)"
    case .ve: "variance exploding, σ 0.01 → 10 geometric, prior N(0, 100 I)"
    case .ddpm: "DDPM chain, β linear 1e-4 → 0.02, N = 1000 (continuous limit: vp)"
    case .cosine: "cosine schedule (Nichol & Dhariwal 2021) as an SDE, T = 0.999"
    }
  }
}
