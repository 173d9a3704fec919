import Foundation

/// Solves an SDE with step sizes chosen from an estimate of each step's local error, on a
/// Brownian tree.
///
/// Each step from t to t + h takes its ΔW (and ΔZ) from `noise` over exactly [t, t + h]. A
/// rejected step is retried over a shorter interval of the same path, so rejections bias
/// nothing: the solution is the pathwise solution on one Brownian path, which the tree fixes
/// in advance (Gaines & Lyons 1997; what Rackauckas & Nie's rejection sampling with memory
/// achieves with a stack of increments).
///
/// The error estimate is the solver's own (`SolverDescriptor.errorEstimate`: `sra1` and `sriw1`
/// carry an embedded one, any other solver is step-doubled) or `settings.errorEstimate`; the
/// step size follows `settings.controller` (`AdaptiveSDESettings.defaultController`). Steps are
/// never shorter than dt_min (by default the tree's leaf size), where a step is accepted
/// whatever its error, and land exactly on t1 and on each save time.
///
/// - Parameters:
///   - noise: a tree over the problem's interval [t0, t1] (same direction); sample r's path is
///     row `firstSample + r` of it.
///   - mode: `.perSample` (default): each sample its own steps, in parallel chunks; a sample's
///     result is bit-identical for any batch and thread count. `.batch`: one step for the whole
///     batch, accepted when every sample's ratio passes (the largest decides), on one thread.
///   - saveAt: `.final` or `.times(…)`.
///   - errorWeight: w(t), multiplying each step's error ratios at the step's end time t: how much
///     an error made there matters at t1 (the diffusion samplers weigh by the reverse process's
///     ∂x_ε/∂x_t, which is small near T). nil: 1.
/// - Returns: the saved states; statistics summed over samples in per-sample mode (accepted and
///   rejected steps, drift and diffusion evaluations on one row each), per batch in batch mode.
/// - Throws: `SolveError.incompatible` when the solver cannot solve the problem,
///   `.invalidConfiguration` for bad settings, a tree that does not cover the interval or bad
///   save times, `.maxStepsExceeded`, `.nonFinite` when a step of the smallest size is not finite
///   (per-sample: the lowest such row).
public func solve<F: Drift, G: Diffusion, S: SDESolver>(
  _ problem: SDEProblem<F, G>, solver: S, settings: AdaptiveSDESettings, noise: BrownianTree,
  mode: SystemMode = .perSample, saveAt: SaveAt = .final, firstSample: Int = 0, threads: Int? = nil,
  errorWeight: (@Sendable (Double) -> Double)? = nil
) throws -> Solution {
  try checkCompatibility(solver: solver.descriptor, noise: problem.diffusion.noise,
                         providesDerivative: problem.diffusion.providesDerivative, calculus: problem.calculus)
  let estimate = settings.errorEstimate(for: solver.descriptor)
  let noiseOrder = solver.descriptor.order(for: problem.diffusion.noise)!.strong
  switch estimate {
  case .embedded:
    guard let tableau = solver as? any StochasticRungeKuttaMethod else {
      throw SolveError.incompatible(
        solver: solver.descriptor.name,
        reason: "has no embedded error estimate (sra1 and sriw1 have one); use step doubling")
    }
    func run<M: StochasticRungeKuttaMethod>(_ method: M) throws -> Solution {
      try solveAdaptively(problem, settings: settings, noise: noise, mode: mode, saveAt: saveAt,
                          firstSample: firstSample, threads: threads, order: embeddedErrorOrder,
                          errorWeight: errorWeight) {
        EmbeddedRungeKutta(method: method, drift: $0, diffusion: $1, rows: $2, dimension: $3, width: $4, settings: $5)
      }
    }
    return try run(tableau)
  case .stepDoubling:
    return try solveAdaptively(problem, settings: settings, noise: noise, mode: mode, saveAt: saveAt,
                               firstSample: firstSample, threads: threads, order: noiseOrder + 0.5,
                               errorWeight: errorWeight) {
      StepDoubling(solver: solver, drift: $0, diffusion: $1, rows: $2, dimension: $3, width: $4, settings: $5)
    }
  }
}

