/// The additive-noise linear SDE
/// du = (β/√(1+t) − u/(2(1+t))) dt + αβ/√(1+t) dW, with exact solution
/// u(t) = u₀/√(1+t) + β(t + αW(t))/√(1+t). Defaults α = 0.1, β = 0.05, u₀ = 1 on [0, 1].
///
/// Reference: Kloeden & Platen (1992), eq. (4.4.8); Rößler (2010) §7; StochasticDiffEq.jl's
/// `prob_sde_additive`.
public struct LinearAdditiveSDE: SDETestProblem {
  public var alpha: Double
  public var beta: Double
  public var u0: Double
  public var t1: Double

  public init(alpha: Double = 0.1, beta: Double = 0.05, u0: Double = 1, t1: Double = 1) {
    self.alpha = alpha
    self.beta = beta
    self.u0 = u0
    self.t1 = t1
  }

  public var t0: Double { 0 }
  public var initialState: [Double] { [u0] }

  public var drift: DriftFunction {
    let beta = self.beta
    return DriftFunction { x, t, out in
      let a = beta / (1 + t).squareRoot(), b = -0.5 / (1 + t)
      for e in 0..<x.count { out[e] = a + b * x[e] }
    }
  }

  public var diffusion: DiffusionFunction {
    let scale = alpha * beta
    return DiffusionFunction(noise: .additive) { _, t, out in
      let g = scale / (1 + t).squareRoot()
      for e in 0..<out.count { out[e] = g }
    }
  }

  public func exactSolution(brownian: StateBatch) -> StateBatch? {
    let root = (1 + t1).squareRoot()
    return StateBatch(count: brownian.count, dimension: 1,
                      values: brownian.values.map { u0 / root + beta * (t1 + alpha * $0) / root })
  }

  public var exactMean: [Double]? { [u0 / (1 + t1).squareRoot() + beta * t1 / (1 + t1).squareRoot()] }

  /// u(t) = u₀/√(1+t) + β(t + αW)/√(1+t): the mean² plus the variance α²β²t/(1+t).
  public var exactSecondMoment: Double? {
    let mean = exactMean![0]
    return mean * mean + alpha * alpha * beta * beta * t1 / (1 + t1)
  }
}
