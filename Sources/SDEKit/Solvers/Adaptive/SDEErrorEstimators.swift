/// The order in h of the embedded Rößler error estimate: the strong-order-1.0 solution's local
/// error, |h|^{1.5} in mean square.
let embeddedErrorOrder = 1.5

/// A Rößler stochastic Runge–Kutta step with its embedded lower-order solution.
///
/// The tableau's stages also give a strong-order-1.0 solution: Euler's drift and the terms in
/// ΔW and I₍₁,₁₎ (for additive noise Euler–Maruyama with g at the stage's time; for SRIW1 a
/// derivative-free Milstein step). The difference to the full step is
///
/// ```
/// e = h (Σ_i α_i f_i − f_1) + Σ_i (β³_i I₍₁,₀₎/|h| + β⁴_i I₍₁,₁,₁₎/|h|) g_i
/// ```
///
/// For SRA1, e = (2/3) h (f(H⁰₂, t + ¾h) − f(x, t)) + (g(t) − g(t + h)) ΔZ/|h|: diffrax's
/// `b_error` for the drift and StochasticDiffEq's E₂ for the noise. For SRIW1 the noise part is
/// Rackauckas & Nie's E_N; the drift part replaces their heuristic δ·h(f₁ + f₂) by the embedded
/// difference. The full step is kept (local extrapolation).
///
/// Reference: C. Rackauckas & Q. Nie, "Adaptive methods for stochastic differential equations
/// via natural embeddings and rejection sampling with memory", Discrete Contin. Dyn. Syst. B 22
/// (2017) 2731–2761, §3; A. Rößler, SIAM J. Numer. Anal. 48 (2010) 922–952.
struct EmbeddedRungeKutta<M: StochasticRungeKuttaMethod, F: Drift, G: Diffusion>: AdaptiveSDEStepper {
  let method: M
  let drift: CountingDrift<F>
  let diffusion: CountingDiffusion<G>
  let dimension: Int
  let width: Int
  let settings: AdaptiveSDESettings
  let workspace: SolverWorkspace
  /// ΔW, ΔZ and the error estimate.
  let buffers: AdaptiveBuffers
  /// Per stage: α_i − [i = 0] (the drift weights of the difference), β³_i, β⁴_i (read once from
  /// the tableau, whose arrays would otherwise be retained on every attempt).
  let driftWeights: [Double]
  let beta3: [Double]
  let beta4: [Double]

  init(method: M, drift: CountingDrift<F>, diffusion: CountingDiffusion<G>, rows: Int, dimension: Int, width: Int,
       settings: AdaptiveSDESettings) {
    self.method = method
    self.drift = drift
    self.diffusion = diffusion
    self.dimension = dimension
    self.width = width
    self.settings = settings
    workspace = method.makeWorkspace(rows: rows, dimension: dimension)
    buffers = AdaptiveBuffers(count: 3, elements: rows * dimension)
    let tableau = M.tableau
    driftWeights = tableau.alpha.indices.map { tableau.alpha[$0] - ($0 == 0 ? 1 : 0) }
    beta3 = tableau.beta3
    beta4 = tableau.beta4
  }

  mutating func attempt(_ x: BatchView, t: Double, next: Double, walker: BrownianTree.Walker,
                        candidate: MutableBatchView, ratios: UnsafeMutableBufferPointer<Double>) {
    let dW = buffers[0], dZ = buffers[1], error = buffers[2]
    let h = next - t, absH = abs(h)
    walker.increments(from: t, to: next, into: dW.baseAddress!, spaceTime: dZ.baseAddress!)
    if width != dimension {
      repeatAcrossRows(dW, rows: ratios.count, dimension: dimension)
      repeatAcrossRows(dZ, rows: ratios.count, dimension: dimension)
    }
    for e in 0..<x.count { candidate[e] = x[e] }
    method.step(drift: drift, diffusion: diffusion, x: candidate.values, t: t, h: h,
                noise: StepNoise(increments: UnsafeBufferPointer(dW), spaceTime: UnsafeBufferPointer(dZ), absStep: absH),
                dimension: dimension, workspace: workspace)
    // The stages are still in the workspace: f_i in buffer i, g_i in buffer s + i.
    let s = driftWeights.count, n = x.count
    for e in 0..<n { error[e] = 0 }
    for i in 0..<s {
      let a = driftWeights[i] * h
      if a != 0 {
        let f = workspace[i]
        for e in 0..<n { error[e] += a * f[e] }
      }
      let b3 = beta3[i] / absH, b4 = beta4[i] / absH
      if b3 != 0 || b4 != 0 {
        let g = workspace[s + i]
        for e in 0..<n {
          let w = dW[e], i111 = w * (w * w - 3 * absH) / 6
          error[e] += g[e] * (b3 * dZ[e] + b4 * i111)
        }
      }
    }
    scaledErrorRatios(error: UnsafeBufferPointer(error), state: x.values, candidate: UnsafeBufferPointer(candidate.values),
                      dimension: dimension, settings: settings, into: ratios)
  }
}

