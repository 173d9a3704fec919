/// Heun's method (the explicit trapezoidal rule) for ODEs.
///
/// Order 2, two vector-field evaluations per step.
///
/// ```
/// k₁ = F(y, t)
/// k₂ = F(y + h k₁, t + h)
/// y₊ = y + h (k₁ + k₂)/2
/// ```
///
/// Reference: Hairer, Nørsett & Wanner, *Solving Ordinary Differential Equations I*, §II.1.
public struct Heun: ExplicitRungeKuttaMethod {
  public init() {}

  public static let tableau = ButcherTableau(c: [0, 1], a: [[], [1]], b: [0.5, 0.5])

  public static let descriptor = SolverDescriptor(
    name: "heun", summary: "Heun's method, explicit trapezoid (order 2)", kind: .ode, calculus: nil,
    orders: [.init(noise: nil, strong: 2, weak: 2)], driftEvaluationsPerStep: 2)

  public var descriptor: SolverDescriptor { Self.descriptor }
}
