import Foundation
import ScoreModels
import SDEKit

/// UniPC (Zhao et al. 2023): the unified predictor–corrector multistep sampler in data
/// prediction, as diffusers' `UniPCMultistepScheduler` (predict_x0, solver_type bh1|bh2).
///
/// Deterministic; one evaluation per step (the corrector reuses the prediction at the next point);
/// order p with the UniP-p predictor alone, p + 1 with the UniC corrector (Theorems 3.1, 3.2).
/// From s₀ (prediction m₀) to t, h = λ_t − λ_{s₀}, with the earlier predictions m_{−j} at
/// λ_{−j}, r_j = (λ_{−j} − λ_{s₀})/h, D_j = (m_{−j} − m₀)/r_j (Algorithms 2 and 3):
///
/// ```
/// hφ₁ = e^{−h} − 1,  B(h) = −h (bh1) or e^{−h} − 1 (bh2)
/// g₁ = hφ₁/(−h) − 1,  g_{k+1} = g_k/(−h) − 1/(k+1)!,  b_k = g_k k!/B(h),  R_{kj} = r_j^{k−1}
/// UniP-p:  x_t = (s_t/s₀) x − a_t hφ₁ m₀ − a_t B(h) Σ_{j<p} ρ_j D_j
///          ρ = ½ for p = 2, R[<p, <p]⁻¹ b[<p] for p = 3
/// UniC-p:  x_t ← (s_t/s₀) x_{s₀} − a_t hφ₁ m₀ − a_t B(h) (Σ_{j<p} ρ_j D_j + ρ_p (m_t − m₀))
///          ρ = ½ for p = 1, R⁻¹ b (r_p = 1) otherwise
/// ```
///
/// Each step evaluates m_i at x_i, corrects x_i by UniC (redoing the previous step from its
/// start with m_i, whose point is not re-evaluated) and predicts x_{i+1} by UniP; the last step
/// is not corrected. The first steps warm up (order ≤ steps done + 1); with `lowerOrderFinal`
/// (the default, diffusers' `lower_order_final`) step i has order at most N − i. A step to
/// σ = 0 returns a_t m₀ at order 1 (diffusers' bh1 gives NaN there: B(h) = −∞). Needs a finite
/// σ at the first grid time.
public struct UniPC: DiffusionSampler {
  /// p ∈ 1…3.
  public var order: Int
  public var variant: UniPCVariant
  public var corrector: Bool
  public var lowerOrderFinal: Bool

  public init(order: Int = 2, variant: UniPCVariant = .bh2, corrector: Bool = true, lowerOrderFinal: Bool = true) {
    self.order = order
    self.variant = variant
    self.corrector = corrector
    self.lowerOrderFinal = lowerOrderFinal
  }

  public struct Workspace {
    /// The predictions, newest first: m_i and the earlier ones, each with its level.
    var history: MultistepHistory
    var levels: [NoiseLevel]
    /// x at the previous step's start (after its correction), which UniC steps from again.
    let lastSample: MutableBatchView
    /// The order the previous step's predictor used.
    var lastOrder = 0
    let owner = BufferOwner()

    init(rows: Int, dimension: Int, order: Int) {
      history = MultistepHistory(rows: rows, dimension: dimension, depth: order)
      levels = Array(repeating: NoiseLevel(t: 0, a: 1, s: 0), count: order + 1)
      lastSample = owner.buffer(rows: rows, dimension: dimension)
    }
  }

  public func makeWorkspace(rows: Int, dimension: Int) -> Workspace {
    Workspace(rows: rows, dimension: dimension, order: order)
  }

  public func step<P: DiffusionProcess, S: ScoreModel, B: BrownianSource>(
    _ x: MutableBatchView, over step: GridStep, model: SamplerModel<P, S>, noise: SamplerNoise<B>,
    workspace w: inout Workspace
  ) {
    let level = model.level(step.t), next = model.level(step.next)
    model.denoised(x.view, t: step.t, into: w.history.denoised)
    // levels[0] is the current point's, levels[1 + j] that of history.previousDenoised[j].
    w.levels[0] = level
    if corrector, w.history.count > 0 {
      update(x, from: w.lastSample.view, order: w.lastOrder, start: 1, target: level, workspace: w,
             modelAtTarget: w.history.denoised.view)
    }
    var stepOrder = lowerOrderFinal ? min(order, step.count - step.index) : order
    stepOrder = min(stepOrder, w.history.count + 1)
    if next.s == 0 { stepOrder = 1 }
    copy(x.view, into: w.lastSample)
    update(x, from: x.view, order: stepOrder, start: 0, target: next, workspace: w, modelAtTarget: nil)
    w.lastOrder = stepOrder
    w.history.push(stepSize: next.lambda - level.lambda)
    for k in stride(from: w.levels.count - 1, to: 0, by: -1) { w.levels[k] = w.levels[k - 1] }
  }

