/// A solver of either kind, as chosen by name at the edge of the program.
public enum AnySolver: Sendable {
  case ode(any ODESolver)
  case adaptiveODE(any AdaptiveODESolver)
  case sde(any SDESolver)

  public var descriptor: SolverDescriptor {
    switch self {
    case .ode(let solver): solver.descriptor
    case .adaptiveODE(let solver): solver.descriptor
    case .sde(let solver): solver.descriptor
    }
  }
}

/// Every solver SDEKit itself implements, by its command-line name (GSL's steppers are listed
/// by GSLIntegrators' `GSLStepType`): the one table the CLI, the tests
/// and the benchmarks iterate. The switch is exhaustive, so nothing is half-registered.
public enum SolverName: String, CaseIterable, Sendable, Codable {
  case euler
  case heun
  case midpoint
  case rk4
  case dopri5
  case eulerMaruyama = "euler-maruyama"
  case milstein
  case milsteinDerivativeFree = "milstein-derivative-free"
  case stochasticHeun = "stochastic-heun"
  case sra1
  case sriw1

  public var solver: AnySolver {
    switch self {
    case .euler: .ode(Euler())
    case .heun: .ode(Heun())
    case .midpoint: .ode(Midpoint())
    case .rk4: .ode(RK4())
    case .dopri5: .adaptiveODE(DormandPrince5())
    case .eulerMaruyama: .sde(EulerMaruyama())
    case .milstein: .sde(Milstein())
    case .milsteinDerivativeFree: .sde(MilsteinDerivativeFree())
    case .stochasticHeun: .sde(StochasticHeun())
    case .sra1: .sde(SRA1())
    case .sriw1: .sde(SRIW1())
    }
  }

  public var descriptor: SolverDescriptor { solver.descriptor }
}
