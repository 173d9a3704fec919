import Foundation

/// The Dormand–Prince 5(4) method with a PI step-size controller, for ODEs.
///
/// Order 5 (the 4th-order embedded solution estimates the error), six vector-field evaluations
/// per step (the seventh is the next step's first: first same as last). The error test is
/// ``AdaptiveSettings``': by default GSL's standard control (the maximum over elements), so it can
/// be compared step for step with GSL's steppers, or the RMS norm of Hairer's DOPRI5, SciPy and
/// diffrax; the step size then follows the PI rule of Hairer & Wanner:
///
/// ```
/// k₁ = F(y, t), …, k₇ = F(y + h Σ a₇ⱼ kⱼ, t + h)
/// y₊ = y + h Σ bⱼ kⱼ,   err = h Σ (bⱼ − b̂ⱼ) kⱼ,   r = ‖err_i / D_i‖ (maximum or RMS)
/// accept when r ≤ 1;  h_new = h · min(5, max(0.1, 0.9 · r^(−0.17) · r_prev^(0.04)))
/// ```
///
/// Reference: J. R. Dormand & P. J. Prince, "A family of embedded Runge–Kutta formulae",
/// J. Comput. Appl. Math. 6 (1980) 19–26; Hairer, Nørsett & Wanner, *Solving ODEs I*, §II.4–5
/// and the DOPRI5 code (controller constants).
public struct DormandPrince5: AdaptiveODESolver {
  public var settings: AdaptiveSettings

  public init(settings: AdaptiveSettings = AdaptiveSettings()) { self.settings = settings }

  public static let descriptor = SolverDescriptor(
    name: "dopri5", summary: "Dormand–Prince 5(4), PI controller (adaptive)", kind: .ode, calculus: nil,
    orders: [.init(noise: nil, strong: 5, weak: 5)], driftEvaluationsPerStep: 6, isAdaptive: true)

  public var descriptor: SolverDescriptor { Self.descriptor }

  // Butcher tableau (Dormand & Prince 1980, Table 2).
  static let c: [Double] = [0, 1.0 / 5, 3.0 / 10, 4.0 / 5, 8.0 / 9, 1, 1]
  static let a: [[Double]] = [
    [],
    [1.0 / 5],
    [3.0 / 40, 9.0 / 40],
    [44.0 / 45, -56.0 / 15, 32.0 / 9],
    [19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729],
    [9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656],
    [35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84],
  ]
  /// b − b̂: the 5th-order weights (row 7 of a) minus the embedded 4th-order ones.
  static let errorWeights: [Double] = [
    71.0 / 57600, 0, -71.0 / 16695, 71.0 / 1920, -17253.0 / 339200, 22.0 / 525, -1.0 / 40,
  ]

  /// Fixed-step mode for order studies: `steps` equal steps of the 5th-order formula, no control.
  public func integrateFixed<F: VectorField>(_ problem: ODEProblem<F>, steps: Int) throws -> StateBatch {
    guard steps >= 1 else { throw SolveError.invalidConfiguration("steps must be at least 1, got \(steps)") }
    let h = (problem.t1 - problem.t0) / Double(steps)
    var y = problem.initial.values
    let d = problem.initial.dimension
    let stages = SolverWorkspace(buffers: 8, rows: problem.initial.count, dimension: d)
    try y.withUnsafeMutableBufferPointer { yp in
      for step in 0..<steps {
        let t = problem.t0 + Double(step) * h
        try stagesAndUpdate(problem.field, y: yp, t: t, h: h, dimension: d, k: stages.buffers, computeFirst: true)
        _ = yp.update(fromContentsOf: stages[7])
      }
    }
    return StateBatch(count: problem.initial.count, dimension: d, values: y)
  }

  public func integrate<F: VectorField>(_ problem: ODEProblem<F>, through times: [Double]) throws
    -> (states: [StateBatch], statistics: SolveStatistics) {
    let d = problem.initial.dimension, rows = problem.initial.count
    let direction: Double = problem.t1 > problem.t0 ? 1 : -1
    var statistics = SolveStatistics()
    var y = problem.initial.values
    // k[0…6] stages, k[7] the new state, k[8] the error estimate; k[9], k[10] scratch for the
    // initial step size.
    let storage = SolverWorkspace(buffers: 11, rows: rows, dimension: d)
    var k = storage.buffers
    var t = problem.t0
    var saved: [StateBatch] = []

    try y.withUnsafeMutableBufferPointer { yp in
      try evaluateChecked(problem.field, UnsafeBufferPointer(yp), t: t, dimension: d, into: k[0])
      statistics.driftEvaluations += 1
      var h: Double
      if let initial = settings.initialStep {
        h = min(initial, settings.maxStep)
      } else {
        h = initialStepSize(field: problem.field, y0: UnsafeBufferPointer(yp), f0: UnsafeBufferPointer(k[0]), t0: t,
                            direction: direction, order: 5, settings: settings, dimension: d,
                            scratch: k[9], scratch2: k[10])
        statistics.driftEvaluations += 1
      }
      var previousRatio = 1e-4
      var rejectedLast = false
      var attempts = 0

      for target in times {
        while (target - t) * direction > 0 {
          guard attempts < settings.maxSteps else {
            throw SolveError.maxStepsExceeded(maxSteps: settings.maxSteps, time: t)
          }
          attempts += 1
          let remaining = abs(target - t)
          // Land exactly on the target rather than leave a sliver behind.
          let lands = h >= remaining * (1 - 1e-12)
          let size = lands ? remaining : h
          let signed = direction * size
          try stagesAndUpdate(problem.field, y: yp, t: t, h: signed, dimension: d, k: k, computeFirst: false)
          statistics.driftEvaluations += 6
          Self.combine(k, into: 8, start: nil, weights: Self.errorWeights, scale: 1, then: signed)
          let ratio = settings.errorRatio(error: UnsafeBufferPointer(k[8]), state: UnsafeBufferPointer(k[7]),
                                          derivative: UnsafeBufferPointer(k[6]), h: signed)
          if ratio <= 1 {
            t = lands ? target : t + signed
            _ = yp.update(fromContentsOf: k[7])
            k.swapAt(0, 6)  // first same as last
            statistics.steps += 1
            var factor = pow(ratio, 0.17) / pow(previousRatio, 0.04) / 0.9
            factor = max(0.2, min(10, factor))
            var next = size / factor
            if rejectedLast { next = min(next, size) }
            previousRatio = max(ratio, 1e-4)
            rejectedLast = false
            // A step cut short to land on a save time says nothing against the previous h.
            h = lands ? max(h, next) : next
          } else {
            statistics.rejectedSteps += 1
            rejectedLast = true
            h = size / min(5, pow(ratio, 0.17) / 0.9)
          }
          h = min(h, settings.maxStep)
          if h < settings.minStep || h <= 16 * Double.ulpOfOne * abs(t) || h == 0 {
            throw SolveError.stepSizeUnderflow(stepSize: h, time: t)
          }
        }
        saved.append(StateBatch(count: rows, dimension: d, values: Array(yp)))
      }
    }
    return (saved, statistics)
  }