  /// UniP-p (`modelAtTarget` nil) or UniC-p from the point `start` of the history (0: the
  /// current prediction, 1: the previous one) to `target`, writing into `x`.
  private func update(_ x: MutableBatchView, from source: BatchView, order p: Int, start: Int, target: NoiseLevel,
                      workspace w: Workspace, modelAtTarget: BatchView?) {
    let origin = w.levels[start]
    let prediction = { (k: Int) -> UnsafeMutableBufferPointer<Double> in
      k == 0 ? w.history.denoised.values : w.history.previousDenoised[k - 1].values
    }
    let m0 = prediction(start)
    let xv = x.values, sv = source.values
    if target.s == 0 {
      for e in 0..<xv.count { xv[e] = target.a * m0[e] }
      return
    }
    let h = target.lambda - origin.lambda, hh = -h
    let hPhi1 = expm1(hh)
    let bh = variant == .bh1 ? hh : expm1(hh)
    // r_j for the p − 1 earlier points, then r_p = 1.
    var ratios = SIMD4<Double>(repeating: 1)
    for j in 1..<max(p, 1) { ratios[j - 1] = (w.levels[start + j].lambda - origin.lambda) / h }
    // b_k = g_k k!/B(h), k = 1 … p.
    var b = SIMD4<Double>(repeating: 0)
    var g = hPhi1 / hh - 1, factorial = 1.0
    for k in 1...p {
      b[k - 1] = g * factorial / bh
      factorial *= Double(k + 1)
      g = g / hh - 1 / factorial
    }
    // ρ: the weights of D_1 … D_{p−1} (and of m_t − m₀ for the corrector, last).
    var rho = SIMD4<Double>(repeating: 0)
    if modelAtTarget == nil {
      if p == 2 { rho[0] = 0.5 } else if p == 3 { rho = solveVandermonde(ratios, b, size: 2) }
    } else {
      // The nodes are r_1 … r_{p−1} and r_p = 1, the target, which `ratios` holds already.
      if p == 1 { rho[0] = 0.5 } else { rho = solveVandermonde(ratios, b, size: p) }
    }
    let ratio = target.s / origin.s, startWeight = -target.a * hPhi1, scale = -target.a * bh
    // Σ_j ρ_j (m_{−j} − m₀)/r_j as weights per earlier prediction.
    var weights = SIMD4<Double>(repeating: 0)
    for j in 1..<max(p, 1) { weights[j - 1] = scale * rho[j - 1] / ratios[j - 1] }
    let older1 = p > 1 ? prediction(start + 1) : m0, older2 = p > 2 ? prediction(start + 2) : m0
    let targetWeight = modelAtTarget == nil ? 0 : scale * rho[p - 1]
    let mt = modelAtTarget?.values ?? UnsafeBufferPointer(m0)
    for e in 0..<xv.count {
      let base = m0[e]
      xv[e] = ratio * sv[e] + startWeight * base + weights[0] * (older1[e] - base) + weights[1] * (older2[e] - base)
        + targetWeight * (mt[e] - base)
    }
  }
}

/// Solves R ρ = b for the `size` × `size` matrix R_{kj} = nodes_j^k (k, j from 0), by Gaussian
/// elimination with partial pivoting (numpy's solve is LU with partial pivoting: the same up to
/// rounding); entries of the result beyond `size` are 0. On the stack: no allocation.
func solveVandermonde(_ nodes: SIMD4<Double>, _ b: SIMD4<Double>, size n: Int) -> SIMD4<Double> {
  withUnsafeTemporaryAllocation(of: SIMD4<Double>.self, capacity: 4) { rows in
    var rhs = b
    for k in 0..<n {
      rows[k] = SIMD4(repeating: 0)
      for j in 0..<n { rows[k][j] = k == 0 ? 1 : rows[k - 1][j] * nodes[j] }
    }
    for column in 0..<n {
      var pivot = column
      for k in column..<n where abs(rows[k][column]) > abs(rows[pivot][column]) { pivot = k }
      rows.swapAt(column, pivot)
      (rhs[column], rhs[pivot]) = (rhs[pivot], rhs[column])
      for k in (column + 1)..<max(n, column + 1) {
        let factor = rows[k][column] / rows[column][column]
        rows[k] -= factor * rows[column]
        rhs[k] -= factor * rhs[column]
      }
    }
    var solution = SIMD4<Double>(repeating: 0)
    for k in stride(from: n - 1, through: 0, by: -1) {
      var value = rhs[k]
      for j in (k + 1)..<max(n, k + 1) { value -= rows[k][j] * solution[j] }
      solution[k] = value / rows[k][k]
    }
    return solution
  }
}
