import Foundation

/// The variance-preserving SDE of Song et al. (2021): β(t) = β_min + t(β_max − β_min),
/// dx = −½β(t)x dt + √β(t) dW. a(t) = exp(−¼t²(β_max − β_min) − ½tβ_min), s(t)² = 1 − a(t)².
/// Defaults β_min = 0.1, β_max = 20, T = 1, ε = 1e-3; the continuous limit of DDPM.
public struct VPSDE: DiffusionProcess {
  public var betaMin: Double
  public var betaMax: Double
  public var T: Double
  public var defaultEpsilon: Double

  public init(betaMin: Double = 0.1, betaMax: Double = 20, T: Double = 1, epsilon: Double = 1e-3) {
    self.betaMin = betaMin
    self.betaMax = betaMax
    self.T = T
    self.defaultEpsilon = epsilon
  }

  public var name: String { "vp" }
  public var priorStandardDeviation: Double { 1 }

  /// β(t).
  public func beta(_ t: Double) -> Double { betaMin + t * (betaMax - betaMin) }
  /// ∫₀ᵗ β.
  public func integratedBeta(_ t: Double) -> Double { betaMin * t + 0.5 * (betaMax - betaMin) * t * t }

  public func driftRate(_ t: Double) -> Double { -0.5 * beta(t) }
  public func diffusion(_ t: Double) -> Double { beta(t).squareRoot() }
  public func meanCoefficient(_ t: Double) -> Double { exp(-0.5 * integratedBeta(t)) }
  public func standardDeviation(_ t: Double) -> Double { (-expm1(-integratedBeta(t))).squareRoot() }
}

/// The sub-VP SDE of Song et al. (2021): the VP drift with g(t)² = β(t)(1 − e^{−2∫₀ᵗβ}), so that
/// s(t) = 1 − a(t)² (variance (1 − a²)², below VP's). Same defaults as `VPSDE`.
public struct SubVPSDE: DiffusionProcess {
  public var vp: VPSDE

  public init(betaMin: Double = 0.1, betaMax: Double = 20, T: Double = 1, epsilon: Double = 1e-3) {
    vp = VPSDE(betaMin: betaMin, betaMax: betaMax, T: T, epsilon: epsilon)
  }

  public var name: String { "subvp" }
  public var T: Double { vp.T }
  public var defaultEpsilon: Double { vp.defaultEpsilon }
  public var priorStandardDeviation: Double { 1 }

  public func driftRate(_ t: Double) -> Double { vp.driftRate(t) }
  public func diffusion(_ t: Double) -> Double {
    (vp.beta(t) * -expm1(-2 * vp.integratedBeta(t))).squareRoot()
  }
  public func meanCoefficient(_ t: Double) -> Double { vp.meanCoefficient(t) }
  public func standardDeviation(_ t: Double) -> Double { -expm1(-vp.integratedBeta(t)) }
}

/// The variance-exploding SDE of Song et al. (2021): σ(t) = σ_min(σ_max/σ_min)^t, f = 0,
/// g(t) = σ(t)√(2 ln(σ_max/σ_min)), a(t) = 1. The marginal standard deviation is taken as σ(t),
/// as score_sde does (the exact SDE marginal would be √(σ(t)² − σ_min²)); the prior is
/// N(0, σ_max² I). Defaults σ_min = 0.01, σ_max = 10 (for `gmm2d8`; 50 is the image default),
/// T = 1, ε = 1e-3.
public struct VESDE: DiffusionProcess {
  public var sigmaMin: Double
  public var sigmaMax: Double
  public var T: Double
  public var defaultEpsilon: Double

  public init(sigmaMin: Double = 0.01, sigmaMax: Double = 10, T: Double = 1, epsilon: Double = 1e-3) {
    self.sigmaMin = sigmaMin
    self.sigmaMax = sigmaMax
    self.T = T
    self.defaultEpsilon = epsilon
  }

  public var name: String { "ve" }
  public var priorStandardDeviation: Double { sigmaMax }

  /// σ(t).
  public func sigma(_ t: Double) -> Double { sigmaMin * pow(sigmaMax / sigmaMin, t) }

  public func driftRate(_ t: Double) -> Double { 0 }
  public func diffusion(_ t: Double) -> Double { sigma(t) * (2 * log(sigmaMax / sigmaMin)).squareRoot() }
  public func meanCoefficient(_ t: Double) -> Double { 1 }
  public func standardDeviation(_ t: Double) -> Double { sigma(t) }
}

/// The continuous counterpart of the cosine schedule of Nichol & Dhariwal (2021):
/// a(t)² = ᾱ(t) = f(t)/f(0), f(t) = cos²((t + s)/(1 + s)·π/2), s = 0.008, so
/// β(t) = −d/dt ln ᾱ(t) = π/(1 + s)·tan((t + s)/(1 + s)·π/2) and dx = −½β x dt + √β dW.
/// β grows without bound at t = 1, so T defaults to 0.999.
public struct CosineVPSDE: DiffusionProcess {
  public var offset: Double
  public var T: Double
  public var defaultEpsilon: Double

  public init(offset: Double = 0.008, T: Double = 0.999, epsilon: Double = 1e-3) {
    self.offset = offset
    self.T = T
    self.defaultEpsilon = epsilon
  }

  public var name: String { "cosine" }
  public var priorStandardDeviation: Double { 1 }

  private func angle(_ t: Double) -> Double { (t + offset) / (1 + offset) * Double.pi / 2 }

  /// β(t).
  public func beta(_ t: Double) -> Double { Double.pi / (1 + offset) * tan(angle(t)) }

  public func driftRate(_ t: Double) -> Double { -0.5 * beta(t) }
  public func diffusion(_ t: Double) -> Double { beta(t).squareRoot() }
  public func meanCoefficient(_ t: Double) -> Double { cos(angle(t)) / cos(angle(0)) }
  public func standardDeviation(_ t: Double) -> Double {
    let a = meanCoefficient(t)
    return (1 - a * a).squareRoot()
  }
}
