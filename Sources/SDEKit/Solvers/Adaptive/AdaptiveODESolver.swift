import Dispatch
import Foundation

/// How a step's error vector is reduced to one number against the tolerances, with
/// D_i = atol + rtol·(a_y |y_i| + a_dydt |h| |y'_i|).
public enum ErrorNorm: String, Sendable, Hashable, Codable, CaseIterable {
  /// max_i |err_i| / D_i, GSL's standard control: every element meets its tolerance.
  case maximum = "max"
  /// √(mean_i (err_i / D_i)²), the norm of Hairer's DOPRI5, SciPy's solve_ivp and diffrax: the
  /// tolerance holds on average over the elements, so a batch of many samples solved as one
  /// system takes fewer steps than under the maximum.
  case rms
}

/// Tolerances and limits of an adaptive ODE solve.
///
/// The error test: with D_i = atol + rtol·(a_y |y_i| + a_dydt |h| |y'_i|), a step passes when
/// the `norm` of err_i / D_i is at most 1 (by default the maximum, GSL's standard control).
public struct AdaptiveSettings: Sendable, Hashable, Codable {
  public var relativeTolerance: Double
  public var absoluteTolerance: Double
  /// a_y: weight of |y| in the error scale.
  public var stateScale: Double
  /// a_dydt: weight of |h·y'| in the error scale.
  public var derivativeScale: Double
  /// First step size (magnitude); nil chooses one from the problem (Hairer's algorithm).
  public var initialStep: Double?
  /// Smallest step size allowed (magnitude); below it the solve throws.
  public var minStep: Double
  /// Largest step size allowed (magnitude).
  public var maxStep: Double
  /// Most steps (accepted and rejected) before the solve throws.
  public var maxSteps: Int
  /// How the scaled error vector is reduced to one number.
  public var norm: ErrorNorm

  public init(relativeTolerance: Double = 1e-6, absoluteTolerance: Double = 1e-6,
              stateScale: Double = 1, derivativeScale: Double = 0, initialStep: Double? = nil,
              minStep: Double = 0, maxStep: Double = .infinity, maxSteps: Int = 1_000_000,
              norm: ErrorNorm = .maximum) {
    self.relativeTolerance = relativeTolerance
    self.absoluteTolerance = absoluteTolerance
    self.stateScale = stateScale
    self.derivativeScale = derivativeScale
    self.initialStep = initialStep
    self.minStep = minStep
    self.maxStep = maxStep
    self.maxSteps = maxSteps
    self.norm = norm
  }

  /// Tolerance `tolerance` for both the relative and absolute parts.
  public init(tolerance: Double) {
    self.init(relativeTolerance: tolerance, absoluteTolerance: tolerance)
  }

  /// Throws naming the first setting out of range.
  public func validate() throws {
    func bad(_ message: String) -> SolveError { .invalidConfiguration(message) }
    guard relativeTolerance >= 0, absoluteTolerance >= 0, relativeTolerance.isFinite, absoluteTolerance.isFinite,
          relativeTolerance > 0 || absoluteTolerance > 0 else {
      throw bad("tolerances must be finite, non-negative and not both zero; got rtol = \(relativeTolerance), atol = \(absoluteTolerance)")
    }
    guard stateScale >= 0, derivativeScale >= 0 else {
      throw bad("a_y and a_dydt must be non-negative; got \(stateScale) and \(derivativeScale)")
    }
    if let initialStep, !(initialStep > 0 && initialStep.isFinite) {
      throw bad("the initial step must be positive and finite, got \(initialStep)")
    }
    guard minStep >= 0, maxStep > 0, minStep <= maxStep else {
      throw bad("need 0 ≤ hmin ≤ hmax and hmax > 0; got hmin = \(minStep), hmax = \(maxStep)")
    }
    guard maxSteps >= 1 else { throw bad("maxSteps must be at least 1, got \(maxSteps)") }
  }

  /// The `norm` of err_i / D_i: a step passes when it is at most 1.
  @inlinable
  public func errorRatio(error: UnsafeBufferPointer<Double>, state: UnsafeBufferPointer<Double>,
                         derivative: UnsafeBufferPointer<Double>, h: Double) -> Double {
    var sums = ErrorSums()
    accumulate(error: error, state: state, derivative: derivative, h: h, into: &sums)
    return errorRatio(sums)
  }

