/// The times a fixed-step solve visits, from t0 to t1 in either direction.
public enum TimeGrid: Sendable, Hashable {
  /// `steps` equal steps: t_i = t0 + i (t1 − t0)/steps, the last exactly t1.
  case uniform(steps: Int)
  /// The given times, strictly monotone from t0 to t1 (both included).
  case times([Double])

  /// The grid's times for an interval, validated.
  /// - Throws: `SolveError.invalidConfiguration` naming the bad value.
  public func times(from t0: Double, to t1: Double) throws -> [Double] {
    guard t0.isFinite, t1.isFinite, t0 != t1 else {
      throw SolveError.invalidConfiguration("the interval [\(t0), \(t1)] must have finite, distinct ends")
    }
    switch self {
    case .uniform(let steps):
      guard steps >= 1 else {
        throw SolveError.invalidConfiguration("uniform grid needs at least 1 step, got \(steps)")
      }
      return uniformTimes(from: t0, to: t1, steps: steps)
    case .times(let times):
      guard times.count >= 2, times.first == t0, times.last == t1 else {
        throw SolveError.invalidConfiguration(
          "a time grid must start at t0 = \(t0) and end at t1 = \(t1); got \(times.count) times from \(times.first.map(String.init(describing:)) ?? "nothing") to \(times.last.map(String.init(describing:)) ?? "nothing")")
      }
      let direction: Double = t1 > t0 ? 1 : -1
      for i in 1..<times.count where !((times[i] - times[i - 1]) * direction > 0) {
        throw SolveError.invalidConfiguration(
          "time grid must be strictly \(direction > 0 ? "increasing" : "decreasing"); times[\(i - 1)] = \(times[i - 1]), times[\(i)] = \(times[i])")
      }
      return times
    }
  }
}

/// `steps + 1` uniformly spaced times from t0 to t1, the last exactly t1.
public func uniformTimes(from t0: Double, to t1: Double, steps: Int) -> [Double] {
  (0...steps).map { i in i == steps ? t1 : t0 + (t1 - t0) * Double(i) / Double(steps) }
}
