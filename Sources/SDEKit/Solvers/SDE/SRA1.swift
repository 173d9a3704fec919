/// SRA1, Rößler's stochastic Runge–Kutta method for SDEs with additive noise.
///
/// Strong order 1.5, weak order 2.0; additive noise only; two drift and two diffusion
/// evaluations per step; needs ΔW and ΔZ = ∫(W_s − W_t) ds. Itô and Stratonovich coincide for
/// additive noise.
///
/// ```
/// H⁰₂ = x + ¾ h f(x, t) + (3/2) g(t + h) ΔZ/|h|
/// x₊  = x + h (f(x, t)/3 + 2 f(H⁰₂, t + ¾h)/3)
///         + g(t + h) (ΔW − ΔZ/|h|) + g(t) ΔZ/|h|
/// ```
///
/// Reference: A. Rößler, "Runge–Kutta methods for the strong approximation of solutions of
/// stochastic differential equations", SIAM J. Numer. Anal. 48 (2010), scheme SRA1; the same
/// coefficients as StochasticDiffEq.jl's and diffrax's `SRA1`.
public struct SRA1: StochasticRungeKuttaMethod {
  public init() {}

  public static let tableau = StochasticRungeKuttaTableau(
    c0: [0, 0.75], c1: [1, 0],
    a0: [[0, 0], [0.75, 0]],
    b0: [[0, 0], [1.5, 0]],
    alpha: [1.0 / 3, 2.0 / 3],
    beta1: [1, 0],
    beta3: [-1, 1])

  public static let descriptor = SolverDescriptor(
    name: "sra1", summary: "Rößler SRA1 stochastic Runge–Kutta (additive noise)", kind: .sde,
    calculus: .ito,
    orders: [.init(noise: .additive, strong: 1.5, weak: 2.0)],
    driftEvaluationsPerStep: 2, diffusionEvaluationsPerStep: 2, needsSpaceTimeIntegral: true,
    errorEstimate: .embedded)

  public var descriptor: SolverDescriptor { Self.descriptor }
}
