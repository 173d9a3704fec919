import Foundation

/// The discrete DDPM chain of Ho et al. (2020): q(x_i | x_{i−1}) = N(√(1 − β_i) x_{i−1}, β_i I),
/// i = 0 … N − 1, so x_i | x₀ ~ N(√ᾱ_i x₀, (1 − ᾱ_i) I) with ᾱ_i = ∏_{j ≤ i} (1 − β_j).
public struct DDPMSchedule: Sendable, Hashable {
  public enum Kind: String, Sendable, Codable, CaseIterable {
    /// β linear from 1e-4 to 0.02 (Ho et al. 2020).
    case linear
    /// ᾱ from the squared cosine (Nichol & Dhariwal 2021), β clipped at 0.999.
    case cosine
  }

  public let kind: Kind
  public let betas: [Double]
  public let alphaBars: [Double]

  public var steps: Int { betas.count }

  /// The linear schedule, β from `betaStart` to `betaEnd` over `steps` steps.
  public static func linear(steps: Int = 1000, betaStart: Double = 1e-4, betaEnd: Double = 0.02) -> DDPMSchedule {
    let betas = (0..<steps).map { i in
      steps == 1 ? betaStart : betaStart + (betaEnd - betaStart) * Double(i) / Double(steps - 1)
    }
    return DDPMSchedule(kind: .linear, betas: betas)
  }

  /// The cosine schedule: ᾱ_i = f((i + 1)/N)/f(0), f(t) = cos²((t + s)/(1 + s)·π/2), s = 0.008.
  public static func cosine(steps: Int = 1000, offset: Double = 0.008) -> DDPMSchedule {
    func f(_ t: Double) -> Double { pow(cos((t + offset) / (1 + offset) * Double.pi / 2), 2) }
    let betas = (0..<steps).map { i in
      min(1 - f(Double(i + 1) / Double(steps)) / f(Double(i) / Double(steps)), 0.999)
    }
    return DDPMSchedule(kind: .cosine, betas: betas)
  }

  init(kind: Kind, betas: [Double]) {
    self.kind = kind
    self.betas = betas
    var product = 1.0
    self.alphaBars = betas.map { beta in
      product *= 1 - beta
      return product
    }
  }

  /// The continuous time of step i: t_i = (i + 1)/N, where ᾱ_i ≈ a(t_i)² of the continuous process.
  public func time(ofStep i: Int) -> Double { Double(i + 1) / Double(steps) }

  /// The continuous process this chain discretises: the VP SDE with β_min = Nβ₀ and
  /// β_max = Nβ_{N−1} for the linear schedule, the cosine VP SDE for the cosine one.
  public var continuousProcess: any DiffusionProcess {
    switch kind {
    case .linear: VPSDE(betaMin: Double(steps) * betas[0], betaMax: Double(steps) * betas[steps - 1])
    case .cosine: CosineVPSDE()
    }
  }
}
