/// The adaptive sampler of Jolicoeur-Martineau et al., "Gotta Go Fast When Generating Data with
/// Score-Based Models" (2021), Algorithm 1, for SDEs with additive noise: an Euler–Maruyama
/// step and an improved-Euler (stochastic Heun) step from the same increment; their difference
/// is the error, the improved-Euler value is kept (extrapolation).
///
/// ```
/// K₁ = h f(x, t) + g(t) ΔW,          x′ = x + K₁
/// K₂ = h f(x′, t + h) + g(t + h) ΔW,  x″ = x + (K₁ + K₂)/2
/// δ_i = max(ε_abs, ε_rel · max(|x′_i|, |x′_prev,i|)),   E = ‖(x′ − x″)/δ‖ (RMS over a sample)
/// accept when E ≤ 1 (x ← x″, x′_prev ← x′);   h ← θ h E^{−r}
/// ```
///
/// x′_prev is the Euler–Maruyama value of the last accepted step (x at the start). Two drift
/// evaluations per attempt. As the paper, θ = 0.9, r = 0.9 and no limit on growth or shrink;
/// the step is then capped at dt_max and at the distance left. Two differences: the increment
/// ΔW of a retried step comes from the same Brownian path (a `BrownianTree`), where the paper
/// draws new noise, which biases towards small increments; and after a rejection the next
/// accepted step does not grow (`PIController`). The paper's defaults for images in [−1, 1] are
/// ε_abs = 0.0078, ε_rel = 0.05, first step 0.01.
public struct GottaGoFast: Sendable, Hashable, Codable {
  /// θ, the safety factor.
  public var safety: Double
  /// r, the exponent of the error ratio.
  public var exponent: Double

  public init(safety: Double = 0.9, exponent: Double = 0.9) {
    self.safety = safety
    self.exponent = exponent
  }

  /// h ← θ h E^{−r} after every attempt, without limits.
  public var controller: PIController {
    PIController(alpha: exponent, beta: 0, safety: safety, maxGrowth: .infinity, maxShrink: .infinity,
                 maxRejectionShrink: .infinity)
  }
}

/// `GottaGoFast` bound to its problem, for a set of rows.
struct GottaGoFastStepper<F: Drift, G: Diffusion>: AdaptiveSDEStepper {
  let method: GottaGoFast
  let drift: CountingDrift<F>
  let diffusion: CountingDiffusion<G>
  let dimension: Int
  let settings: AdaptiveSDESettings
  /// ΔW, f(x, t), f(x′, t + h), x′, x′_prev, g, the error.
  let buffers: AdaptiveBuffers

  init(method: GottaGoFast, drift: CountingDrift<F>, diffusion: CountingDiffusion<G>, rows: Int, dimension: Int,
       settings: AdaptiveSDESettings) {
    self.method = method
    self.drift = drift
    self.diffusion = diffusion
    self.dimension = dimension
    self.settings = settings
    buffers = AdaptiveBuffers(count: 7, elements: rows * dimension)
  }

  mutating func start(_ x: BatchView) {
    let previous = buffers[4]
    for e in 0..<x.count { previous[e] = x[e] }
  }

  mutating func accepted(_ candidate: BatchView) {
    let euler = buffers[3], previous = buffers[4]
    for e in 0..<candidate.count { previous[e] = euler[e] }
  }

  /// g(t) into `g`: the uniform value when the diffusion has one, else the filled buffer.
  private func diffusionValues(_ x: BatchView, t: Double, into g: UnsafeMutableBufferPointer<Double>) {
    if let value = diffusion.uniformValue(t: t) {
      for e in 0..<x.count { g[e] = value }
    } else {
      diffusion.diffusion(x, t: t, into: MutableBatchView(g, dimension: dimension))
    }
  }

  mutating func attempt(_ x: BatchView, t: Double, next: Double, walker: BrownianTree.Walker,
                        candidate: MutableBatchView, ratios: UnsafeMutableBufferPointer<Double>) {
    let (dW, f1, f2, euler, previous, g, error) = (buffers[0], buffers[1], buffers[2], buffers[3], buffers[4],
                                                   buffers[5], buffers[6])
    let h = next - t, n = x.count
    walker.increments(from: t, to: next, into: dW.baseAddress!, spaceTime: nil)
    drift.drift(x, t: t, into: MutableBatchView(f1, dimension: dimension))
    diffusionValues(x, t: t, into: g)
    for e in 0..<n {
      f1[e] = h * f1[e] + g[e] * dW[e]  // K₁
      euler[e] = x[e] + f1[e]
    }
    let eulerView = BatchView(UnsafeBufferPointer(euler), dimension: dimension)
    drift.drift(eulerView, t: next, into: MutableBatchView(f2, dimension: dimension))
    diffusionValues(eulerView, t: next, into: g)
    let atol = settings.absoluteTolerance, rtol = settings.relativeTolerance
    for e in 0..<n {
      let k2 = h * f2[e] + g[e] * dW[e]
      candidate[e] = x[e] + 0.5 * (f1[e] + k2)
      // The error scaled by δ_i = max(ε_abs, ε_rel · max(|x′_i|, |x′_prev,i|)).
      error[e] = 0.5 * (k2 - f1[e]) / max(atol, rtol * max(abs(euler[e]), abs(previous[e])))
    }
    // |e|² = e²: the bits of squaring the signed error.
    errorRatios(dimension: dimension, norm: settings.norm, into: ratios) { abs(error[$0]) }
  }
}
