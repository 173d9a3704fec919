import Foundation

/// A proportional–integral step-size controller (Gustafsson 1991; Hairer & Wanner, *Solving
/// ODEs II*, §IV.2, and the DOPRI5 code), as a value: its parameters here, what it remembers
/// between steps in `Memory`, owned by the solve.
///
/// After a step of size h whose error ratio r = ‖err/D‖ passed (r ≤ 1):
///
/// ```
/// q = r^α / r_prev^β / safety,   q clamped to [1/maxGrowth, maxShrink]
/// h_new = h / q          (and at most h right after a rejection)
/// ```
///
/// after a rejected step (r > 1): h_new = h / min(maxRejectionShrink, r^α / safety). r_prev is
/// the last accepted ratio, at least 1e-4. The defaults are Hairer's for DOPRI5 (α = 0.2 − 0.75β,
/// β = 0.04); an order-p method without the integral part takes α = 1/(p + 1), β = 0.
public struct PIController: Sendable, Hashable, Codable {
  /// α: the exponent of the current error ratio.
  public var alpha: Double
  /// β: the exponent of the previous accepted ratio (0: a plain proportional controller).
  public var beta: Double
  /// The safety factor.
  public var safety: Double
  /// The largest factor a step may grow by after an accepted step.
  public var maxGrowth: Double
  /// The largest factor a step may shrink by after an accepted step.
  public var maxShrink: Double
  /// The largest factor a step may shrink by after a rejection.
  public var maxRejectionShrink: Double

  public init(alpha: Double = 0.17, beta: Double = 0.04, safety: Double = 0.9, maxGrowth: Double = 5,
              maxShrink: Double = 10, maxRejectionShrink: Double = 5) {
    self.alpha = alpha
    self.beta = beta
    self.safety = safety
    self.maxGrowth = maxGrowth
    self.maxShrink = maxShrink
    self.maxRejectionShrink = maxRejectionShrink
  }

  /// What the controller remembers between steps.
  public struct Memory: Sendable, Hashable {
    /// The last accepted error ratio (at least 1e-4).
    public var previousRatio = 1e-4
    /// Whether the last step tried was rejected.
    public var rejectedLast = false

    public init() {}
  }

  /// The next step size after accepting a step of `size` with error ratio `ratio`.
  @inlinable
  public func accepted(size: Double, ratio: Double, memory: inout Memory) -> Double {
    var factor = pow(ratio, alpha) / pow(memory.previousRatio, beta) / safety
    factor = max(1 / maxGrowth, min(maxShrink, factor))
    var next = size / factor
    if memory.rejectedLast { next = min(next, size) }
    memory.previousRatio = max(ratio, 1e-4)
    memory.rejectedLast = false
    return next
  }

  /// The size to retry with after rejecting a step of `size` with error ratio `ratio` (> 1).
  @inlinable
  public func rejected(size: Double, ratio: Double, memory: inout Memory) -> Double {
    memory.rejectedLast = true
    return size / min(maxRejectionShrink, pow(ratio, alpha) / safety)
  }
}
