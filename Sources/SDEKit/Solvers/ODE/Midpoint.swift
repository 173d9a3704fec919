/// The explicit midpoint method for ODEs.
///
/// Order 2, two vector-field evaluations per step.
///
/// ```
/// k₁ = F(y, t)
/// k₂ = F(y + h k₁/2, t + h/2)
/// y₊ = y + h k₂
/// ```
///
/// Reference: Hairer, Nørsett & Wanner, *Solving Ordinary Differential Equations I*, §II.1.
public struct Midpoint: ExplicitRungeKuttaMethod {
  public init() {}

  public static let tableau = ButcherTableau(c: [0, 0.5], a: [[], [0.5]], b: [0, 1])

  public static let descriptor = SolverDescriptor(
    name: "midpoint", summary: "explicit midpoint method (order 2)", kind: .ode, calculus: nil,
    orders: [.init(noise: nil, strong: 2, weak: 2)], driftEvaluationsPerStep: 2)

  public var descriptor: SolverDescriptor { Self.descriptor }
}
