import Foundation
import ScoreModels

/// How the N steps of a sampler are spread over [ε, T]. Every grid runs from T down to ε.
public enum TimeGridKind: String, Sendable, Codable, CaseIterable {
  /// Equal steps in t.
  case uniform
  /// Steps growing quadratically with the distance from ε: dense near the data (DDIM's choice).
  case quadratic
  /// Equal steps in λ = log(a/s), the half log signal-to-noise ratio (DPM-Solver's choice).
  case logsnr
  /// Karras et al. (2022), eq. 5: σ_i = (σ_max^{1/ρ} + i/N (σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ, ρ = 7,
  /// in terms of σ = s/a, mapped back to t.
  case karras

  /// The N + 1 times from T to ε.
  public func times<P: DiffusionProcess>(process: P, steps: Int, epsilon: Double) -> [Double] {
    let T = process.T
    switch self {
    case .uniform:
      return (0...steps).map { i in i == steps ? epsilon : T - (T - epsilon) * Double(i) / Double(steps) }
    case .quadratic:
      return (0...steps).map { i in
        let u = Double(steps - i) / Double(steps)
        return i == steps ? epsilon : epsilon + (T - epsilon) * u * u
      }
    case .logsnr:
      let lambda = { (t: Double) in log(process.meanCoefficient(t) / process.standardDeviation(t)) }
      let (start, end) = (lambda(T), lambda(epsilon))
      return (0...steps).map { i in
        if i == 0 { return T }
        if i == steps { return epsilon }
        return inverse(lambda, target: start + (end - start) * Double(i) / Double(steps), from: epsilon, to: T)
      }
    case .karras:
      let sigma = { (t: Double) in process.standardDeviation(t) / process.meanCoefficient(t) }
      let rho = 7.0
      let (high, low) = (pow(sigma(T), 1 / rho), pow(sigma(epsilon), 1 / rho))
      return (0...steps).map { i in
        if i == 0 { return T }
        if i == steps { return epsilon }
        let target = log(pow(high + (low - high) * Double(i) / Double(steps), rho))
        return inverse({ log(sigma($0)) }, target: target, from: epsilon, to: T)
      }
    }
  }

  /// The t in [lower, upper] where the monotone `f` equals `target`, by bisection to 1e-14.
  private func inverse(_ f: (Double) -> Double, target: Double, from lower: Double, to upper: Double) -> Double {
    var (a, b) = (lower, upper)
    let increasing = f(upper) > f(lower)
    for _ in 0..<200 where b - a > 1e-14 * max(1, abs(b)) {
      let mid = 0.5 * (a + b)
      if (f(mid) < target) == increasing { a = mid } else { b = mid }
    }
    return 0.5 * (a + b)
  }
}
