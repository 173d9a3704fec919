import SDEKit

/// GSL's `gsl_odeiv2` step types, by their SDEKit names (`gsl-rkf45`, …).
public enum GSLStepType: String, CaseIterable, Sendable, Codable {
  case rk2, rk4, rkf45, rkck, rk8pd, rk1imp, rk2imp, rk4imp, bsimp, msadams, msbdf

  /// The command-line name, `gsl-` and GSL's own.
  public var name: String { "gsl-" + rawValue }

  /// Whether GSL needs the Jacobian for this method (the implicit ones and msbdf).
  public var needsJacobian: Bool {
    switch self {
    case .rk1imp, .rk2imp, .rk4imp, .bsimp, .msbdf: true
    default: false
    }
  }

  /// Whether it is an explicit one-step method.
  public var isExplicit: Bool {
    switch self {
    case .rk2, .rk4, .rkf45, .rkck, .rk8pd: true
    default: false
    }
  }

  /// The order GSL reports (`gsl_odeiv2_step_order`): the order its step control assumes.
  /// For the multistep methods it is the current order (1 for a new stepper).
  public var reportedOrder: Int { GSLStepType.reportedOrders[self]! }

  /// Asked of GSL once: each query allocates and frees a stepper, which solves that look up
  /// the order (the automatic initial step does, per sample in per-sample mode) should not repeat.
  private static let reportedOrders = Dictionary(uniqueKeysWithValues: allCases.map { ($0, GSL.reportedOrder(of: $0)) })

  /// The convergence order of the solution the stepper propagates. It equals `reportedOrder`
  /// except for rk2, which advances its third-order solution (y + h(k₁ + 4k₂ + k₃)/6; measured
  /// fixed-step slope 3.0) while reporting 2, and for the multistep methods, which reach up to
  /// order 12 (msadams) and 5 (msbdf).
  public var order: Int {
    switch self {
    case .rk2: 3
    case .msadams: 12
    case .msbdf: 5
    default: reportedOrder
    }
  }

  public var summary: String {
    switch self {
    case .rk2: "GSL embedded Runge–Kutta (2, 3)"
    case .rk4: "GSL classical Runge–Kutta 4, step-doubling error estimate"
    case .rkf45: "GSL Runge–Kutta–Fehlberg (4, 5)"
    case .rkck: "GSL Runge–Kutta Cash–Karp (4, 5)"
    case .rk8pd: "GSL Runge–Kutta Prince–Dormand (8, 9)"
    case .rk1imp: "GSL implicit Euler (Gauss order 1), step doubling"
    case .rk2imp: "GSL implicit Gaussian Runge–Kutta order 2 (midpoint)"
    case .rk4imp: "GSL implicit Gaussian Runge–Kutta order 4"
    case .bsimp: "GSL implicit Bulirsch–Stoer (Bader–Deuflhard)"
    case .msadams: "GSL variable-order Adams (orders 1–12, functional iteration)"
    case .msbdf: "GSL variable-order BDF (orders 1–5, stiff)"
    }
  }

  public var descriptor: SolverDescriptor {
    SolverDescriptor(
      name: name, summary: summary, kind: .ode, calculus: nil,
      orders: [.init(noise: nil, strong: Double(order), weak: Double(order))],
      driftEvaluationsPerStep: 0, isAdaptive: true, needsJacobian: needsJacobian)
  }
}