  /// Adds the elements of `error` to `sums`: a batch measured in consecutive parts gets the
  /// bits of one pass over it.
  @inlinable
  public func accumulate(error: UnsafeBufferPointer<Double>, state: UnsafeBufferPointer<Double>,
                         derivative: UnsafeBufferPointer<Double>, h: Double, into sums: inout ErrorSums) {
    var largest = sums.largest, sumOfSquares = sums.sumOfSquares
    let scaledH = derivativeScale * abs(h)
    for i in 0..<error.count {
      let d = absoluteTolerance + relativeTolerance * (stateScale * abs(state[i]) + scaledH * abs(derivative[i]))
      let scaled = abs(error[i]) / d
      largest = max(largest, scaled)
      sumOfSquares += scaled * scaled
    }
    sums = ErrorSums(largest: largest, sumOfSquares: sumOfSquares, count: sums.count + error.count)
  }

  /// The `norm` of the scaled errors summed in `sums`.
  @inlinable
  public func errorRatio(_ sums: ErrorSums) -> Double {
    switch norm {
    case .maximum: return sums.largest
    case .rms: return sums.count == 0 ? 0 : (sums.sumOfSquares / Double(sums.count)).squareRoot()
    }
  }
}

/// The largest scaled error |err_i|/D_i, the sum of their squares (in element order) and how
/// many there were.
public struct ErrorSums: Sendable, Hashable {
  public var largest = 0.0
  public var sumOfSquares = 0.0
  public var count = 0

  @inlinable
  public init(largest: Double = 0, sumOfSquares: Double = 0, count: Int = 0) {
    self.largest = largest
    self.sumOfSquares = sumOfSquares
    self.count = count
  }
}

/// An ODE solver that chooses its own steps to meet tolerances.
public protocol AdaptiveODESolver: Sendable {
  var descriptor: SolverDescriptor { get }
  var settings: AdaptiveSettings { get }

  /// Integrates the whole batch as one system from `problem.t0` through each of `times` in turn
  /// (monotone in the direction of t1) and returns the state at each.
  func integrate<F: VectorField>(_ problem: ODEProblem<F>, through times: [Double]) throws
    -> (states: [StateBatch], statistics: SolveStatistics)

  /// Fixed-step mode for order studies: `steps` equal steps from t0 to t1, no error control.
  func integrateFixed<F: VectorField>(_ problem: ODEProblem<F>, steps: Int) throws -> StateBatch
}

/// How an adaptive solver treats a batch.
public enum SystemMode: String, Sendable, Codable, CaseIterable {
  /// The whole batch is one system with one shared step size (as score_sde does with scipy).
  case batch
  /// Each sample is its own system with its own steps; samples run in parallel, and the result
  /// does not depend on the thread count.
  case perSample = "per-sample"
}

/// Solves an ODE with an adaptive solver, the batch as one system or each sample on its own.
///
/// - Parameters:
///   - saveAt: `.final` or `.times(…)`; adaptive solves hit each requested time exactly.
///   - threads: for `.perSample`, the number of chunks of samples run in parallel.
/// - Throws: `SolveError` for invalid settings or save times, step-size underflow, too many
///   steps, or a non-finite vector field; solvers may throw their own errors (GSL codes).
public func solve<F: VectorField, S: AdaptiveODESolver>(
  _ problem: ODEProblem<F>, solver: S, mode: SystemMode = .batch, saveAt: SaveAt = .final,
  threads: Int? = nil
) throws -> Solution {
  try solver.settings.validate()
  guard problem.t0.isFinite, problem.t1.isFinite, problem.t0 != problem.t1 else {
    throw SolveError.invalidConfiguration("the interval [\(problem.t0), \(problem.t1)] must have finite, distinct ends")
  }
  let times = try adaptiveSaveTimes(saveAt, t0: problem.t0, t1: problem.t1)
  switch mode {
  case .batch:
    let (states, statistics) = try solver.integrate(problem, through: times)
    return Solution(times: times, states: states, statistics: statistics)
  case .perSample:
    return try solveEachSample(problem, solver: solver, times: times, threads: threads)
  }
}

