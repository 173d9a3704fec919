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

/// Work done by a solve. Evaluation counts are calls on the whole batch (for fixed steps each
/// chunk of rows makes the same calls and one chunk's count is reported; for an adaptive solve
/// of each sample on its own, the counts are summed over samples).
public struct SolveStatistics: Sendable, Hashable, Codable {
  /// Accepted steps.
  public var steps: Int
  /// Steps tried and rejected by an adaptive controller.
  public var rejectedSteps: Int
  /// Drift (or ODE vector-field) evaluations, Jacobian differences included.
  public var driftEvaluations: Int
  public var diffusionEvaluations: Int

  public init(steps: Int = 0, rejectedSteps: Int = 0, driftEvaluations: Int = 0,
              diffusionEvaluations: Int = 0) {
    self.steps = steps
    self.rejectedSteps = rejectedSteps
    self.driftEvaluations = driftEvaluations
    self.diffusionEvaluations = diffusionEvaluations
  }

  /// Componentwise sum, for totals over samples solved separately.
  public static func + (a: SolveStatistics, b: SolveStatistics) -> SolveStatistics {
    SolveStatistics(steps: a.steps + b.steps, rejectedSteps: a.rejectedSteps + b.rejectedSteps,
                    driftEvaluations: a.driftEvaluations + b.driftEvaluations,
                    diffusionEvaluations: a.diffusionEvaluations + b.diffusionEvaluations)
  }
}

/// The result of a solve: saved times and states, and statistics.
public struct Solution: Sendable {
  public init(times: [Double], states: [StateBatch], statistics: SolveStatistics) {
    self.times = times
    self.states = states
    self.statistics = statistics
  }

  /// The saved times, in the order visited.
  public let times: [Double]
  /// The saved states, one batch per time.
  public let states: [StateBatch]
  public let statistics: SolveStatistics

  /// The last saved state (the state at t1 unless `SaveAt.times` stopped short of it).
  public var final: StateBatch { states[states.count - 1] }
}
