/// Every built-in problem with an exact solution, by its command-line name.
public enum ProblemName: String, CaseIterable, Sendable, Codable {
  case gbm
  case gbmDiagonal = "gbm-diagonal"
  case additive
  case ou
  case doubleWell = "double-well"
  case linearODE = "linear-ode"
  case lotkaVolterra = "lotka-volterra"
  case arenstorf
  case vanDerPol = "van-der-pol"

  public var summary: String {
    switch self {
    case .gbm: "geometric Brownian motion dX = μX dt + σX dW, μ = 1.01, σ = 0.87, X₀ = 0.5, T = 1 (REFERENCE W4)"
    case .gbmDiagonal: "3-dimensional geometric Brownian motion with diagonal noise"
    case .additive: "du = (β/√(1+t) − u/(2(1+t)))dt + αβ/√(1+t) dW, α = 0.1, β = 0.05, u₀ = 1"
    case .ou: "Ornstein–Uhlenbeck dX = θ(μ − X)dt + σ dW, θ = 2, μ = 1, σ = 0.5, X₀ = 3 (exact mean)"
    case .doubleWell: "double well dX = (X − X³)dt + σ dW, σ = 0.5, X₀ = 0.5 (reference solve)"
    case .linearODE: "y' = Ay, A a damped rotation (λ = 0.5, ω = 2π), exact exponential"
    case .lotkaVolterra: "Lotka–Volterra predator–prey, a = 1.5, b = 1, c = 3, d = 1, y₀ = (1, 1), t ∈ [0, 10]"
    case .arenstorf: "Arenstorf orbit of the restricted three-body problem, one period"
    case .vanDerPol: "Van der Pol oscillator, μ = 1000 (stiff), y₀ = (2, 0), t ∈ [0, 1000], analytic Jacobian"
    }
  }

  public var kind: SolverDescriptor.Kind { odeProblem == nil ? .sde : .ode }

  /// The SDE problem behind this name, nil for ODE problems.
  public var sdeProblem: (any SDETestProblem)? {
    switch self {
    case .gbm: GeometricBrownianMotion()
    case .gbmDiagonal: DiagonalGeometricBrownianMotion()
    case .additive: LinearAdditiveSDE()
    case .ou: OrnsteinUhlenbeck()
    case .doubleWell: DoubleWell()
    case .linearODE, .lotkaVolterra, .arenstorf, .vanDerPol: nil
    }
  }

  /// The ODE problem behind this name, nil for SDE problems.
  public var odeProblem: (any ODETestProblem)? {
    switch self {
    case .linearODE: LinearODE()
    case .lotkaVolterra: LotkaVolterra()
    case .arenstorf: Arenstorf()
    case .vanDerPol: VanDerPol()
    case .gbm, .gbmDiagonal, .additive, .ou, .doubleWell: nil
    }
  }

  /// The noise structure, nil for the ODE.
  public var noise: NoiseStructure? {
    switch self {
    case .gbm, .gbmDiagonal: .diagonal
    case .additive, .ou, .doubleWell: .additive
    case .linearODE, .lotkaVolterra, .arenstorf, .vanDerPol: nil
    }
  }

  /// Whether the exact solution is a function of W(T); if not, strong errors are measured
  /// against a reference solve on the same path.
  public var hasPathwiseSolution: Bool { self != .ou && self != .doubleWell }

  /// Runs a convergence study of `solver` on this problem (for an adaptive ODE solver, the
  /// fixed-step order of its formula). ODE problems ignore `kind`, `paths`, `seed` and `threads`.
  /// - Throws: `SolveError` naming the solver and problem when their kinds differ, and
  ///   whatever the study throws.
  public func convergence(solver: SolverName, kind: ErrorKind, paths: Int, levels: [Int],
                          seed: UInt64 = 0, threads: Int? = nil) throws -> ConvergenceStudy {
    guard let odeProblem else {
      return ConvergenceStudy(try convergenceErrors(solver: solver, kind: kind, paths: paths, levels: levels, seed: seed,
                                                    threads: threads))
    }
    func ode<P: ODETestProblem>(_ problem: P) throws -> ConvergenceStudy {
      switch solver.solver {
      case .ode(let method):
        return try convergenceStudy(problem: problem, named: rawValue, solver: method, levels: levels)
      case .adaptiveODE(let method):
        return try convergenceStudy(problem: problem, named: rawValue, fixedStepsOf: method, levels: levels)
      case .sde:
        throw SolveError.incompatible(
          solver: solver.rawValue, reason: "is an SDE solver; problem \(rawValue) is an ODE")
      }
    }
    return try ode(odeProblem)
  }

  /// The per-path errors of an SDE problem's convergence study over the paths `rows` (all by
  /// default), to be merged with other processes' (see `convergenceErrors(problem:…)`).
  /// - Throws: `SolveError` for an ODE problem or solver, and whatever the study throws.
  public func convergenceErrors(solver: SolverName, kind: ErrorKind, paths: Int, levels: [Int],
                                seed: UInt64 = 0, rows: Range<Int>? = nil, threads: Int? = nil) throws -> ConvergenceErrors {
    guard let problem = sdeProblem else {
      throw SolveError.invalidConfiguration("\(rawValue) is an ODE problem: one solution, no paths to split")
    }
    guard case .sde(let method) = solver.solver else {
      throw SolveError.incompatible(solver: solver.rawValue, reason: "is an ODE solver; problem \(rawValue) is an SDE")
    }
    return try SDEKit.convergenceErrors(problem: problem, named: rawValue, solver: method, kind: kind, paths: paths,
                                        levels: levels, rows: rows, seed: seed, threads: threads)
  }
}
