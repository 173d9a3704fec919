/// The Euler–Maruyama method for Itô SDEs.
///
/// Strong order 0.5 (1.0 for additive noise), weak order 1.0; additive, diagonal and scalar
/// noise; one drift and one diffusion evaluation per step.
///
/// ```
/// x₊ = x + h f(x, t) + g(x, t) ΔW,   ΔW ~ N(0, |h|)
/// ```
///
/// Reference: Kloeden & Platen, *Numerical Solution of Stochastic Differential Equations*
/// (1992), §9.1 and §10.2.
public struct EulerMaruyama: SDESolver {
  public init() {}

  public static let descriptor = SolverDescriptor(
    name: "euler-maruyama", summary: "Euler–Maruyama (Itô)", kind: .sde, calculus: .ito,
    orders: [
      .init(noise: .additive, strong: 1.0, weak: 1.0),
      .init(noise: .diagonal, strong: 0.5, weak: 1.0),
      .init(noise: .scalar, strong: 0.5, weak: 1.0),
    ],
    driftEvaluationsPerStep: 1, diffusionEvaluationsPerStep: 1)

  public var descriptor: SolverDescriptor { Self.descriptor }

  public func makeWorkspace(rows: Int, dimension: Int) -> SolverWorkspace {
    SolverWorkspace(buffers: 2, rows: rows, dimension: dimension)
  }

  @inlinable
  public func step<F: Drift, G: Diffusion>(
    drift: F, diffusion: G, x: UnsafeMutableBufferPointer<Double>, t: Double, h: Double,
    noise: StepNoise, dimension: Int, workspace: SolverWorkspace
  ) {
    let f = workspace[0], g = workspace[1]
    let xIn = UnsafeBufferPointer(x)
    drift.drift(BatchView(xIn, dimension: dimension), t: t, into: MutableBatchView(f, dimension: dimension))
    let dW = noise.increments
    if diffusion.noise == .additive, let g = diffusion.uniformValue(t: t) {
      eulerMaruyamaUpdate(x, h: h, drift: f, diffusion: g, increments: dW)
      return
    }
    diffusion.diffusion(BatchView(xIn, dimension: dimension), t: t, into: MutableBatchView(g, dimension: dimension))
    eulerMaruyamaUpdate(x, h: h, drift: f, diffusion: g, increments: dW)
  }
}
