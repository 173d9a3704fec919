import Foundation

/// The Ornstein–Uhlenbeck process dX = θ(μ − X) dt + σ dW, additive noise.
///
/// X(t) is Gaussian with mean μ + (X₀ − μ)e^{−θt} and variance σ²(1 − e^{−2θt})/(2θ). X(t) is
/// not a function of W(t) alone, so weak errors are measured against the exact mean and strong
/// errors against a reference solve on the same path. Defaults θ = 2, μ = 1, σ = 0.5, X₀ = 3
/// on [0, 1].
public struct OrnsteinUhlenbeck: SDETestProblem {
  public var theta: Double
  public var mu: Double
  public var sigma: Double
  public var x0: Double
  public var t1: Double

  public init(theta: Double = 2, mu: Double = 1, sigma: Double = 0.5, x0: Double = 3, t1: Double = 1) {
    self.theta = theta
    self.mu = mu
    self.sigma = sigma
    self.x0 = x0
    self.t1 = t1
  }

  public var t0: Double { 0 }
  public var initialState: [Double] { [x0] }

  public var drift: DriftFunction {
    let theta = self.theta, mu = self.mu
    return DriftFunction { x, _, out in
      for e in 0..<x.count { out[e] = theta * (mu - x[e]) }
    }
  }

  public var diffusion: ConstantDiffusion { ConstantDiffusion(sigma) }

  public func exactSolution(brownian: StateBatch) -> StateBatch? { nil }

  public var exactMean: [Double]? { [mu + (x0 - mu) * exp(-theta * t1)] }

  public var exactSecondMoment: Double? {
    let mean = exactMean![0]
    return mean * mean + exactVariance
  }

  /// Var X(t1).
  public var exactVariance: Double { sigma * sigma * (1 - exp(-2 * theta * t1)) / (2 * theta) }
}
