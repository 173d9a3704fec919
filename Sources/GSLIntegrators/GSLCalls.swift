import CGSL
import SDEKit

/// Every call into GSL's ODE library lives in this file.
enum GSL {
  /// GSL's default error handler calls abort(); errors must come back as return codes.
  static let errorHandlerOff: Void = { _ = gsl_set_error_handler_off() }()

  static func stepType(_ type: GSLStepType) -> UnsafePointer<gsl_odeiv2_step_type> {
    switch type {
    case .rk2: sdekit_gsl_step_rk2()
    case .rk4: sdekit_gsl_step_rk4()
    case .rkf45: sdekit_gsl_step_rkf45()
    case .rkck: sdekit_gsl_step_rkck()
    case .rk8pd: sdekit_gsl_step_rk8pd()
    case .rk1imp: sdekit_gsl_step_rk1imp()
    case .rk2imp: sdekit_gsl_step_rk2imp()
    case .rk4imp: sdekit_gsl_step_rk4imp()
    case .bsimp: sdekit_gsl_step_bsimp()
    case .msadams: sdekit_gsl_step_msadams()
    case .msbdf: sdekit_gsl_step_msbdf()
    }
  }

  /// `gsl_odeiv2_step_order` of a freshly allocated step of this type.
  static func reportedOrder(of type: GSLStepType) -> Int {
    _ = errorHandlerOff
    guard let step = gsl_odeiv2_step_alloc(stepType(type), 1) else { return 0 }
    defer { gsl_odeiv2_step_free(step) }
    return Int(gsl_odeiv2_step_order(step))
  }

  /// GSL's text for a return code.
  static func name(of status: Int32) -> String { String(cString: gsl_strerror(status)) }

  static func code(of status: Int32) -> GSLError.Code {
    switch status {
    case Int32(GSL_EMAXITER): .maxIterations
    case Int32(GSL_ENOPROG): .noProgress
    case Int32(GSL_EBADFUNC): .badFunction
    default: .other(status)
    }
  }
}

/// The vector field and Jacobian behind one GSL system, reached from the C callbacks through
/// the system's `params` pointer.
final class GSLSystemContext {
  let field: any VectorField
  let jacobianField: (any JacobianField)?
  let dimension: Int
  let size: Int
  var evaluations = 0
  /// Set when the field returned NaN or ±inf; the callback then returns GSL_EBADFUNC.
  var nonFinite: (row: Int, time: Double)?
  // Scratch for the finite-difference Jacobian, allocated once.
  private var base: [Double]
  private var shifted: [Double]
  private var perturbed: [Double]
  private var blocks: [Double]

  init(field: any VectorField, dimension: Int, size: Int, useSuppliedJacobian: Bool) {
    self.field = field
    self.jacobianField = useSuppliedJacobian ? field as? any JacobianField : nil
    self.dimension = dimension
    self.size = size
    base = Array(repeating: 0, count: size)
    shifted = base
    perturbed = base
    blocks = Array(repeating: 0, count: size * dimension)
  }

  func evaluate(_ t: Double, _ y: UnsafePointer<Double>, _ dydt: UnsafeMutablePointer<Double>) -> Int32 {
    evaluations += 1
    let output = UnsafeMutableBufferPointer(start: dydt, count: size)
    field.evaluate(BatchView(UnsafeBufferPointer(start: y, count: size), dimension: dimension), t: t, into: MutableBatchView(output, dimension: dimension))
    for i in 0..<size where !output[i].isFinite {
      nonFinite = (i / dimension, t)
      return Int32(GSL_EBADFUNC)
    }
    return Int32(GSL_SUCCESS)
  }

  /// The dense size × size Jacobian GSL asks for. Samples are independent, so it is block
  /// diagonal: from the field when it supplies blocks, otherwise by forward differences that
  /// perturb component j of every sample at once (dimension + 2 batched evaluations in all).
  func jacobian(_ t: Double, _ y: UnsafePointer<Double>, _ dfdy: UnsafeMutablePointer<Double>,
                _ dfdt: UnsafeMutablePointer<Double>) -> Int32 {
    let d = dimension, n = size, rows = n / d
    let state = UnsafeBufferPointer(start: y, count: n)
    let timeDerivative = UnsafeMutableBufferPointer(start: dfdt, count: n)
    if let jacobianField {
      blocks.withUnsafeMutableBufferPointer { b in
        jacobianField.jacobian(BatchView(state, dimension: d), t: t, blocks: b,
                               timeDerivative: MutableBatchView(timeDerivative, dimension: d))
      }
    } else {
      let root = Double.ulpOfOne.squareRoot()
      base.withUnsafeMutableBufferPointer { f in field.evaluate(BatchView(state, dimension: d), t: t, into: MutableBatchView(f, dimension: d)) }
      let dt = root * max(abs(t), 1)
      shifted.withUnsafeMutableBufferPointer { g in field.evaluate(BatchView(state, dimension: d), t: t + dt, into: MutableBatchView(g, dimension: d)) }
      for i in 0..<n { timeDerivative[i] = (shifted[i] - base[i]) / dt }
      evaluations += 2
      for j in 0..<d {
        for i in 0..<n { perturbed[i] = y[i] }
        for r in 0..<rows {
          let e = r * d + j
          let step = root * max(abs(y[e]), 1)
          // Store the step actually representable, so the difference quotient is exact in h.
          perturbed[e] = y[e] + step
        }
        perturbed.withUnsafeBufferPointer { p in
          shifted.withUnsafeMutableBufferPointer { g in field.evaluate(BatchView(p, dimension: d), t: t, into: MutableBatchView(g, dimension: d)) }
        }
        evaluations += 1
        for r in 0..<rows {
          let h = perturbed[r * d + j] - y[r * d + j]
          for i in 0..<d { blocks[(r * d + i) * d + j] = (shifted[r * d + i] - base[r * d + i]) / h }
        }
      }
    }
    for i in 0..<(n * n) { dfdy[i] = 0 }
    for r in 0..<rows {
      for i in 0..<d {
        for j in 0..<d { dfdy[(r * d + i) * n + r * d + j] = blocks[(r * d + i) * d + j] }
      }
    }
    for i in 0..<n where !timeDerivative[i].isFinite || !blocks[i * d].isFinite {
      nonFinite = (i / d, t)
      return Int32(GSL_EBADFUNC)
    }
    return Int32(GSL_SUCCESS)
  }
}

