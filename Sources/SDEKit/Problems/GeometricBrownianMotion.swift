import Foundation

/// Geometric Brownian motion dX = μX dt + σX dW, one dimension.
///
/// In Itô form the exact solution is X(t) = X₀ exp((μ − σ²/2) t + σ W(t)) and E X(t) = X₀ e^{μt};
/// read as a Stratonovich equation it is X₀ exp(μt + σW(t)) with mean X₀ e^{(μ + σ²/2)t}. The
/// defaults are workload W4 of shared/REFERENCE.md: μ = 1.01, σ = 0.87, X₀ = 0.5 on [0, 1], Itô.
public struct GeometricBrownianMotion: SDETestProblem {
  public var mu: Double
  public var sigma: Double
  public var x0: Double
  public var t1: Double
  public var calculus: Calculus

  public init(mu: Double = 1.01, sigma: Double = 0.87, x0: Double = 0.5, t1: Double = 1,
              calculus: Calculus = .ito) {
    self.mu = mu
    self.sigma = sigma
    self.x0 = x0
    self.t1 = t1
    self.calculus = calculus
  }

  /// The deterministic exponent rate: μ − σ²/2 in Itô form, μ in Stratonovich form.
  private var rate: Double { calculus == .ito ? mu - 0.5 * sigma * sigma : mu }

  public var t0: Double { 0 }
  public var initialState: [Double] { [x0] }
  public var drift: LinearDrift { LinearDrift(rates: [mu]) }
  public var diffusion: LinearDiagonalDiffusion { LinearDiagonalDiffusion(scales: [sigma]) }

  public func exactSolution(brownian: StateBatch) -> StateBatch? {
    StateBatch(count: brownian.count, dimension: 1,
               values: brownian.values.map { x0 * exp(rate * t1 + sigma * $0) })
  }

  public var exactMean: [Double]? { [x0 * exp((rate + 0.5 * sigma * sigma) * t1)] }

  /// Itô form: X₀² e^{(2μ + σ²) t1}; nil in Stratonovich form.
  public var exactSecondMoment: Double? {
    calculus == .ito ? x0 * x0 * exp((2 * mu + sigma * sigma) * t1) : nil
  }
}

/// d independent geometric Brownian motions dX_i = μ_i X_i dt + σ_i X_i dW_i (Itô): diagonal noise.
public struct DiagonalGeometricBrownianMotion: SDETestProblem {
  public var mu: [Double]
  public var sigma: [Double]
  public var x0: [Double]
  public var t1: Double

  public init(mu: [Double] = [1.01, 0.5, -0.3], sigma: [Double] = [0.87, 0.5, 0.3],
              x0: [Double] = [0.5, 1, 2], t1: Double = 1) {
    precondition(mu.count == sigma.count && mu.count == x0.count, "μ, σ and X₀ need one entry per dimension")
    self.mu = mu
    self.sigma = sigma
    self.x0 = x0
    self.t1 = t1
  }

  public var t0: Double { 0 }
  public var initialState: [Double] { x0 }
  public var drift: LinearDrift { LinearDrift(rates: mu) }
  public var diffusion: LinearDiagonalDiffusion { LinearDiagonalDiffusion(scales: sigma) }

  public func exactSolution(brownian: StateBatch) -> StateBatch? {
    let d = x0.count
    var out = StateBatch(count: brownian.count, dimension: d)
    for r in 0..<brownian.count {
      for i in 0..<d {
        out[r, i] = x0[i] * exp((mu[i] - 0.5 * sigma[i] * sigma[i]) * t1 + sigma[i] * brownian[r, i])
      }
    }
    return out
  }

  public var exactMean: [Double]? { (0..<x0.count).map { x0[$0] * exp(mu[$0] * t1) } }
}

/// f_i(x) = a_i x_i.
public struct LinearDrift: Drift {
  public let rates: [Double]
  public init(rates: [Double]) { self.rates = rates }

  public func drift(_ x: BatchView, t: Double, into output: MutableBatchView) {
    scaleComponents(x, by: rates, into: output)
  }
}

/// g_i(x) = s_i x_i, diagonal noise; (∂g/∂x)·g = s_i² x_i.
public struct LinearDiagonalDiffusion: Diffusion {
  public let scales: [Double]
  private let squaredScales: [Double]

  public init(scales: [Double]) {
    self.scales = scales
    self.squaredScales = scales.map { $0 * $0 }
  }

  public var noise: NoiseStructure { .diagonal }
  public var providesDerivative: Bool { true }

  public func diffusion(_ x: BatchView, t: Double, into output: MutableBatchView) {
    scaleComponents(x, by: scales, into: output)
  }

  public func derivativeProduct(_ x: BatchView, t: Double, into output: MutableBatchView) {
    scaleComponents(x, by: squaredScales, into: output)
  }
}

/// output[r, j] = factors[j] · x[r, j].
private func scaleComponents(_ x: BatchView, by factors: [Double], into output: MutableBatchView) {
  let dimension = x.dimension
  factors.withUnsafeBufferPointer { a in
    if dimension == 1 {
      let a0 = a[0]
      for e in 0..<x.count { output[e] = a0 * x[e] }
      return
    }
    for r in 0..<(x.count / dimension) {
      for j in 0..<dimension { output[r * dimension + j] = a[j] * x[r * dimension + j] }
    }
  }
}
