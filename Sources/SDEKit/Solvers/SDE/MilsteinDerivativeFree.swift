/// The derivative-free (Runge–Kutta) form of Milstein's method for Itô SDEs with diagonal or
/// scalar noise: (∂g/∂x)·g is replaced by a difference of g at a supporting value.
///
/// Strong order 1.0, weak order 1.0; one drift and two diffusion evaluations per step. For
/// additive noise the difference vanishes and the method is Euler–Maruyama.
///
/// ```
/// x̄  = x + h f(x, t) + g(x, t) √|h|
/// x₊ = x + h f(x, t) + g(x, t) ΔW + (g(x̄, t) − g(x, t)) (ΔW² − |h|) / (2√|h|)
/// ```
///
/// Reference: Kloeden & Platen (1992), §11.1, eq. (1.3) (the explicit order 1.0 strong scheme).
public struct MilsteinDerivativeFree: SDESolver {
  public init() {}

  public static let descriptor = SolverDescriptor(
    name: "milstein-derivative-free", summary: "Runge–Kutta Milstein, no ∂g/∂x needed (Itô)",
    kind: .sde, calculus: .ito,
    orders: [
      .init(noise: .additive, strong: 1.0, weak: 1.0),
      .init(noise: .diagonal, strong: 1.0, weak: 1.0),
      .init(noise: .scalar, strong: 1.0, weak: 1.0),
    ],
    driftEvaluationsPerStep: 1, diffusionEvaluationsPerStep: 2)

  public var descriptor: SolverDescriptor { Self.descriptor }

  public func makeWorkspace(rows: Int, dimension: Int) -> SolverWorkspace {
    SolverWorkspace(buffers: 4, rows: rows, dimension: dimension)
  }

  @inlinable
  public func step<F: Drift, G: Diffusion>(
    drift: F, diffusion: G, x: UnsafeMutableBufferPointer<Double>, t: Double, h: Double,
    noise: StepNoise, dimension: Int, workspace: SolverWorkspace
  ) {
    let f = workspace[0], g = workspace[1], support = workspace[2], gSupport = workspace[3]
    let xIn = UnsafeBufferPointer(x)
    drift.drift(BatchView(xIn, dimension: dimension), t: t, into: MutableBatchView(f, dimension: dimension))
    diffusion.diffusion(BatchView(xIn, dimension: dimension), t: t, into: MutableBatchView(g, dimension: dimension))
    let rootH = noise.absStep.squareRoot()
    for e in 0..<x.count { support[e] = x[e] + h * f[e] + g[e] * rootH }
    diffusion.diffusion(BatchView(UnsafeBufferPointer(support), dimension: dimension), t: t, into: MutableBatchView(gSupport, dimension: dimension))
    let dW = noise.increments
    let absH = noise.absStep
    let scale = 0.5 / rootH
    for e in 0..<x.count {
      x[e] += h * f[e] + g[e] * dW[e] + (gSupport[e] - g[e]) * (dW[e] * dW[e] - absH) * scale
    }
  }
}
