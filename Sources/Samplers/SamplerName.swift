import GSLIntegrators
import ScoreModels
import SDEKit

/// Every sampler by its command-line name: the reverse-time SDE under each SDE solver (the
/// solver's name), the probability-flow ODE under each ODE solver (`ode-` and the solver's
/// name), and the diffusion-specific loops. The one table the CLI, tests and benchmarks iterate.
public enum SamplerName: Hashable, Sendable, CaseIterable, CustomStringConvertible {
  case reverseSDE(SolverName)
  case probabilityFlow(SolverName)
  case probabilityFlowGSL(GSLStepType)
  case ddpm
  case ddim
  case pcLangevin
  case annealedLangevin

  public static var allCases: [SamplerName] {
    SolverName.allCases.compactMap { name -> SamplerName? in
      switch name.solver {
      case .sde: .reverseSDE(name)
      case .ode, .adaptiveODE: .probabilityFlow(name)
      }
    } + GSLStepType.allCases.map(SamplerName.probabilityFlowGSL) + [.ddpm, .ddim, .pcLangevin, .annealedLangevin]
  }

  public var name: String {
    switch self {
    case .reverseSDE(let solver): solver.rawValue
    case .probabilityFlow(let solver): "ode-" + solver.rawValue
    case .probabilityFlowGSL(let stepper): "ode-" + stepper.name
    case .ddpm: "ddpm"
    case .ddim: "ddim"
    case .pcLangevin: "pc-langevin"
    case .annealedLangevin: "annealed-langevin"
    }
  }

  public var description: String { name }

  /// The sampler with this name; nil if there is none (callers list `allCases` in the error).
  public init?(name: String) {
    guard let match = SamplerName.allCases.first(where: { $0.name == name }) else { return nil }
    self = match
  }

  public var descriptor: SamplerDescriptor {
    switch self {
    case .reverseSDE(let solver):
      let d = solver.descriptor
      return SamplerDescriptor(name: name, summary: "reverse-time SDE under \(d.name)", stochastic: true,
                               order: d.order(for: .additive)?.strong, evaluationsPerStep: d.driftEvaluationsPerStep,
                               adaptive: false, processes: ProcessName.allCases)
    case .probabilityFlow(let solver):
      let d = solver.descriptor
      return SamplerDescriptor(name: name, summary: "probability-flow ODE under \(d.name)", stochastic: false,
                               order: d.order(for: nil)?.strong,
                               evaluationsPerStep: d.isAdaptive ? nil : d.driftEvaluationsPerStep,
                               adaptive: d.isAdaptive, processes: ProcessName.allCases)
    case .probabilityFlowGSL(let stepper):
      return SamplerDescriptor(name: name, summary: "probability-flow ODE under \(stepper.name)", stochastic: false,
                               order: Double(stepper.order), evaluationsPerStep: nil, adaptive: true,
                               processes: ProcessName.allCases)
    case .ddpm:
      return SamplerDescriptor(name: name, summary: "DDPM ancestral sampling (Ho et al. 2020, Algorithm 2)",
                               stochastic: true, order: 1, evaluationsPerStep: 1, adaptive: false,
                               processes: [.vp, .ddpm, .cosine])
    case .ddim:
      return SamplerDescriptor(name: name, summary: "DDIM (Song, Meng & Ermon 2021), η ∈ [0, 1]",
                               stochastic: true, order: 1, evaluationsPerStep: 1, adaptive: false,
                               processes: [.vp, .ddpm, .cosine])
    case .pcLangevin:
      return SamplerDescriptor(name: name, summary: "predictor–corrector: reverse diffusion + Langevin (Song et al. 2021)",
                               stochastic: true, order: 0.5, evaluationsPerStep: nil, adaptive: false,
                               processes: ProcessName.allCases)
    case .annealedLangevin:
      return SamplerDescriptor(name: name, summary: "annealed Langevin dynamics (Song & Ermon 2019)",
                               stochastic: true, order: nil, evaluationsPerStep: nil, adaptive: false,
                               processes: [.ve])
    }
  }
}

/// What a sampler is, as data.
public struct SamplerDescriptor: Sendable, Codable, Hashable {
  public var name: String
  public var summary: String
  /// Whether it injects noise (else a deterministic map from the prior sample).
  public var stochastic: Bool
  /// Convergence order in the step size, where one is known.
  public var order: Double?
  /// Score evaluations per step; nil when adaptive or set by options (corrector steps).
  public var evaluationsPerStep: Int?
  public var adaptive: Bool
  /// The processes it can sample.
  public var processes: [ProcessName]
}