/// The times an adaptive ODE or SDE solve saves at: t1, or the given ones (strictly monotone
/// towards t1, after t0, not beyond t1).
func adaptiveSaveTimes(_ saveAt: SaveAt, t0: Double, t1: Double) throws -> [Double] {
  switch saveAt {
  case .final:
    return [t1]
  case .everyStep:
    throw SolveError.invalidConfiguration(
      "SaveAt.everyStep needs a fixed time grid; with an adaptive solve give the times to save")
  case .times(let times):
    let direction: Double = t1 > t0 ? 1 : -1
    guard !times.isEmpty else { throw SolveError.invalidConfiguration("SaveAt.times needs at least one time") }
    for (i, t) in times.enumerated() {
      guard t.isFinite, (t - t0) * direction > 0, (t1 - t) * direction >= 0 else {
        throw SolveError.invalidConfiguration("save time \(t) must lie after t0 = \(t0) and not beyond t1 = \(t1)")
      }
      if i > 0, !((t - times[i - 1]) * direction > 0) {
        throw SolveError.invalidConfiguration("save times must be strictly monotone toward t1; \(times[i - 1]) is followed by \(t)")
      }
    }
    return times
  }
}

private func solveEachSample<F: VectorField, S: AdaptiveODESolver>(
  _ problem: ODEProblem<F>, solver: S, times: [Double], threads: Int?
) throws -> Solution {
  let rows = problem.initial.count, d = problem.initial.dimension
  let threadCount = try resolvedThreadCount(threads)
  var values = [Double](repeating: 0, count: times.count * rows * d)
  let results = PerChunk<(SolveStatistics, (row: Int, error: any Error)?)>(
    rowChunks(rows, threads: threadCount).count, initial: (SolveStatistics(), nil))
  values.withUnsafeMutableBufferPointer { buffer in
    let outputs = SharedPointer(buffer: buffer)
    forEachRowChunk(rows, threads: threadCount) { c, chunk in
      var total = SolveStatistics()
      for row in chunk {
        var single = problem
        single.initial = problem.initial.rows(row..<(row + 1))
        do {
          let (states, statistics) = try solver.integrate(single, through: times)
          total = total + statistics
          for (slot, state) in states.enumerated() {
            for j in 0..<d { outputs.buffer[(slot * rows + row) * d + j] = state.values[j] }
          }
        } catch {
          results[c] = (total, (row, error))
          return
        }
      }
      results[c] = (total, nil)
    }
  }
  // The lowest failing row, whatever the split, so the error does not depend on threads.
  if let failure = results.values.compactMap(\.1).min(by: { $0.row < $1.row }) {
    if case SolveError.nonFiniteVectorField(_, let time) = failure.error {
      throw SolveError.nonFiniteVectorField(row: failure.row, time: time)
    }
    throw failure.error
  }
  let states = times.indices.map { slot in
    StateBatch(count: rows, dimension: d, values: Array(values[(slot * rows * d)..<((slot + 1) * rows * d)]))
  }
  return Solution(times: times, states: states, statistics: results.values.map(\.0).reduce(SolveStatistics(), +))
}

/// A first step size for an adaptive method of order `order`: Hairer, Nørsett & Wanner,
/// *Solving ODEs I*, §II.4 ("Starting step size"), with GSL's error scale. Costs one
/// evaluation beyond F(y₀), which the caller supplies.
public func initialStepSize<F: VectorField>(
  field: F, y0: UnsafeBufferPointer<Double>, f0: UnsafeBufferPointer<Double>, t0: Double,
  direction: Double, order: Int, settings: AdaptiveSettings, dimension: Int,
  scratch: UnsafeMutableBufferPointer<Double>, scratch2: UnsafeMutableBufferPointer<Double>
) -> Double {
  var d0 = 0.0, d1 = 0.0
  for i in 0..<y0.count {
    let scale = settings.absoluteTolerance + settings.relativeTolerance * abs(y0[i])
    d0 = max(d0, abs(y0[i]) / scale)
    d1 = max(d1, abs(f0[i]) / scale)
  }
  var h0 = (d0 < 1e-5 || d1 < 1e-5) ? 1e-6 : 0.01 * d0 / d1
  h0 = min(h0, settings.maxStep)
  for i in 0..<y0.count { scratch[i] = y0[i] + direction * h0 * f0[i] }
  field.evaluate(BatchView(UnsafeBufferPointer(scratch), dimension: dimension), t: t0 + direction * h0, into: MutableBatchView(scratch2, dimension: dimension))
  var d2 = 0.0
  for i in 0..<y0.count {
    let scale = settings.absoluteTolerance + settings.relativeTolerance * abs(y0[i])
    d2 = max(d2, abs(scratch2[i] - f0[i]) / scale / h0)
  }
  let h1 = max(d1, d2) <= 1e-15 ? max(1e-6, h0 * 1e-3) : pow(0.01 / max(d1, d2), 1 / Double(order + 1))
  return min(100 * h0, h1, settings.maxStep)
}
