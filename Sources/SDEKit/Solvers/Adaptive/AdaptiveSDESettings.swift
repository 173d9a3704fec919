import Foundation

/// How an adaptive SDE solve estimates a step's local error.
public enum SDEErrorEstimate: String, Sendable, Hashable, Codable, CaseIterable {
  /// A lower-order solution from the method's own stages, at no extra evaluation: for a Rößler
  /// stochastic Runge–Kutta tableau, Euler's drift and the tableau's ΔW and I₍₁,₁₎ terms (strong
  /// order 1.0) against the full step (1.5). `sra1` and `sriw1` have it.
  case embedded
  /// One step of h against two of h/2 on the same Brownian path (three steps' evaluations);
  /// the two half steps are kept. Any SDE solver.
  case stepDoubling = "step-doubling"
}

/// Tolerances, limits and controller of an adaptive SDE solve.
///
/// A step from x to x̃ with error estimate e passes when the `norm` over a sample's elements of
/// e_i / (atol + rtol·max(|x_i|, |x̃_i|)) is at most 1 (StochasticDiffEq's scale; Rackauckas &
/// Nie 2017). In per-sample mode each sample has its own steps; in batch mode the largest
/// sample's ratio decides for the batch.
public struct AdaptiveSDESettings: Sendable, Hashable, Codable {
  public var relativeTolerance: Double
  public var absoluteTolerance: Double
  /// dt_min (magnitude): no step is shorter, except one that lands on t1 or a save time, and a
  /// step of this size is accepted whatever its error (as diffrax's `force_dtmin`). nil: the
  /// Brownian tree's leaf size, below which its path is not exact.
  public var minStep: Double?
  /// dt_max (magnitude).
  public var maxStep: Double
  /// The first step's size (magnitude); nil: |t1 − t0| · min(1/100, tolerance^{1/k}), k the
  /// error estimate's order in h.
  public var initialStep: Double?
  /// Most steps tried (accepted and rejected) per sample in per-sample mode, per batch in batch
  /// mode, before the solve throws.
  public var maxSteps: Int
  /// How a sample's scaled errors are reduced to one ratio: RMS (default) or maximum.
  public var norm: ErrorNorm
  /// The step-size controller; nil for the error estimate's default (`defaultController`).
  public var controller: PIController?
  /// How the error is estimated; nil for the solver's own (`SolverDescriptor.errorEstimate`).
  public var errorEstimate: SDEErrorEstimate?
  /// A step is rejected (and retried shorter on the same path) when its ratio exceeds this; the
  /// controller aims every step at ratio 1. The default, 10, rejects only the outliers of an
  /// estimate that is random: a grid that retreats from every increment that looks large
  /// follows the noise, and the errors of its accepted steps no longer average out. Measured
  /// with `AdaptiveSDETests`' problems at 1e-5 (2,000 paths, equal evaluations): rejecting at 1
  /// made GBM's strong error 2.4× and the double well's 1.1× larger than rejecting at 10.
  public var rejectionRatio: Double

  public init(relativeTolerance: Double = 1e-3, absoluteTolerance: Double = 1e-3, minStep: Double? = nil,
              maxStep: Double = .infinity, initialStep: Double? = nil, maxSteps: Int = 1_000_000,
              norm: ErrorNorm = .rms, controller: PIController? = nil, errorEstimate: SDEErrorEstimate? = nil,
              rejectionRatio: Double = 10) {
    self.relativeTolerance = relativeTolerance
    self.absoluteTolerance = absoluteTolerance
    self.minStep = minStep
    self.maxStep = maxStep
    self.initialStep = initialStep
    self.maxSteps = maxSteps
    self.norm = norm
    self.controller = controller
    self.errorEstimate = errorEstimate
    self.rejectionRatio = rejectionRatio
  }

  /// Tolerance `tolerance` for both the relative and absolute parts.
  public init(tolerance: Double) {
    self.init(relativeTolerance: tolerance, absoluteTolerance: tolerance)
  }

  /// The error estimate a solve of `solver` uses: `errorEstimate`, else the solver's own. Step
  /// doubling when both are nil: an SDE descriptor's estimate defaults to it, but it is a var a
  /// custom solver may have cleared, and any SDE solver can be step-doubled.
  public func errorEstimate(for solver: SolverDescriptor) -> SDEErrorEstimate {
    errorEstimate ?? solver.errorEstimate ?? .stepDoubling
  }

  /// Throws naming the first setting out of range.
  public func validate() throws {
    func bad(_ message: String) -> SolveError { .invalidConfiguration(message) }
    guard relativeTolerance >= 0, absoluteTolerance >= 0, relativeTolerance.isFinite, absoluteTolerance.isFinite,
          relativeTolerance > 0 || absoluteTolerance > 0 else {
      throw bad("tolerances must be finite, non-negative and not both zero; got rtol = \(relativeTolerance), atol = \(absoluteTolerance)")
    }
    if let minStep, !(minStep > 0 && minStep.isFinite) {
      throw bad("dt_min must be positive and finite, got \(minStep)")
    }
    guard maxStep > 0, maxStep >= (minStep ?? 0) else {
      throw bad("dt_max must be positive and at least dt_min; got dt_min = \(minStep.map { "\($0)" } ?? "the tree's leaf size"), dt_max = \(maxStep)")
    }
    if let initialStep, !(initialStep > 0 && initialStep.isFinite) {
      throw bad("the initial step must be positive and finite, got \(initialStep)")
    }
    guard maxSteps >= 1 else { throw bad("maxSteps must be at least 1, got \(maxSteps)") }
    guard rejectionRatio >= 1 else { throw bad("the rejection ratio must be at least 1, got \(rejectionRatio)") }
    if let controller {
      let c = controller
      guard c.alpha > 0, c.beta >= 0, c.safety > 0, c.safety <= 1, c.maxGrowth > 1, c.maxShrink > 1,
            c.maxRejectionShrink > 1 else {
        throw bad("the controller needs α > 0, β ≥ 0, 0 < safety ≤ 1 and limits above 1; got \(c)")
      }
    }
  }

  /// The controller for an error estimate of order k in h (error ≈ C|h|^k): Hairer's PI
  /// exponents α = 0.7/k, β = 0.4/k, safety 0.9, growth at most 1.2× per accepted step, shrink
  /// at most 10×. An SDE error estimate is random — at one h a sample's ratio spreads over orders
  /// of magnitude with its increments — and a step size that jumps with it follows the noise:
  /// the integral part and the small growth limit keep the steps smooth. Measured on GBM (SRIW1)
  /// and the double well (SRA1), 2,000 paths: strong error × NFE^{1.5} was 1.0–1.3× (GBM) and
  /// 1.4–2× (double well) smaller at 1e-4 and 1e-5 than with a proportional controller (α = 1/k)
  /// growing up to 2×, and within 10 % at 1e-3. On both, uniform fixed steps of the same method
  /// are still 1.2–1.5× cheaper by that measure: adaptivity pays where scales change.
  public static func defaultController(order k: Double) -> PIController {
    PIController(alpha: 0.7 / k, beta: 0.4 / k, safety: 0.9, maxGrowth: 1.2, maxShrink: 10, maxRejectionShrink: 10)
  }
}
