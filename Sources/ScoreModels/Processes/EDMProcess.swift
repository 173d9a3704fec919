import Foundation

/// The process of Karras et al. (2022), "Elucidating the Design Space of Diffusion-Based
/// Generative Models" (EDM): x_σ = x₀ + σ·n with σ(t) = t, so the time is the noise level itself.
///
/// a(t) = 1, s(t) = t; as an SDE dx = √(2t) dW (d(s²)/dt = 2t), no drift. T = σ_max, ε = σ_min,
/// prior N(0, σ_max² I). Defaults σ_min = 0.002, σ_max = 80 (the paper's Table 1). A learned
/// network receives σ as its time (k-diffusion's convention).
public struct EDMProcess: DiffusionProcess, InvertibleNoiseLevel {
  public var sigmaMin: Double
  public var sigmaMax: Double

  public init(sigmaMin: Double = 0.002, sigmaMax: Double = 80) {
    self.sigmaMin = sigmaMin
    self.sigmaMax = sigmaMax
  }

  public var name: String { "edm" }
  public var T: Double { sigmaMax }
  public var defaultEpsilon: Double { sigmaMin }
  public var priorStandardDeviation: Double { sigmaMax }

  public func driftRate(_ t: Double) -> Double { 0 }
  public func diffusion(_ t: Double) -> Double { (2 * t).squareRoot() }
  public func meanCoefficient(_ t: Double) -> Double { 1 }
  public func standardDeviation(_ t: Double) -> Double { t }

  /// t = σ.
  public func time(atNoiseLevel sigma: Double) -> Double { sigma }
}

/// Flow matching with the straight (rectified-flow) path of Liu et al. (2023) and Lipman et al.
/// (2023), as Stable Diffusion 3 and Flux are trained: x_τ = (1 − τ)x₀ + τ·n, τ ∈ [0, 1], prior
/// N(0, I). A network predicts the velocity v = n − x₀ = dx_τ/dτ (`Parameterisation.flowVelocity`).
///
/// `shift` is diffusers' time shift (Esser et al. 2024, eq. 23): the process's own time u maps to
/// τ(u) = shift·u/(1 + (shift − 1)u), which spends more of a uniform grid in u at high noise for
/// shift > 1. So a(u) = 1 − τ(u), s(u) = τ(u), and a grid uniform in u is diffusers' shifted grid.
/// As an SDE: c(u) = −τ′/(1 − τ), g(u)² = 2ττ′/(1 − τ) with τ′ = shift/(1 + (shift − 1)u)²; both
/// grow without bound at u = T = 1, where a = 0 (σ = s/a = ∞). ε = 1e-3. A learned network
/// receives τ as its time.
public struct FlowMatchingProcess: DiffusionProcess, InvertibleNoiseLevel {
  public var shift: Double

  public init(shift: Double = 1) { self.shift = shift }

  public var name: String { "flow" }
  public var T: Double { 1 }
  public var defaultEpsilon: Double { 1e-3 }
  public var priorStandardDeviation: Double { 1 }

  /// τ(u) = shift·u/(1 + (shift − 1)u): the interpolation time at process time u.
  public func interpolationTime(_ u: Double) -> Double { shift == 1 ? u : shift * u / (1 + (shift - 1) * u) }

  /// dτ/du.
  func interpolationRate(_ u: Double) -> Double {
    let denominator = 1 + (shift - 1) * u
    return shift / (denominator * denominator)
  }

  public func driftRate(_ t: Double) -> Double { -interpolationRate(t) / (1 - interpolationTime(t)) }
  public func diffusion(_ t: Double) -> Double {
    let tau = interpolationTime(t)
    return (2 * tau * interpolationRate(t) / (1 - tau)).squareRoot()
  }
  public func meanCoefficient(_ t: Double) -> Double { 1 - interpolationTime(t) }
  public func standardDeviation(_ t: Double) -> Double { interpolationTime(t) }

  public func networkTime(_ t: Double) -> Double { interpolationTime(t) }

  /// σ = τ/(1 − τ), so τ = σ/(1 + σ) and u = τ/(shift − (shift − 1)τ).
  public func time(atNoiseLevel sigma: Double) -> Double {
    let tau = sigma.isInfinite ? 1 : sigma / (1 + sigma)
    return shift == 1 ? tau : tau / (shift - (shift - 1) * tau)
  }
}

/// A process whose noise level σ(t) = s(t)/a(t) has a closed-form inverse: grids in σ (Karras's)
/// land on its times exactly, and samplers that evaluate the model at a noise level off the grid
/// (Karras's churn, DPM-Solver's intermediate points) find the time without a search. Other
/// processes are inverted by bisection over [0, T].
public protocol InvertibleNoiseLevel {
  /// The time t with σ(t) = `sigma` (σ may lie beyond σ(T) where the formula extends).
  func time(atNoiseLevel sigma: Double) -> Double
}

extension VESDE: InvertibleNoiseLevel {
  /// σ(t) = σ_min(σ_max/σ_min)^t, so t = log(σ/σ_min)/log(σ_max/σ_min).
  public func time(atNoiseLevel sigma: Double) -> Double { log(sigma / sigmaMin) / log(sigmaMax / sigmaMin) }
}

extension VPSDE: InvertibleNoiseLevel {
  /// σ² = 1/a² − 1 = e^{B(t)} − 1 with B(t) = β_min t + ½(β_max − β_min)t², so B = log(1 + σ²)
  /// and t is the positive root of that quadratic.
  public func time(atNoiseLevel sigma: Double) -> Double {
    let integrated = log1p(sigma * sigma), slope = betaMax - betaMin
    guard slope != 0 else { return integrated / betaMin }
    // 2B/(β_min + √(β_min² + 2(β_max − β_min)B)): the root without cancellation for small B.
    return 2 * integrated / (betaMin + (betaMin * betaMin + 2 * slope * integrated).squareRoot())
  }
}

extension DiffusionProcess {
  /// The time t ∈ [0, T] with σ(t) = `sigma`: the process's closed form if it has one, else
  /// bisection on log σ to 1e-15 relative (σ(t) increases with t for every built-in process).
  public func time(ofNoiseLevel sigma: Double) -> Double {
    if let invertible = self as? any InvertibleNoiseLevel { return invertible.time(atNoiseLevel: sigma) }
    if sigma <= 0 { return 0 }
    var (low, high) = (0.0, T)
    let target = log(sigma)
    for _ in 0..<200 where high - low > 1e-15 * max(1, high) {
      let mid = 0.5 * (low + high)
      if log(noiseLevel(mid)) < target { low = mid } else { high = mid }
    }
    return 0.5 * (low + high)
  }
}
