/// Why a solve could not run or could not finish. Each message says what to change.
public enum SolveError: Error, Equatable, CustomStringConvertible {
  /// The solver cannot solve this problem; `reason` names both sides.
  case incompatible(solver: String, reason: String)
  /// A setting is out of range; the message names the value and what is allowed.
  case invalidConfiguration(String)
  /// The state became NaN or infinite in sample `row` during step `step` (0-based), which
  /// ended at time `time`.
  case nonFinite(row: Int, step: Int, time: Double)

  public var description: String {
    switch self {
    case .incompatible(let solver, let reason):
      return "\(solver): \(reason)"
    case .invalidConfiguration(let message):
      return message
    case .nonFinite(let row, let step, let time):
      return "the state became non-finite (NaN or ±inf) in sample row \(row) at step \(step) (t = \(time)); try smaller steps or check the drift and diffusion"
    }
  }
}
