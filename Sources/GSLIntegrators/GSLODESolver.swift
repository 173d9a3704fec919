import SDEKit

/// One of GSL's `gsl_odeiv2` steppers as an SDEKit adaptive ODE solver.
///
/// Settings are ``AdaptiveSettings``: rtol, atol and the scaled control's a_y and a_dydt (GSL's
/// standard control), the initial step (chosen automatically when nil), hmin, hmax and the
/// maximum number of steps. Steppers that need a Jacobian get the field's own blocks when it
/// conforms to `JacobianField` (and `jacobian` is `.supplied`), otherwise a forward-difference
/// Jacobian that uses the independence of samples: block diagonal, dimension + 2 batched
/// evaluations.
///
/// In `.batch` mode the whole batch is one GSL system of size rows × dimension with one step
/// size; GSL's implicit steppers then factor a dense matrix of that size, so they are refused
/// above 2,000 unknowns — use `.perSample`.
///
/// The corresponding GSL functions are `gsl_odeiv2_driver_alloc_standard_new`,
/// `gsl_odeiv2_driver_apply` and `gsl_odeiv2_driver_apply_fixed_step`.
public struct GSLODESolver: AdaptiveODESolver {
  /// Where the Jacobian of an implicit stepper comes from.
  public enum JacobianSource: String, Sendable, Codable {
    /// The field's own `JacobianField.jacobian` when it has one, else finite differences.
    case supplied
    /// Always finite differences.
    case finiteDifferences
  }

  public var stepper: GSLStepType
  public var settings: AdaptiveSettings
  public var jacobian: JacobianSource

  /// The largest system a Jacobian-using stepper accepts in batch mode (dense size² matrices).
  public static let maxDenseSize = 2_000

  public init(_ stepper: GSLStepType, settings: AdaptiveSettings = AdaptiveSettings(),
              jacobian: JacobianSource = .supplied) {
    self.stepper = stepper
    self.settings = settings
    self.jacobian = jacobian
  }

  public var descriptor: SolverDescriptor { stepper.descriptor }

  public func integrate<F: VectorField>(_ problem: ODEProblem<F>, through times: [Double]) throws
    -> (states: [StateBatch], statistics: SolveStatistics) {
    try settings.validate()
    let context = try makeContext(problem)
    var y = problem.initial.values
    let direction: Double = problem.t1 > problem.t0 ? 1 : -1
    let initialStep = try settings.initialStep ?? automaticInitialStep(problem, context: context, y: y, direction: direction)
    guard let driver = GSLDriver(type: stepper, context: context, initialStep: direction * initialStep,
                                 settings: settings)
    else { throw SolveError.invalidConfiguration("GSL could not allocate a \(stepper.name) driver of size \(context.size)") }
    var t = problem.t0
    var states: [StateBatch] = []
    for target in times {
      let status = y.withUnsafeMutableBufferPointer { driver.apply(t: &t, to: target, y: $0.baseAddress!) }
      // GSL can stop a rounding error short of t1 and then fail on the remaining step of ~1e-18
      // (seen with rk4imp's Newton iteration); that far from t1 the state is the state at t1.
      let roundingShort = status != 0 && context.nonFinite == nil
        && abs(target - t) <= 1e-12 * max(abs(target), abs(problem.t1 - problem.t0))
      if !roundingShort { try check(status, context: context, time: t) }
      states.append(StateBatch(count: problem.initial.count, dimension: problem.initial.dimension, values: y))
    }
    let steps = driver.steps
    return (states, SolveStatistics(steps: steps.accepted, rejectedSteps: steps.rejected,
                                    driftEvaluations: context.evaluations))
  }

  /// Fixed-step mode for order studies: `steps` equal steps, no error control.
  public func integrateFixed<F: VectorField>(_ problem: ODEProblem<F>, steps: Int) throws -> StateBatch {
    guard steps >= 1 else { throw SolveError.invalidConfiguration("steps must be at least 1, got \(steps)") }
    let context = try makeContext(problem)
    let h = (problem.t1 - problem.t0) / Double(steps)
    // GSL's fixed-step apply still consults the control and fails when it would shrink the
    // step; a tolerance no error can exceed switches that off.
    let uncontrolled = AdaptiveSettings(relativeTolerance: 0, absoluteTolerance: 1e300, maxSteps: steps + 1)
    guard let driver = GSLDriver(type: stepper, context: context, initialStep: h, settings: uncontrolled)
    else { throw SolveError.invalidConfiguration("GSL could not allocate a \(stepper.name) driver of size \(context.size)") }
    var y = problem.initial.values
    var t = problem.t0
    let status = y.withUnsafeMutableBufferPointer { driver.applyFixed(t: &t, h: h, steps: steps, y: $0.baseAddress!) }
    try check(status, context: context, time: t)
    return StateBatch(count: problem.initial.count, dimension: problem.initial.dimension, values: y)
  }

  private func makeContext<F: VectorField>(_ problem: ODEProblem<F>) throws -> GSLSystemContext {
    let size = problem.initial.values.count
    guard size > 0 else { throw SolveError.invalidConfiguration("the initial batch is empty") }
    if stepper.needsJacobian && size > Self.maxDenseSize {
      throw SolveError.invalidConfiguration(
        "\(stepper.name) needs a dense Jacobian of the whole system; \(problem.initial.count) samples × \(problem.initial.dimension) = \(size) unknowns exceed \(Self.maxDenseSize); solve each sample on its own (per-sample mode)")
    }
    return GSLSystemContext(field: problem.field, dimension: problem.initial.dimension, size: size,
                            useSuppliedJacobian: jacobian == .supplied)
  }

  private func automaticInitialStep<F: VectorField>(_ problem: ODEProblem<F>, context: GSLSystemContext,
                                                    y: [Double], direction: Double) throws -> Double {
    let n = y.count, d = problem.initial.dimension
    var f0 = [Double](repeating: 0, count: n), s1 = f0, s2 = f0
    y.withUnsafeBufferPointer { y0 in
      f0.withUnsafeMutableBufferPointer { problem.field.evaluate(BatchView(y0, dimension: d), t: problem.t0, into: MutableBatchView($0, dimension: d)) }
    }
    context.evaluations += 2
    let h = y.withUnsafeBufferPointer { y0 in
      f0.withUnsafeBufferPointer { f in
        s1.withUnsafeMutableBufferPointer { b1 in
          s2.withUnsafeMutableBufferPointer { b2 in
            initialStepSize(field: problem.field, y0: y0, f0: f, t0: problem.t0, direction: direction,
                            order: stepper.order, settings: settings, dimension: d, scratch: b1, scratch2: b2)
          }
        }
      }
    }
    guard h.isFinite, h > 0 else {
      throw SolveError.nonFiniteVectorField(row: 0, time: problem.t0)
    }
    return max(h, settings.minStep)
  }

  private func check(_ status: Int32, context: GSLSystemContext, time: Double) throws {
    guard status != 0 else { return }
    if let bad = context.nonFinite { throw SolveError.nonFiniteVectorField(row: bad.row, time: bad.time) }
    throw GSLError(code: GSL.code(of: status), name: GSL.name(of: status), time: time, stepper: stepper.name)
  }
}
