import GSLIntegrators
import ScoreModels
import SDEKit

/// Every sampler by its command-line name: the reverse-time SDE under each SDE solver (the
/// solver's name), the probability-flow ODE under each ODE solver (`ode-` and the solver's
/// name), and the diffusion samplers. The one table the CLI, tests and benchmarks iterate; each
/// name is spelled once, here or on the solver it wraps.
///
/// Codable as its name; decoding an unknown name throws an error listing the valid ones.
public enum SamplerName: Hashable, Sendable, CaseIterable, CustomStringConvertible {
  case reverseSDE(SolverName)
  case probabilityFlow(SolverName)
  case probabilityFlowGSL(GSLStepType)
  case ddpm
  case ddim
  case pcLangevin
  case annealedLangevin
  // MARK: DPM-Solver(++), UniPC, Karras's Euler and Heun, ancestral, SDE and flow samplers
  case fast(FastSamplerName)
  // MARK: Adaptive SDE samplers
  /// The reverse-time SDE under SRA1 with its embedded error estimate and PI step control, on a
  /// Brownian tree.
  case adaptiveSRA1
  /// Jolicoeur-Martineau et al. (2021): Euler–Maruyama with an improved-Euler error estimate.
  case gottaGoFast

  public static let allCases: [SamplerName] =
    SolverName.allCases.map { name -> SamplerName in
      switch name.solver {
      case .sde: .reverseSDE(name)
      case .ode, .adaptiveODE: .probabilityFlow(name)
      }
    } + GSLStepType.allCases.map(SamplerName.probabilityFlowGSL) + [.ddpm, .ddim, .pcLangevin, .annealedLangevin]
      + FastSamplerName.allCases.map(SamplerName.fast)
      + [.adaptiveSRA1, .gottaGoFast]

  public var name: String {
    switch self {
    case .reverseSDE(let solver): solver.rawValue
    case .probabilityFlow(let solver): "ode-" + solver.rawValue
    case .probabilityFlowGSL(let stepper): "ode-" + stepper.name
    case .ddpm: "ddpm"
    case .ddim: "ddim"
    case .pcLangevin: "pc-langevin"
    case .annealedLangevin: "annealed-langevin"
    case .fast(let name): name.rawValue
    case .adaptiveSRA1: "adaptive-sra1"
    case .gottaGoFast: "gotta-go-fast"
    }
  }

  public var description: String { name }

  /// The sampler with this name; nil if there is none (`SamplerName.validNames` lists them).
  public init?(name: String) {
    guard let match = SamplerName.byName[name] else { return nil }
    self = match
  }

  private static let byName = Dictionary(uniqueKeysWithValues: allCases.map { ($0.name, $0) })

  /// Every valid name, comma-separated, for error messages and help.
  public static var validNames: String { allCases.map(\.name).joined(separator: ", ") }

  /// The sampler named `name`, or an error naming it and listing the valid names.
  public static func named(_ name: String) throws -> SamplerName {
    guard let sampler = SamplerName(name: name) else {
      throw DiffusionError.invalidSetting("unknown sampler '\(name)'; valid samplers: \(validNames)")
    }
    return sampler
  }

