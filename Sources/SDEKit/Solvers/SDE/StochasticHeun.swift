/// The stochastic Heun method for Stratonovich SDEs.
///
/// Strong order 1.0 for additive noise and for commutative noise (diagonal, scalar) in the
/// Stratonovich sense, weak order 1.0; two drift and two diffusion evaluations per step. For
/// additive noise Itô and Stratonovich coincide, so it also solves Itô problems there; `solve`
/// refuses it on Itô problems with non-additive noise.
///
/// ```
/// x̃  = x + h f(x, t) + g(x, t) ΔW
/// x₊ = x + h (f(x, t) + f(x̃, t + h))/2 + (g(x, t) + g(x̃, t + h)) ΔW/2
/// ```
///
/// Reference: Rümelin, "Numerical treatment of stochastic differential equations",
/// SIAM J. Numer. Anal. 19 (1982); Kloeden & Platen (1992), §15.1 (weak), §11.1.
public struct StochasticHeun: SDESolver {
  public init() {}

  public static let descriptor = SolverDescriptor(
    name: "stochastic-heun", summary: "stochastic Heun (Stratonovich)", kind: .sde,
    calculus: .stratonovich,
    orders: [
      .init(noise: .additive, strong: 1.0, weak: 1.0),
      .init(noise: .diagonal, strong: 1.0, weak: 1.0),
      .init(noise: .scalar, strong: 1.0, weak: 1.0),
    ],
    driftEvaluationsPerStep: 2, diffusionEvaluationsPerStep: 2)

  public var descriptor: SolverDescriptor { Self.descriptor }

  public func makeWorkspace(rows: Int, dimension: Int) -> SolverWorkspace {
    SolverWorkspace(buffers: 5, rows: rows, dimension: dimension)
  }

  @inlinable
  public func step<F: Drift, G: Diffusion>(
    drift: F, diffusion: G, x: UnsafeMutableBufferPointer<Double>, t: Double, h: Double,
    noise: StepNoise, dimension: Int, workspace: SolverWorkspace
  ) {
    let f0 = workspace[0], g0 = workspace[1], predictor = workspace[2]
    let f1 = workspace[3], g1 = workspace[4]
    let xIn = UnsafeBufferPointer(x)
    let dW = noise.increments
    drift.drift(BatchView(xIn, dimension: dimension), t: t, into: MutableBatchView(f0, dimension: dimension))
    diffusion.diffusion(BatchView(xIn, dimension: dimension), t: t, into: MutableBatchView(g0, dimension: dimension))
    for e in 0..<x.count { predictor[e] = x[e] + h * f0[e] + g0[e] * dW[e] }
    let p = UnsafeBufferPointer(predictor)
    drift.drift(BatchView(p, dimension: dimension), t: t + h, into: MutableBatchView(f1, dimension: dimension))
    diffusion.diffusion(BatchView(p, dimension: dimension), t: t + h, into: MutableBatchView(g1, dimension: dimension))
    let halfH = 0.5 * h
    for e in 0..<x.count {
      x[e] += halfH * (f0[e] + f1[e]) + 0.5 * (g0[e] + g1[e]) * dW[e]
    }
  }
}