private func gslFunction(_ t: Double, _ y: UnsafePointer<Double>?, _ dydt: UnsafeMutablePointer<Double>?,
                         _ params: UnsafeMutableRawPointer?) -> Int32 {
  Unmanaged<GSLSystemContext>.fromOpaque(params!)._withUnsafeGuaranteedRef { $0.evaluate(t, y!, dydt!) }
}

private func gslJacobian(_ t: Double, _ y: UnsafePointer<Double>?, _ dfdy: UnsafeMutablePointer<Double>?,
                         _ dfdt: UnsafeMutablePointer<Double>?, _ params: UnsafeMutableRawPointer?) -> Int32 {
  Unmanaged<GSLSystemContext>.fromOpaque(params!)._withUnsafeGuaranteedRef { $0.jacobian(t, y!, dfdy!, dfdt!) }
}

/// A GSL driver with its system, freed together when the owner goes away. The system struct
/// stays at one address for the driver's whole life, as GSL requires.
struct GSLDriver: ~Copyable {
  let system: UnsafeMutablePointer<gsl_odeiv2_system>
  let driver: UnsafeMutablePointer<gsl_odeiv2_driver>
  let context: GSLSystemContext

  /// - Returns: nil if GSL could not allocate the driver.
  init?(type: GSLStepType, context: GSLSystemContext, initialStep: Double, settings: AdaptiveSettings) {
    _ = GSL.errorHandlerOff
    system = .allocate(capacity: 1)
    system.initialize(to: gsl_odeiv2_system(
      function: gslFunction, jacobian: gslJacobian, dimension: context.size,
      params: Unmanaged.passUnretained(context).toOpaque()))
    guard let driver = gsl_odeiv2_driver_alloc_standard_new(
      system, GSL.stepType(type), initialStep, settings.absoluteTolerance, settings.relativeTolerance,
      settings.stateScale, settings.derivativeScale)
    else {
      system.deallocate()
      return nil
    }
    if settings.norm == .rms, sdekit_gsl_driver_use_rms_control(
      driver, settings.absoluteTolerance, settings.relativeTolerance, settings.stateScale,
      settings.derivativeScale) != GSL_SUCCESS {
      gsl_odeiv2_driver_free(driver)
      system.deallocate()
      return nil
    }
    self.driver = driver
    self.context = context
    gsl_odeiv2_driver_set_hmin(driver, settings.minStep)
    if settings.maxStep.isFinite { gsl_odeiv2_driver_set_hmax(driver, settings.maxStep) }
    gsl_odeiv2_driver_set_nmax(driver, UInt(settings.maxSteps))
  }

  deinit {
    gsl_odeiv2_driver_free(driver)
    system.deallocate()
  }

  /// `gsl_odeiv2_driver_apply`: advances (t, y) to t1; returns GSL's status.
  func apply(t: inout Double, to t1: Double, y: UnsafeMutablePointer<Double>) -> Int32 {
    withExtendedLifetime(context) { gsl_odeiv2_driver_apply(driver, &t, t1, y) }
  }

  /// `gsl_odeiv2_driver_apply_fixed_step`: `steps` steps of size h, no error control.
  func applyFixed(t: inout Double, h: Double, steps: Int, y: UnsafeMutablePointer<Double>) -> Int32 {
    withExtendedLifetime(context) { gsl_odeiv2_driver_apply_fixed_step(driver, &t, h, UInt(steps), y) }
  }

  /// Accepted and rejected steps so far, from the evolve object.
  var steps: (accepted: Int, rejected: Int) {
    let evolve = driver.pointee.e.pointee
    return (Int(evolve.count) - Int(evolve.failed_steps), Int(evolve.failed_steps))
  }
}
