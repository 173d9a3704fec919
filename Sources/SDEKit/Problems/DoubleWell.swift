/// Overdamped Langevin dynamics in a double well, dX = (X − X³) dt + σ dW: additive noise with a
/// nonlinear drift, where the remainder terms that limit SRA1 to strong order 1.5 and
/// stochastic Heun to 1.0 do not vanish. No closed form: studies compare against a reference
/// solve on the same Brownian path. Defaults σ = 0.5, X₀ = 0.5 on [0, 1].
public struct DoubleWell: SDETestProblem {
  public var sigma: Double
  public var x0: Double
  public var t1: Double

  public init(sigma: Double = 0.5, x0: Double = 0.5, t1: Double = 1) {
    self.sigma = sigma
    self.x0 = x0
    self.t1 = t1
  }

  public var t0: Double { 0 }
  public var initialState: [Double] { [x0] }

  public var drift: DriftFunction {
    DriftFunction { x, _, out in
      for e in 0..<x.count { out[e] = x[e] - x[e] * x[e] * x[e] }
    }
  }

  public var diffusion: ConstantDiffusion { ConstantDiffusion(sigma) }

  public func exactSolution(brownian: StateBatch) -> StateBatch? { nil }
  public var exactMean: [Double]? { nil }
}
