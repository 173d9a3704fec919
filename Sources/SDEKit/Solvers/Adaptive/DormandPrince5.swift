import Foundation

/// The Dormand–Prince 5(4) method with a PI step-size controller, for ODEs.
///
/// Order 5 (the 4th-order embedded solution estimates the error), six vector-field evaluations
/// per step (the seventh is the next step's first: first same as last). The error test is
/// ``AdaptiveSettings``': by default GSL's standard control (the maximum over elements), so it can
/// be compared step for step with GSL's steppers, or the RMS norm of Hairer's DOPRI5, SciPy and
/// diffrax; the step size then follows the PI rule of Hairer & Wanner (`PIController`):
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
  /// The step-size controller (Hairer's DOPRI5 constants by default).
  public var controller: PIController

  public init(settings: AdaptiveSettings = AdaptiveSettings(), controller: PIController = PIController()) {
    self.settings = settings
    self.controller = controller
  }

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
        try stagesAndUpdate(problem.field, y: yp, t: t, h: h, dimension: d, k: stages.buffers,
                            elements: 0..<yp.count, computeFirst: true)
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
    // Each tile's elements: whole rows, `tileBytes` of state.
    let tiles = rowTiles(0..<rows, dimension: d, bytes: Self.tileBytes).map { ($0.lowerBound * d)..<($0.upperBound * d) }
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
      var memory = PIController.Memory()
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
          // Tile by tile through the whole step: every stage is row by row, and a tile's stages
          // stay in cache between them (the whole batch's eleven buffers do not).
          var sums = ErrorSums()
          for tile in tiles {
            try stagesAndUpdate(problem.field, y: yp, t: t, h: signed, dimension: d, k: k, elements: tile,
                                computeFirst: false)
            Self.combine(k, into: 8, elements: tile, start: nil, weights: Self.errorWeights, scale: 1, then: signed)
            settings.accumulate(error: UnsafeBufferPointer(rebasing: k[8][tile]),
                                state: UnsafeBufferPointer(rebasing: k[7][tile]),
                                derivative: UnsafeBufferPointer(rebasing: k[6][tile]), h: signed, into: &sums)
          }
          statistics.driftEvaluations += 6
          let ratio = settings.errorRatio(sums)
          if ratio <= 1 {
            t = lands ? target : t + signed
            _ = yp.update(fromContentsOf: k[7])
            k.swapAt(0, 6)  // first same as last
            statistics.steps += 1
            let next = controller.accepted(size: size, ratio: ratio, memory: &memory)
            // A step cut short to land on a save time says nothing against the previous h.
            h = lands ? max(h, next) : next
          } else {
            statistics.rejectedSteps += 1
            h = controller.rejected(size: size, ratio: ratio, memory: &memory)
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

  /// One Dormand–Prince step from (t, y) of size h for the state elements `elements` (whole
  /// rows): the stages go to k[0…6] (k[0] is computed only when `computeFirst`; otherwise it
  /// already holds F(y, t)), the 5th-order solution y₊ to k[7], so that k[6] = F(y₊, t + h).
  private func stagesAndUpdate<F: VectorField>(
    _ field: F, y: UnsafeMutableBufferPointer<Double>, t: Double, h: Double, dimension: Int,
    k: [UnsafeMutableBufferPointer<Double>], elements: Range<Int>, computeFirst: Bool
  ) throws {
    let firstRow = elements.lowerBound / dimension
    if computeFirst {
      try evaluateChecked(field, UnsafeBufferPointer(rebasing: y[elements]), t: t, dimension: dimension,
                          into: UnsafeMutableBufferPointer(rebasing: k[0][elements]), firstRow: firstRow)
    }
    for s in 1..<7 {
      // Stage input in k[7]; at s = 6 the weights are b, so it is y₊ and stays there.
      Self.combine(k, into: 7, elements: elements, start: UnsafePointer(y.baseAddress!), weights: Self.a[s], scale: h)
      try evaluateChecked(field, UnsafeBufferPointer(rebasing: k[7][elements]), t: t + Self.c[s] * h,
                          dimension: dimension, into: UnsafeMutableBufferPointer(rebasing: k[s][elements]),
                          firstRow: firstRow)
    }
  }

  /// Bytes of one buffer per tile of a step: eleven buffers of 32 KB stay in a core's cache
  /// (W2 with tiles of 8–64 KB measured alike, about 6 % faster than without).
  static let tileBytes = 32 * 1024
}

extension DormandPrince5 {
  /// k[target] = (start + Σ_j (scale · weights[j]) k[j]) · then on `elements`, over the non-zero
  /// weights in j order (start nil: zero), through `addStageTerms`.
  static func combine(_ k: [UnsafeMutableBufferPointer<Double>], into target: Int, elements: Range<Int>,
                      start: UnsafePointer<Double>?, weights: [Double], scale: Double, then factor: Double = 1) {
    let out = k[target].baseAddress!
    withUnsafeTemporaryAllocation(of: StageTerm.self, capacity: weights.count) { terms in
      var count = 0
      for (j, weight) in weights.enumerated() where weight != 0 {
        terms[count] = StageTerm(scale * weight, UnsafePointer(k[j].baseAddress!))
        count += 1
      }
      addStageTerms(UnsafeBufferPointer(rebasing: terms[..<count]), to: start, into: out, elements: elements)
    }
    if factor != 1 { for e in elements { out[e] = factor * out[e] } }
  }
}

/// Evaluates the field and throws if any output is NaN or infinite, naming the row as
/// `firstRow` plus its index in `y`.
func evaluateChecked<F: VectorField>(_ field: F, _ y: UnsafeBufferPointer<Double>, t: Double, dimension: Int,
                                     into out: UnsafeMutableBufferPointer<Double>, firstRow: Int = 0) throws {
  field.evaluate(BatchView(y, dimension: dimension), t: t, into: MutableBatchView(out, dimension: dimension))
  if let row = firstNonFiniteRow(UnsafeBufferPointer(out), dimension: dimension) {
    throw SolveError.nonFiniteVectorField(row: firstRow + row, time: t)
  }
}
