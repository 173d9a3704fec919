/// Euler's method for ODEs.
///
/// Order 1, one vector-field evaluation per step.
///
/// ```
/// y₊ = y + h F(y, t)
/// ```
///
/// Reference: Hairer, Nørsett & Wanner, *Solving Ordinary Differential Equations I*, §I.7.
public struct Euler: ExplicitRungeKuttaMethod {
  public init() {}

  public static let tableau = ButcherTableau(c: [0], a: [[]], b: [1])

  public static let descriptor = SolverDescriptor(
    name: "euler", summary: "Euler's method (explicit, order 1)", kind: .ode, calculus: nil,
    orders: [.init(noise: nil, strong: 1, weak: 1)], driftEvaluationsPerStep: 1)

  public var descriptor: SolverDescriptor { Self.descriptor }
}