  public var descriptor: SamplerDescriptor {
    switch self {
    case .reverseSDE(let solver):
      let d = solver.descriptor
      return SamplerDescriptor(name: name, summary: "reverse-time SDE under \(d.name)", stochastic: true,
                               order: d.order(for: .additive)?.strong, evaluationsPerStep: d.driftEvaluationsPerStep,
                               adaptive: false, family: .sde, requirement: .any)
    case .probabilityFlow(let solver):
      let d = solver.descriptor
      return SamplerDescriptor(name: name, summary: "probability-flow ODE under \(d.name)", stochastic: false,
                               order: d.order(for: nil)?.strong,
                               evaluationsPerStep: d.isAdaptive ? nil : d.driftEvaluationsPerStep,
                               adaptive: d.isAdaptive, family: .probabilityFlow, requirement: .any)
    case .probabilityFlowGSL(let stepper):
      return SamplerDescriptor(name: name, summary: "probability-flow ODE under \(stepper.name)", stochastic: false,
                               order: Double(stepper.order), evaluationsPerStep: nil, adaptive: true,
                               family: .probabilityFlow, requirement: .any)
    case .ddpm:
      return SamplerDescriptor(name: name, summary: "DDPM ancestral sampling (Ho et al. 2020, Algorithm 2)",
                               stochastic: true, order: 1, evaluationsPerStep: 1, adaptive: false,
                               family: .diffusion, requirement: .variancePreserving)
    case .ddim:
      return SamplerDescriptor(name: name, summary: "DDIM (Song, Meng & Ermon 2021), η ∈ [0, 1]",
                               stochastic: true, order: 1, evaluationsPerStep: 1, adaptive: false,
                               family: .diffusion, requirement: .variancePreserving)
    case .pcLangevin:
      return SamplerDescriptor(name: name, summary: "predictor–corrector: a predictor + Langevin corrector (Song et al. 2021)",
                               stochastic: true, order: 0.5, evaluationsPerStep: nil, adaptive: false,
                               family: .diffusion, requirement: .any)
    case .annealedLangevin:
      return SamplerDescriptor(name: name, summary: "annealed Langevin dynamics (Song & Ermon 2019)",
                               stochastic: true, order: nil, evaluationsPerStep: nil, adaptive: false,
                               family: .diffusion, requirement: .varianceExploding)
    case .fast(let name):
      return name.descriptor
    case .adaptiveSRA1, .gottaGoFast:
      return adaptiveSDEDescriptor(self)
    }
  }
}

extension SamplerName: Codable {
  public init(from decoder: any Decoder) throws {
    let name = try decoder.singleValueContainer().decode(String.self)
    guard let sampler = SamplerName(name: name) else {
      throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                              debugDescription: "unknown sampler '\(name)'; valid samplers: \(Self.validNames)"))
    }
    self = sampler
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(name)
  }
}

/// What a sampler is, as data.
public struct SamplerDescriptor: Sendable, Codable, Hashable {
  /// How a sampler moves the samples.
  public enum Family: String, Sendable, Codable {
    /// The reverse-time SDE under an SDE solver.
    case sde
    /// The probability-flow ODE under an ODE solver.
    case probabilityFlow = "probability-flow"
    /// A diffusion-specific algorithm (DDPM, DDIM, Langevin, …).
    case diffusion
  }

  /// Which processes a sampler's formulas hold for.
  public enum Requirement: String, Sendable, Codable {
    case any
    /// a(t)² + s(t)² = 1 (VP, cosine, the DDPM chain).
    case variancePreserving = "variance-preserving"
    /// a(t) = 1 (VE).
    case varianceExploding = "variance-exploding"

    /// Whether `process` meets it, checked at eleven times across (0, T].
    public func isMet(by process: any DiffusionProcess) -> Bool {
      let times = (1...11).map { process.T * Double($0) / 11 }
      switch self {
      case .any:
        return true
      case .variancePreserving:
        return times.allSatisfy { t in
          let a = process.meanCoefficient(t), s = process.standardDeviation(t)
          return abs(a * a + s * s - 1) <= 1e-9
        }
      case .varianceExploding:
        return times.allSatisfy { process.meanCoefficient($0) == 1 }
      }
    }
  }

  public var name: String
  public var summary: String
  /// Whether it injects noise (else a deterministic map from the prior sample).
  public var stochastic: Bool
  /// Convergence order in the step size, where one is known.
  public var order: Double?
  /// Score evaluations per step; nil when adaptive or set by options (corrector steps).
  public var evaluationsPerStep: Int?
  public var adaptive: Bool
  public var family: Family
  /// The processes it can sample.
  public var requirement: Requirement

  public init(name: String, summary: String, stochastic: Bool, order: Double?, evaluationsPerStep: Int?,
              adaptive: Bool, family: Family, requirement: Requirement) {
    self.name = name
    self.summary = summary
    self.stochastic = stochastic
    self.order = order
    self.evaluationsPerStep = evaluationsPerStep
    self.adaptive = adaptive
    self.family = family
    self.requirement = requirement
  }

  /// The built-in processes it can sample.
  public var processes: [ProcessName] { ProcessName.allCases.filter { requirement.isMet(by: $0.process) } }
}
