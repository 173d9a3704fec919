/// Which states a solve returns.
public enum SaveAt: Sendable, Hashable {
  /// Only the state at t1.
  case final
  /// The initial state and the state after every step.
  case everyStep
  /// The states at the given times, which must lie in [t0, t1]; the time grid is refined to
  /// pass through each of them.
  case times([Double])
}

/// Work done by a solve. Evaluation counts are calls on the whole batch (each chunk of rows
/// makes the same calls; one chunk's count is reported).
public struct SolveStatistics: Sendable, Hashable, Codable {
  public var steps: Int
  public var driftEvaluations: Int
  public var diffusionEvaluations: Int

  public init(steps: Int = 0, driftEvaluations: Int = 0, diffusionEvaluations: Int = 0) {
    self.steps = steps
    self.driftEvaluations = driftEvaluations
    self.diffusionEvaluations = diffusionEvaluations
  }
}

/// The result of a solve: saved times and states, and statistics.
public struct Solution: Sendable {
  /// The saved times, in the order visited.
  public let times: [Double]
  /// The saved states, one batch per time.
  public let states: [StateBatch]
  public let statistics: SolveStatistics

  /// The last saved state (the state at t1 unless `SaveAt.times` stopped short of it).
  public var final: StateBatch { states[states.count - 1] }
}
