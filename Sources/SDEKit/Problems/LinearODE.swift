import Foundation

/// The linear ODE y' = Ay with A = [[−λ, −ω], [ω, −λ]], a damped rotation:
/// y(t) = e^{−λt} R(ωt) y₀. Defaults λ = 0.5, ω = 2π, y₀ = (1, 0) on [0, 1].
public struct LinearODE: ODETestProblem {
  public var damping: Double
  public var frequency: Double
  public var y0: [Double]
  public var t1: Double

  public init(damping: Double = 0.5, frequency: Double = 2 * Double.pi, y0: [Double] = [1, 0],
              t1: Double = 1) {
    self.damping = damping
    self.frequency = frequency
    self.y0 = y0
    self.t1 = t1
  }

  public var t0: Double { 0 }
  public var initialState: [Double] { y0 }

  public var field: VectorFieldFunction {
    let l = damping, w = frequency
    return VectorFieldFunction { y, _, out in
      for r in 0..<(y.count / 2) {
        let a = y[2 * r], b = y[2 * r + 1]
        out[2 * r] = -l * a - w * b
        out[2 * r + 1] = w * a - l * b
      }
    }
  }

  public var exactFinalState: [Double]? {
    let decay = exp(-damping * t1), c = cos(frequency * t1), s = sin(frequency * t1)
    return [decay * (c * y0[0] - s * y0[1]), decay * (s * y0[0] + c * y0[1])]
  }
}