/// Solves an SDE with `GottaGoFast`'s adaptive Euler–Maruyama / improved-Euler pair on a
/// Brownian tree; the rest as `solve(_:solver:settings:noise:…)`. `settings.controller`, when
/// given, replaces the method's own (θ h E^{−r}).
public func solve<F: Drift, G: Diffusion>(
  _ problem: SDEProblem<F, G>, method: GottaGoFast, settings: AdaptiveSDESettings, noise: BrownianTree,
  mode: SystemMode = .perSample, saveAt: SaveAt = .final, firstSample: Int = 0, threads: Int? = nil
) throws -> Solution {
  guard problem.diffusion.noise == .additive else {
    throw SolveError.incompatible(
      solver: "gotta-go-fast", reason: "supports additive noise; the problem's diffusion has \(problem.diffusion.noise) noise")
  }
  var settings = settings
  settings.controller = settings.controller ?? method.controller
  // The paper's first step, 0.01 of the interval (T = 1).
  settings.initialStep = settings.initialStep ?? 0.01 * abs(problem.t1 - problem.t0)
  return try solveAdaptively(problem, settings: settings, noise: noise, mode: mode, saveAt: saveAt,
                             firstSample: firstSample, threads: threads, order: 1 / method.exponent) {
    GottaGoFastStepper(method: method, drift: $0, diffusion: $1, rows: $2, dimension: $3, settings: $5)
  }
}

// MARK: - The loop

/// A method bound to its problem, for a fixed set of rows (one sample, or a batch): attempts a
/// step and judges it. Made once per chunk; an attempt allocates nothing.
protocol AdaptiveSDEStepper: SendableMetatype {
  /// Attempts a step from `x` at t to `next`, its noise from `walker`: writes the step's result
  /// to `candidate` and each row's error ratio (≤ 1 passes) to `ratios`.
  mutating func attempt(_ x: BatchView, t: Double, next: Double, walker: BrownianTree.Walker,
                        candidate: MutableBatchView, ratios: UnsafeMutableBufferPointer<Double>)
  /// The last attempt was accepted (methods that remember accepted steps update here).
  mutating func accepted(_ candidate: BatchView)
  /// A new solve starts from `x` (per-sample mode: the next sample).
  mutating func start(_ x: BatchView)
}

extension AdaptiveSDEStepper {
  mutating func accepted(_ candidate: BatchView) {}
  mutating func start(_ x: BatchView) {}
}

/// For each row, the `norm` over its elements of error_i / (atol + rtol·max(|x_i|, |x̃_i|)).
func scaledErrorRatios(error: UnsafeBufferPointer<Double>, state: UnsafeBufferPointer<Double>,
                       candidate: UnsafeBufferPointer<Double>, dimension: Int, settings: AdaptiveSDESettings,
                       into ratios: UnsafeMutableBufferPointer<Double>) {
  let atol = settings.absoluteTolerance, rtol = settings.relativeTolerance
  errorRatios(dimension: dimension, norm: settings.norm, into: ratios) { e in
    abs(error[e]) / (atol + rtol * max(abs(state[e]), abs(candidate[e])))
  }
}

/// For each row, the `norm` over its elements e of `scaled(e)`, the element's scaled error.
@inline(__always)
func errorRatios(dimension: Int, norm: ErrorNorm, into ratios: UnsafeMutableBufferPointer<Double>,
                 _ scaled: (Int) -> Double) {
  for row in 0..<ratios.count {
    var largest = 0.0, sumOfSquares = 0.0
    for e in (row * dimension)..<((row + 1) * dimension) {
      let value = scaled(e)
      largest = max(largest, value)
      sumOfSquares += value * value
    }
    // A NaN anywhere makes the ratio NaN, which never passes.
    if sumOfSquares.isNaN { largest = .nan }
    ratios[row] = norm == .maximum ? largest : (sumOfSquares / Double(dimension)).squareRoot()
  }
}

/// Buffers of one system (rows × dimension each) freed together.
final class AdaptiveBuffers {
  let buffers: [UnsafeMutableBufferPointer<Double>]
  init(count: Int, elements: Int) { buffers = (0..<count).map { _ in VectorMath.allocateAligned(zeros: elements) } }
  deinit { for buffer in buffers { buffer.deallocate() } }
  subscript(index: Int) -> UnsafeMutableBufferPointer<Double> { buffers[index] }
}

/// Counts of one system's solve.
struct AdaptiveCounts {
  var steps = 0
  var rejected = 0
}

/// Everything an adaptive solve needs beyond the problem, resolved once.
struct AdaptivePlan: Sendable {
  let settings: AdaptiveSDESettings
  let controller: PIController
  let minStep: Double
  let initialStep: Double
  let t0: Double
  let direction: Double
  /// The save times, each reached exactly.
  let times: [Double]
  /// Multiplies each attempt's ratios, at the attempt's end time.
  let errorWeight: (@Sendable (Double) -> Double)?
}

