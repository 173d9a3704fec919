/// The classical fourth-order Runge–Kutta method for ODEs.
///
/// Order 4, four vector-field evaluations per step.
///
/// ```
/// k₁ = F(y, t)
/// k₂ = F(y + h k₁/2, t + h/2)
/// k₃ = F(y + h k₂/2, t + h/2)
/// k₄ = F(y + h k₃, t + h)
/// y₊ = y + h (k₁ + 2k₂ + 2k₃ + k₄)/6
/// ```
///
/// Reference: Hairer, Nørsett & Wanner, *Solving Ordinary Differential Equations I*, §II.1, Table 1.2.
public struct RK4: ExplicitRungeKuttaMethod {
  public init() {}

  public static let tableau = ButcherTableau(
    c: [0, 0.5, 0.5, 1],
    a: [[], [0.5], [0, 0.5], [0, 0, 1]],
    b: [1.0 / 6, 1.0 / 3, 1.0 / 3, 1.0 / 6])

  public static let descriptor = SolverDescriptor(
    name: "rk4", summary: "classical Runge–Kutta (order 4)", kind: .ode, calculus: nil,
    orders: [.init(noise: nil, strong: 4, weak: 4)], driftEvaluationsPerStep: 4)

  public var descriptor: SolverDescriptor { Self.descriptor }
}
