import Foundation

/// A forward noising SDE with linear drift and additive noise, dx = c(t)·x dt + g(t) dW,
/// whose marginal given x₀ is N(a(t)x₀, s(t)²I). Every diffusion-model SDE is of this form.
public protocol DiffusionProcess: Sendable {
  /// The command-line name (`vp`, `subvp`, `ve`, …).
  var name: String { get }
  /// The end of the forward process (where the prior is).
  var T: Double { get }
  /// The default stopping time of the reverse process.
  var defaultEpsilon: Double { get }
  /// c(t) in the drift f(x, t) = c(t)·x.
  func driftRate(_ t: Double) -> Double
  /// g(t).
  func diffusion(_ t: Double) -> Double
  /// a(t): the mean of x_t given x₀ is a(t)·x₀.
  func meanCoefficient(_ t: Double) -> Double
  /// s(t): the standard deviation of x_t given x₀.
  func standardDeviation(_ t: Double) -> Double
  /// The prior N(0, σ²I) the reverse process starts from.
  var priorStandardDeviation: Double { get }
  /// The time input a learned network receives at process time t: t itself for the continuous
  /// processes, the step index i for the discrete DDPM chain (diffusers' convention).
  func networkTime(_ t: Double) -> Double
  /// Throws unless ε is a valid stopping time of the reverse process (0 < ε < T for the
  /// continuous processes; the DDPM chain also allows 0, its data).
  func validate(epsilon: Double) throws
}

extension DiffusionProcess {
  /// log N(x; 0, σ_prior² I) for each row of a batch.
  public func priorLogDensity(_ x: [Double], dimension: Int) -> [Double] {
    let sigma = priorStandardDeviation
    let constant = -0.5 * Double(dimension) * Foundation.log(2 * Double.pi * sigma * sigma)
    return stride(from: 0, to: x.count, by: dimension).map { start in
      var squared = 0.0
      for j in 0..<dimension { squared += x[start + j] * x[start + j] }
      return constant - 0.5 * squared / (sigma * sigma)
    }
  }

  /// The signal-to-noise ratio a(t)²/s(t)².
  public func signalToNoise(_ t: Double) -> Double {
    let a = meanCoefficient(t), s = standardDeviation(t)
    return a * a / (s * s)
  }

  /// σ(t) = s(t)/a(t): the noise level of x_t/a(t) = x₀ + σ n (EDM's and k-diffusion's σ).
  public func noiseLevel(_ t: Double) -> Double { standardDeviation(t) / meanCoefficient(t) }

  /// λ(t) = log(a(t)/s(t)), half the log signal-to-noise ratio (DPM-Solver's λ); decreasing in t.
  public func halfLogSNR(_ t: Double) -> Double { Foundation.log(meanCoefficient(t) / standardDeviation(t)) }

  public func networkTime(_ t: Double) -> Double { t }

  /// Throws unless 0 < ε < T.
  public func validate(epsilon: Double) throws {
    guard epsilon > 0, epsilon < T else {
      throw DiffusionError.invalidSetting("ε must satisfy 0 < ε < T = \(T) for \(name), got \(epsilon)")
    }
  }
}

/// Errors of the diffusion layer; each names the bad value and what is allowed.
public enum DiffusionError: Error, Equatable, CustomStringConvertible {
  case invalidSetting(String)
  case dimensionMismatch(String)
  case unsupported(String)

  public var description: String {
    switch self {
    case .invalidSetting(let message), .dimensionMismatch(let message), .unsupported(let message): message
    }
  }
}
