/// Why a solve could not run or could not finish. Each message says what to change.
public enum SolveError: Error, Equatable, CustomStringConvertible {
  /// The solver cannot solve this problem; `reason` names both sides.
  case incompatible(solver: String, reason: String)
  /// A setting is out of range; the message names the value and what is allowed.
  case invalidConfiguration(String)
  /// The state became NaN or infinite in sample `row` during step `step` (0-based), which
  /// ended at time `time`.
  case nonFinite(row: Int, step: Int, time: Double)
  /// The vector field returned NaN or ±inf for sample `row` at `time`.
  case nonFiniteVectorField(row: Int, time: Double)
  /// An adaptive solver's step size fell below its minimum (or below what t can resolve) at `time`.
  case stepSizeUnderflow(stepSize: Double, time: Double)
  /// An adaptive solver took `maxSteps` steps and stopped at `time` before reaching the end.
  case maxStepsExceeded(maxSteps: Int, time: Double)

  public var description: String {
    switch self {
    case .incompatible(let solver, let reason):
      return "\(solver): \(reason)"
    case .invalidConfiguration(let message):
      return message
    case .nonFinite(let row, let step, let time):
      return "the state became non-finite (NaN or ±inf) in sample row \(row) at step \(step) (t = \(time)); try smaller steps or check the drift and diffusion"
    case .nonFiniteVectorField(let row, let time):
      return "the vector field returned NaN or ±inf for sample row \(row) at t = \(time)"
    case .stepSizeUnderflow(let stepSize, let time):
      return "the step size fell to \(stepSize) at t = \(time), below the minimum; the problem may be stiff (try an implicit GSL stepper) or the tolerances too tight"
    case .maxStepsExceeded(let maxSteps, let time):
      return "stopped after the maximum of \(maxSteps) steps at t = \(time); raise maxSteps or loosen the tolerances"
    }
  }
}