  /// One Dormand–Prince step from (t, y) of size h: the stages go to k[0…6] (k[0] is computed
  /// only when `computeFirst`; otherwise it already holds F(y, t)), the 5th-order solution y₊
  /// to k[7], so that k[6] = F(y₊, t + h).
  private func stagesAndUpdate<F: VectorField>(
    _ field: F, y: UnsafeMutableBufferPointer<Double>, t: Double, h: Double, dimension: Int,
    k: [UnsafeMutableBufferPointer<Double>], computeFirst: Bool
  ) throws {
    if computeFirst { try evaluateChecked(field, UnsafeBufferPointer(y), t: t, dimension: dimension, into: k[0]) }
    for s in 1..<7 {
      // Stage input in k[7]; at s = 6 the weights are b, so it is y₊ and stays there.
      Self.combine(k, into: 7, start: UnsafeBufferPointer(y), weights: Self.a[s], scale: h)
      try evaluateChecked(field, UnsafeBufferPointer(k[7]), t: t + Self.c[s] * h, dimension: dimension, into: k[s])
    }
  }
}

extension DormandPrince5 {
  /// k[target] = (start + Σ_j (scale · weights[j]) k[j]) · then, over the non-zero weights, the
  /// terms added one at a time in j order (start nil: zero), so the bits are those of one pass
  /// per term. Up to four terms go through memory in one pass (a stage reads each k[j] once
  /// instead of once per term: W2 19.8 → … ns per sample-evaluation).
  static func combine(_ k: [UnsafeMutableBufferPointer<Double>], into target: Int,
                      start: UnsafeBufferPointer<Double>?, weights: [Double], scale: Double, then factor: Double = 1) {
    let out = k[target].baseAddress!, n = k[target].count
    var terms: [(Double, UnsafePointer<Double>)] = []
    for (j, weight) in weights.enumerated() where weight != 0 {
      terms.append((scale * weight, UnsafePointer(k[j].baseAddress!)))
    }
    var source = start?.baseAddress
    var first = 0
    repeat {
      let count = min(4, terms.count - first)
      let chunk = terms[first..<(first + count)]
      addTerms(chunk, to: source, into: out, count: n)
      source = UnsafePointer(out)
      first += count
    } while first < terms.count
    if factor != 1 { for i in 0..<n { out[i] = factor * out[i] } }
  }

  /// out[i] = base[i] + c₀p₀[i] + … for up to four terms, added in order (base nil: zero).
  @inline(__always)
  private static func addTerms(_ terms: ArraySlice<(Double, UnsafePointer<Double>)>, to base: UnsafePointer<Double>?,
                               into out: UnsafeMutablePointer<Double>, count n: Int) {
    let t = Array(terms)
    func value(_ i: Int) -> Double { base?[i] ?? 0 }
    switch t.count {
    case 0:
      for i in 0..<n { out[i] = value(i) }
    case 1:
      let (c0, p0) = t[0]
      for i in 0..<n { out[i] = value(i) + c0 * p0[i] }
    case 2:
      let (c0, p0) = t[0], (c1, p1) = t[1]
      for i in 0..<n { out[i] = value(i) + c0 * p0[i] + c1 * p1[i] }
    case 3:
      let (c0, p0) = t[0], (c1, p1) = t[1], (c2, p2) = t[2]
      for i in 0..<n { out[i] = value(i) + c0 * p0[i] + c1 * p1[i] + c2 * p2[i] }
    default:
      let (c0, p0) = t[0], (c1, p1) = t[1], (c2, p2) = t[2], (c3, p3) = t[3]
      for i in 0..<n { out[i] = value(i) + c0 * p0[i] + c1 * p1[i] + c2 * p2[i] + c3 * p3[i] }
    }
  }
}

/// Evaluates the field and throws if any output is NaN or infinite.
func evaluateChecked<F: VectorField>(_ field: F, _ y: UnsafeBufferPointer<Double>, t: Double, dimension: Int,
                                     into out: UnsafeMutableBufferPointer<Double>) throws {
  field.evaluate(y, t: t, dimension: dimension, into: out)
  if let row = firstNonFiniteRow(UnsafeBufferPointer(out), dimension: dimension) {
    throw SolveError.nonFiniteVectorField(row: row, time: t)
  }
}