/// Walks one system (`x`: its rows) from plan.t0 through plan.times, saving the state at each
/// time through `save(slot, x)`.
func integrateAdaptively<Stepper: AdaptiveSDEStepper>(
  _ x: MutableBatchView, stepper: inout Stepper, walker: BrownianTree.Walker, plan: AdaptivePlan,
  candidate: MutableBatchView, ratios: UnsafeMutableBufferPointer<Double>, save: (Int, BatchView) -> Void
) throws -> AdaptiveCounts {
  var counts = AdaptiveCounts()
  var t = plan.t0, h = plan.initialStep
  var memory = PIController.Memory()
  // Neutral for the first step: Hairer's 1e-4 (for DOPRI5's β = 0.04) would shrink the second
  // step by 1e-4^β, 12× at this controller's β = 0.27.
  memory.previousRatio = 1
  let settings = plan.settings, controller = plan.controller, direction = plan.direction
  var attempts = 0
  stepper.start(x.view)
  for (slot, target) in plan.times.enumerated() {
    while (target - t) * direction > 0 {
      guard attempts < settings.maxSteps else { throw SolveError.maxStepsExceeded(maxSteps: settings.maxSteps, time: t) }
      attempts += 1
      let remaining = abs(target - t)
      // Land exactly on the target rather than leave a sliver behind.
      let lands = h >= remaining * (1 - 1e-12)
      let size = lands ? remaining : h
      let next = lands ? target : t + direction * size
      stepper.attempt(x.view, t: t, next: next, walker: walker, candidate: candidate, ratios: ratios)
      if let weight = plan.errorWeight {
        let w = weight(next)
        for r in ratios.indices { ratios[r] *= w }
      }
      var ratio = 0.0
      for r in ratios.indices {
        // NaN (a non-finite step) counts as the largest ratio.
        ratio = ratios[r].isNaN ? .infinity : max(ratio, ratios[r])
      }
      let smallest = size <= plan.minStep * (1 + 1e-12)
      if ratio <= settings.rejectionRatio || (smallest && ratio.isFinite) {
        for e in 0..<x.count { x[e] = candidate[e] }
        stepper.accepted(candidate.view)
        t = next
        counts.steps += 1
        let proposed = controller.accepted(size: size, ratio: ratio, memory: &memory)
        // A step cut short to land on the target says nothing against the previous h.
        h = lands ? max(h, proposed) : proposed
      } else {
        if smallest {
          // Not finite even at the smallest step.
          let row = (0..<ratios.count).first { !ratios[$0].isFinite } ?? 0
          throw SolveError.nonFinite(row: row, step: counts.steps, time: next)
        }
        counts.rejected += 1
        h = ratio.isFinite ? controller.rejected(size: size, ratio: ratio, memory: &memory)
                           : size / controller.maxRejectionShrink
      }
      h = max(plan.minStep, min(h, settings.maxStep))
    }
    save(slot, x.view)
  }
  return counts
}

/// What a stepper factory receives: counting drift and diffusion, rows, dimension, noise width
/// and the settings.
typealias StepperFactory<F: Drift, G: Diffusion, Stepper> =
  @Sendable (CountingDrift<F>, CountingDiffusion<G>, Int, Int, Int, AdaptiveSDESettings) -> Stepper

