/// Milstein's method for Itô SDEs with diagonal or scalar noise, using the analytic
/// coefficient (∂g/∂x)·g that the diffusion provides.
///
/// Strong order 1.0, weak order 1.0; one drift evaluation and two diffusion evaluations
/// (g and (∂g/∂x)·g) per step. For additive noise ∂g/∂x = 0 and the method is Euler–Maruyama
/// (strong order 1.0 there); no derivative is needed.
///
/// ```
/// x₊ = x + h f(x, t) + g(x, t) ΔW + ½ (∂g/∂x · g)(x, t) (ΔW² − |h|)
/// ```
///
/// Reference: Kloeden & Platen (1992), §10.3, eq. (3.3); Milstein (1974).
public struct Milstein: SDESolver {
  public init() {}

  public static let descriptor = SolverDescriptor(
    name: "milstein", summary: "Milstein with analytic ∂g/∂x (Itô)", kind: .sde, calculus: .ito,
    orders: [
      .init(noise: .additive, strong: 1.0, weak: 1.0),
      .init(noise: .diagonal, strong: 1.0, weak: 1.0),
      .init(noise: .scalar, strong: 1.0, weak: 1.0),
    ],
    driftEvaluationsPerStep: 1, diffusionEvaluationsPerStep: 2, needsDerivative: true)

  public var descriptor: SolverDescriptor { Self.descriptor }

  public func makeWorkspace(rows: Int, dimension: Int) -> SolverWorkspace {
    SolverWorkspace(buffers: 3, rows: rows, dimension: dimension)
  }

  @inlinable
  public func step<F: Drift, G: Diffusion>(
    drift: F, diffusion: G, x: UnsafeMutableBufferPointer<Double>, t: Double, h: Double,
    noise: StepNoise, dimension: Int, workspace: SolverWorkspace
  ) {
    let f = workspace[0], g = workspace[1], gg = workspace[2]
    let xIn = UnsafeBufferPointer(x)
    drift.drift(BatchView(xIn, dimension: dimension), t: t, into: MutableBatchView(f, dimension: dimension))
    diffusion.diffusion(BatchView(xIn, dimension: dimension), t: t, into: MutableBatchView(g, dimension: dimension))
    let dW = noise.increments
    guard diffusion.noise != .additive else {
      for e in 0..<x.count { x[e] += h * f[e] + g[e] * dW[e] }
      return
    }
    diffusion.derivativeProduct(BatchView(xIn, dimension: dimension), t: t, into: MutableBatchView(gg, dimension: dimension))
    let absH = noise.absStep
    for e in 0..<x.count {
      x[e] += h * f[e] + g[e] * dW[e] + 0.5 * gg[e] * (dW[e] * dW[e] - absH)
    }
  }
}