/// Any SDE solver's step judged by step doubling: one step over [t, t + h] against two over its
/// halves, driven by the same Brownian path (the whole step's ΔW = ΔW₁ + ΔW₂ and
/// ΔZ = ΔZ₁ + ΔZ₂ + ΔW₁·h/2). The error estimate is the difference; the two half steps are kept.
/// Costs three steps' evaluations; for a method of strong order γ the estimate is of order
/// |h|^{γ+1/2}.
struct StepDoubling<S: SDESolver, F: Drift, G: Diffusion>: AdaptiveSDEStepper {
  let solver: S
  let drift: CountingDrift<F>
  let diffusion: CountingDiffusion<G>
  let dimension: Int
  let width: Int
  let settings: AdaptiveSDESettings
  let workspace: SolverWorkspace
  let needsSpaceTime: Bool
  /// ΔW and ΔZ of the first half, the second half and the whole step; the full step's result.
  let buffers: AdaptiveBuffers

  init(solver: S, drift: CountingDrift<F>, diffusion: CountingDiffusion<G>, rows: Int, dimension: Int, width: Int,
       settings: AdaptiveSDESettings) {
    self.solver = solver
    self.drift = drift
    self.diffusion = diffusion
    self.dimension = dimension
    self.width = width
    self.settings = settings
    workspace = solver.makeWorkspace(rows: rows, dimension: dimension)
    needsSpaceTime = solver.descriptor.needsSpaceTimeIntegral
    buffers = AdaptiveBuffers(count: 7, elements: rows * dimension)
  }

  mutating func attempt(_ x: BatchView, t: Double, next: Double, walker: BrownianTree.Walker,
                        candidate: MutableBatchView, ratios: UnsafeMutableBufferPointer<Double>) {
    let (w1, z1, w2, z2, w, z, full) = (buffers[0], buffers[1], buffers[2], buffers[3], buffers[4], buffers[5], buffers[6])
    let rows = ratios.count
    let mid = t + 0.5 * (next - t)
    walker.increments(from: t, to: mid, into: w1.baseAddress!, spaceTime: needsSpaceTime ? z1.baseAddress! : nil)
    walker.increments(from: mid, to: next, into: w2.baseAddress!, spaceTime: needsSpaceTime ? z2.baseAddress! : nil)
    let second = abs(next - mid)
    for e in 0..<(rows * width) {
      w[e] = w1[e] + w2[e]
      if needsSpaceTime { z[e] = z1[e] + z2[e] + w1[e] * second }
    }
    if width != dimension {
      // One call each: an array of the six would be allocated on every attempt.
      repeatAcrossRows(w1, rows: rows, dimension: dimension)
      repeatAcrossRows(z1, rows: rows, dimension: dimension)
      repeatAcrossRows(w2, rows: rows, dimension: dimension)
      repeatAcrossRows(z2, rows: rows, dimension: dimension)
      repeatAcrossRows(w, rows: rows, dimension: dimension)
      repeatAcrossRows(z, rows: rows, dimension: dimension)
    }
    func noise(_ increments: UnsafeMutableBufferPointer<Double>, _ spaceTime: UnsafeMutableBufferPointer<Double>,
               _ size: Double) -> StepNoise {
      StepNoise(increments: UnsafeBufferPointer(increments),
                spaceTime: needsSpaceTime ? UnsafeBufferPointer(spaceTime) : nil, absStep: size)
    }
    for e in 0..<x.count {
      full[e] = x[e]
      candidate[e] = x[e]
    }
    solver.step(drift: drift, diffusion: diffusion, x: full, t: t, h: next - t, noise: noise(w, z, abs(next - t)),
                dimension: dimension, workspace: workspace)
    solver.step(drift: drift, diffusion: diffusion, x: candidate.values, t: t, h: mid - t,
                noise: noise(w1, z1, abs(mid - t)), dimension: dimension, workspace: workspace)
    solver.step(drift: drift, diffusion: diffusion, x: candidate.values, t: mid, h: next - mid,
                noise: noise(w2, z2, second), dimension: dimension, workspace: workspace)
    for e in 0..<x.count { full[e] = candidate[e] - full[e] }
    scaledErrorRatios(error: UnsafeBufferPointer(full), state: x.values, candidate: UnsafeBufferPointer(candidate.values),
                      dimension: dimension, settings: settings, into: ratios)
  }
}