/// The shared body of the adaptive solves: validation, then per-sample chunks or one batch.
func solveAdaptively<F: Drift, G: Diffusion, Stepper: AdaptiveSDEStepper>(
  _ problem: SDEProblem<F, G>, settings: AdaptiveSDESettings, noise tree: BrownianTree, mode: SystemMode,
  saveAt: SaveAt, firstSample: Int, threads: Int?, order: Double, errorWeight: (@Sendable (Double) -> Double)? = nil,
  makeStepper: @escaping StepperFactory<F, G, Stepper>
) throws -> Solution {
  try settings.validate()
  let (t0, t1) = (problem.t0, problem.t1)
  guard t0.isFinite, t1.isFinite, t0 != t1 else {
    throw SolveError.invalidConfiguration("the interval [\(t0), \(t1)] must have finite, distinct ends")
  }
  // Also refuses a tree that runs the other way.
  try tree.validate(times: [t0, t1])
  guard firstSample >= 0 else { throw SolveError.invalidConfiguration("firstSample must be at least 0, got \(firstSample)") }
  let threadCount = try resolvedThreadCount(threads)
  let rows = problem.initial.count, dimension = problem.initial.dimension, width = problem.noiseWidth
  if let row = firstNonFiniteRow(problem.initial.values, dimension: dimension) {
    throw SolveError.invalidConfiguration("the initial state of sample row \(row) is not finite")
  }
  let times = try adaptiveSaveTimes(saveAt, t0: t0, t1: t1)
  let span = abs(t1 - t0)
  let minStep = settings.minStep ?? tree.leafSize
  // validate() compares dt_max with an explicit dt_min only; below the default one the clamp
  // max(dt_min, min(h, dt_max)) would step past dt_max.
  guard settings.maxStep >= minStep else {
    throw SolveError.invalidConfiguration(
      "dt_max = \(settings.maxStep) is below the Brownian tree's leaf size \(minStep) (dt_min by default), the shortest step the tree resolves; use a deeper tree or a larger dt_max")
  }
  let tolerance = max(settings.relativeTolerance, settings.absoluteTolerance)
  let initial = settings.initialStep ?? span * min(0.01, pow(tolerance, 1 / order))
  let plan = AdaptivePlan(settings: settings, controller: settings.controller ?? AdaptiveSDESettings.defaultController(order: order),
                          minStep: minStep, initialStep: max(minStep, min(initial, settings.maxStep)),
                          t0: t0, direction: t1 > t0 ? 1 : -1, times: times, errorWeight: errorWeight)
  var saved = [Double](repeating: 0, count: times.count * rows * dimension)
  var statistics = SolveStatistics()

  switch mode {
  case .batch:
    let counter = EvaluationCounter()
    var stepper = makeStepper(CountingDrift(base: problem.drift, counter: counter),
                              CountingDiffusion(base: problem.diffusion, counter: counter), rows, dimension, width, settings)
    let walker = BrownianTree.Walker(tree: tree, capacity: max(1, rows), width: width)
    walker.reset(rows: firstSample..<(firstSample + rows))
    let buffers = AdaptiveBuffers(count: 3, elements: rows * dimension)
    _ = buffers[0].update(fromContentsOf: problem.initial.values)
    let ratios = UnsafeMutableBufferPointer(rebasing: buffers[2][..<rows])
    let counts = try saved.withUnsafeMutableBufferPointer { out in
      try integrateAdaptively(MutableBatchView(buffers[0], dimension: dimension), stepper: &stepper, walker: walker,
                              plan: plan, candidate: MutableBatchView(buffers[1], dimension: dimension), ratios: ratios) { slot, x in
        for e in 0..<x.count { out[slot * rows * dimension + e] = x[e] }
      }
    }
    statistics = SolveStatistics(steps: counts.steps, rejectedSteps: counts.rejected,
                                 driftEvaluations: counter.drift, diffusionEvaluations: counter.diffusion)
  case .perSample:
    let chunks = rowChunks(rows, threads: threadCount)
    let results = PerChunk<(SolveStatistics, (row: Int, error: SolveError)?)>(chunks.count, initial: (SolveStatistics(), nil))
    saved.withUnsafeMutableBufferPointer { out in
      let output = SharedPointer(buffer: out)
      forEachRowChunk(rows, threads: threadCount) { c, chunk in
        let counter = EvaluationCounter()
        var stepper = makeStepper(CountingDrift(base: problem.drift, counter: counter),
                                  CountingDiffusion(base: problem.diffusion, counter: counter), 1, dimension, width, settings)
        let walker = BrownianTree.Walker(tree: tree, capacity: 1, width: width)
        // The state, the candidate and the ratio of one sample.
        let buffers = AdaptiveBuffers(count: 3, elements: dimension)
        let x = MutableBatchView(buffers[0], dimension: dimension)
        let candidate = MutableBatchView(buffers[1], dimension: dimension)
        let ratios = UnsafeMutableBufferPointer(rebasing: buffers[2][..<1])
        var total = SolveStatistics(), failure: (row: Int, error: SolveError)?
        for row in chunk {
          for j in 0..<dimension { x[j] = problem.initial[row, j] }
          walker.reset(rows: (firstSample + row)..<(firstSample + row + 1))
          do {
            let counts = try integrateAdaptively(x, stepper: &stepper, walker: walker, plan: plan, candidate: candidate,
                                                 ratios: ratios) { slot, state in
              for j in 0..<dimension { output.buffer[(slot * rows + row) * dimension + j] = state[j] }
            }
            total.steps += counts.steps
            total.rejectedSteps += counts.rejected
          } catch let error as SolveError {
            if case .nonFinite(_, let step, let time) = error {
              failure = (row, .nonFinite(row: row, step: step, time: time))
            } else {
              failure = (row, error)
            }
            break
          } catch {
            preconditionFailure("adaptive SDE steps throw only SolveError")
          }
        }
        total.driftEvaluations = counter.drift
        total.diffusionEvaluations = counter.diffusion
        results[c] = (total, failure)
      }
    }
    // The lowest failing row, whatever the split, so the error does not depend on threads.
    if let failure = results.values.compactMap(\.1).min(by: { $0.row < $1.row }) { throw failure.error }
    statistics = results.values.map(\.0).reduce(SolveStatistics(), +)
  }
  let states = times.indices.map { slot in
    StateBatch(count: rows, dimension: dimension,
               values: Array(saved[(slot * rows * dimension)..<((slot + 1) * rows * dimension)]))
  }
  return Solution(times: times, states: states, statistics: statistics)
}
