/// SRIW1, Rößler's stochastic Runge–Kutta method for Itô SDEs with diagonal or scalar noise.
///
/// Strong order 1.5, weak order 2.0; additive noise too (a special case of diagonal noise);
/// two drift and four diffusion evaluations per step; needs ΔW and ΔZ = ∫(W_s − W_t) ds.
///
/// ```
/// H⁰₂ = x + ¾ h f₁ + (3/2) g₁ ΔZ/|h|                       f₁ = f(x, t), g₁ = g(x, t)
/// H¹₂ = x + ¼ h f₁ + ½ g₁ √|h|,       g₂ = g(H¹₂, t + h/4)
/// H¹₃ = x + h f₁ − g₁ √|h|,           g₃ = g(H¹₃, t + h)
/// H¹₄ = x + ¼ h f₁ + (−5g₁ + 3g₂ + ½g₃) √|h|,   g₄ = g(H¹₄, t + h/4)
/// x₊  = x + h (f₁ + 2 f(H⁰₂, t + ¾h))/3
///         + (−g₁ + 4g₂/3 + 2g₃/3) ΔW + (−g₁ + 4g₂/3 − g₃/3) I₍₁,₁₎/√|h|
///         + (2g₁ − 4g₂/3 − 2g₃/3) ΔZ/|h| + (−2g₁ + 5g₂/3 − 2g₃/3 + g₄) I₍₁,₁,₁₎/|h|
/// ```
///
/// The published table has A¹₄₃ = ¼, the weight of f(H⁰₃); since H⁰₃ = x at c⁰₃ = 0 that is
/// f₁, so the table below puts it in A¹₄₁ and the drift is evaluated twice rather than three
/// times.
///
/// Reference: A. Rößler, "Runge–Kutta methods for the strong approximation of solutions of
/// stochastic differential equations", SIAM J. Numer. Anal. 48 (2010), the SRI scheme of strong
/// order 1.5 tabulated as `SRIW1` in StochasticDiffEq.jl.
public struct SRIW1: StochasticRungeKuttaMethod {
  public init() {}

  public static let tableau = StochasticRungeKuttaTableau(
    c0: [0, 0.75, 0, 0], c1: [0, 0.25, 1, 0.25],
    a0: [[0, 0, 0, 0], [0.75, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]],
    a1: [[0, 0, 0, 0], [0.25, 0, 0, 0], [1, 0, 0, 0], [0.25, 0, 0, 0]],
    b0: [[0, 0, 0, 0], [1.5, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]],
    b1: [[0, 0, 0, 0], [0.5, 0, 0, 0], [-1, 0, 0, 0], [-5, 3, 0.5, 0]],
    alpha: [1.0 / 3, 2.0 / 3, 0, 0],
    beta1: [-1, 4.0 / 3, 2.0 / 3, 0],
    beta2: [-1, 4.0 / 3, -1.0 / 3, 0],
    beta3: [2, -4.0 / 3, -2.0 / 3, 0],
    beta4: [-2, 5.0 / 3, -2.0 / 3, 1])

  public static let descriptor = SolverDescriptor(
    name: "sriw1", summary: "Rößler SRIW1 stochastic Runge–Kutta (diagonal/scalar noise, Itô)",
    kind: .sde, calculus: .ito,
    orders: [
      .init(noise: .additive, strong: 1.5, weak: 2.0),
      .init(noise: .diagonal, strong: 1.5, weak: 2.0),
      .init(noise: .scalar, strong: 1.5, weak: 2.0),
    ],
    driftEvaluationsPerStep: 2, diffusionEvaluationsPerStep: 4, needsSpaceTimeIntegral: true,
    errorEstimate: .embedded)

  public var descriptor: SolverDescriptor { Self.descriptor }
}
