/// A GSL return code from an ODE solve, with GSL's own name for it and the time reached.
public struct GSLError: Error, Equatable, CustomStringConvertible {
  /// The codes an ODE solve can return, from `gsl_errno.h`.
  public enum Code: Equatable, Sendable {
    /// GSL_EMAXITER: the maximum number of steps was reached.
    case maxIterations
    /// GSL_ENOPROG: the step size fell below hmin, or no progress was possible.
    case noProgress
    /// GSL_EBADFUNC: the function signalled a problem.
    case badFunction
    /// Any other code, by number.
    case other(Int32)
  }

  public let code: Code
  /// GSL's text for the code (`gsl_strerror`).
  public let name: String
  /// The time the solve had reached.
  public let time: Double
  /// The step type that returned it.
  public let stepper: String

  public var description: String {
    let hint: String
    switch code {
    case .maxIterations: hint = "; raise maxSteps or loosen the tolerances"
    case .noProgress: hint = "; the step size fell below hmin (try a stiff stepper or smaller hmin)"
    case .badFunction, .other: hint = ""
    }
    return "\(stepper) stopped at t = \(time): GSL error '\(name)'\(hint)"
  }
}
