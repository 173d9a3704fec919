import Foundation
import ScoreModels
import SDEKit

/// The fast samplers' settings (Karras's churn, the ancestral and SDE noise scale η,
/// multistep orders, UniPC's variant and corrector). Every field is optional: nil is the
/// sampler's default (the value k-diffusion or diffusers uses), and a field set for a sampler it
/// does not apply to is an error (`validate(for:)`), so a typo in a command line is not ignored.
public struct FastSamplerSettings: Sendable, Hashable, Codable {
  /// Karras's S_churn ≥ 0 (`edm-euler`, `edm-heun`): each step first raises σ to σ̂ = σ(1 + γ),
  /// γ = min(S_churn/N, √2 − 1), by adding fresh noise. nil: 0 (deterministic).
  public var churn: Double?
  /// S_tmin: churn only where σ ≥ S_tmin. nil: 0.
  public var churnMinimum: Double?
  /// S_tmax: churn only where σ ≤ S_tmax. nil: ∞.
  public var churnMaximum: Double?
  /// S_noise: the scale of the churn and ancestral noise. nil: 1.
  public var noiseScale: Double?
  /// η ≥ 0 of the ancestral and SDE samplers (`euler-ancestral`, `dpm-solver++-2s-ancestral`,
  /// `dpm-solver++-2m-sde`; 0: their deterministic counterpart). nil: 1. DDIM's η is
  /// `SamplerSettings.eta`, not this.
  public var eta: Double?
  /// Multistep samplers (`dpm-solver++-2m`, `-3m`, `unipc`): lower the order of the last steps
  /// as diffusers does (`lower_order_final`): DPM-Solver++ for fewer than 15 steps (last step
  /// first order, the one before at most second), UniPC for any number (order min(p, steps left)).
  /// nil: true for 2M and UniPC (diffusers' default), false for 3M (as k-diffusion's
  /// `sample_dpmpp_3m_sde`, its parity reference). A step to σ = 0 is first order either way (it
  /// returns the data prediction).
  public var lowerOrderFinal: Bool?
  /// `dpm-solver++-3m`: the third-order term as k-diffusion, diffusers and the DPM-Solver
  /// authors' code compute it, half the Taylor coefficient, which makes the method second order
  /// (`DPMSolverPlusPlus3M`); for parity with them. nil: false.
  public var kDiffusion3M: Bool?
  /// `dpm-solver++-2m-sde`'s second-order term. nil: midpoint.
  public var solverType: SDESolverType?
  /// UniPC's order p ∈ 1…3. nil: 2.
  public var order: Int?
  /// UniPC's B(h). nil: bh2.
  public var variant: UniPCVariant?
  /// UniPC's UniC corrector. nil: true.
  public var corrector: Bool?
  /// `ddim` on the DDPM chain: step from timestep τ to τ − ⌊N/n⌋ as diffusers' DDIMScheduler
  /// does (`previous_timestep`), rather than to the grid's next time. They differ with linspace
  /// spacing (PARITY_NOTES.md §2.5), where the state then reaches the next evaluation at another
  /// timestep than it was moved to — diffusers' inconsistency, matched here only on request.
  /// nil: false.
  public var diffusersDDIMStride: Bool?

  public init() {}

  /// The keys as written, so that a snake-case JSON round trip (sdekit's reports) comes back to
  /// them: "diffusers_ddim_stride" returns as diffusersDdimStride, not diffusersDDIMStride.
  enum CodingKeys: String, CodingKey {
    case churn, churnMinimum, churnMaximum, noiseScale, eta, lowerOrderFinal, kDiffusion3M, solverType, order,
         variant, corrector
    case diffusersDDIMStride = "diffusersDdimStride"
  }

  public var resolvedChurn: Double { churn ?? 0 }
  public var resolvedNoiseScale: Double { noiseScale ?? 1 }
  public var resolvedEta: Double { eta ?? 1 }
  public var resolvedOrder: Int { order ?? 2 }

  /// Throws naming the first setting out of range, or one set for a sampler it does not apply to.
  public func validate(for sampler: SamplerName) throws {
    let fast: FastSamplerName? = if case .fast(let name) = sampler { name } else { nil }
    func applies(_ option: String, _ value: Any?, to samplers: [FastSamplerName]) throws {
      guard value != nil else { return }
      guard let fast, samplers.contains(fast) else {
        throw DiffusionError.invalidSetting(
          "\(option) applies to \(samplers.map(\.rawValue).joined(separator: ", ")); got --sampler \(sampler.name)")
      }
    }
    let karras: [FastSamplerName] = [.edmEuler, .edmHeun]
    try applies("--churn", churn, to: karras)
    try applies("--s-tmin", churnMinimum, to: karras)
    try applies("--s-tmax", churnMaximum, to: karras)
    let noisy: [FastSamplerName] = [.eulerAncestral, .dpmSolverPlusPlus2SAncestral, .dpmSolverPlusPlus2MSDE]
    try applies("--s-noise", noiseScale, to: karras + noisy)
    try applies("--eta", eta, to: noisy)
    try applies("--lower-order-final", lowerOrderFinal, to: [.dpmSolverPlusPlus2M, .dpmSolverPlusPlus3M, .uniPC])
    try applies("--solver-type", solverType, to: [.dpmSolverPlusPlus2MSDE])
    try applies("--k-diffusion-3m", kDiffusion3M, to: [.dpmSolverPlusPlus3M])
    try applies("--order", order, to: [.uniPC])
    try applies("--variant", variant, to: [.uniPC])
    try applies("--no-corrector", corrector, to: [.uniPC])
    if diffusersDDIMStride != nil, sampler != .ddim {
      throw DiffusionError.invalidSetting("--diffusers-ddim-stride applies to ddim; got --sampler \(sampler.name)")
    }
    for (option, value) in [("--churn", churn), ("--s-tmin", churnMinimum), ("--s-noise", noiseScale)] {
      if let value, !(value >= 0 && value.isFinite) {
        throw DiffusionError.invalidSetting("\(option) must be finite and at least 0, got \(value)")
      }
    }
    if let churnMaximum, !(churnMaximum >= (churnMinimum ?? 0)) {
      throw DiffusionError.invalidSetting("--s-tmax must be at least --s-tmin (\(churnMinimum ?? 0)), got \(churnMaximum)")
    }
    if let eta, !(eta >= 0 && eta.isFinite) {
      throw DiffusionError.invalidSetting("--eta must be finite and at least 0 for \(sampler.name), got \(eta)")
    }
    if let order, !(1...3).contains(order) {
      throw DiffusionError.invalidSetting("--order must lie in 1...3 (UniPC's orders), got \(order)")
    }
  }
}

/// The second-order term of `dpm-solver++-2m-sde` (k-diffusion's `solver_type`).
public enum SDESolverType: String, Sendable, Hashable, Codable, CaseIterable {
  /// ½(1 − e^{−(1+η)h})·(m_i − m_{i−1})/r.
  case midpoint
  /// ((e^{−(1+η)h} − 1)/((1+η)h) + 1)·(m_i − m_{i−1})/r: the exponential integrator's φ₂ form.
  case heun
}

/// UniPC's B(h) (Zhao et al. 2023, §3.3).
public enum UniPCVariant: String, Sendable, Hashable, Codable, CaseIterable {
  /// B(h) = h.
  case bh1
  /// B(h) = e^h − 1.
  case bh2
}

/// The rows `rows` of a configuration's given starting points, checked against it; nil when it
/// draws them from the prior.
func startingRows(_ configuration: SamplingConfiguration, initial: StateBatch?, rows: Range<Int>) throws -> StateBatch? {
  guard let initial else {
    if let path = configuration.initial {
      throw DiffusionError.invalidSetting(
        "the configuration starts from \(path); pass its rows as runSampler's initial (sdekit sample reads the file)")
    }
    return nil
  }
  let d = configuration.target.mixture.dimension
  guard initial.dimension == d, initial.count == configuration.count else {
    throw DiffusionError.dimensionMismatch(
      "the initial points are \(initial.count) × \(initial.dimension); the run needs \(configuration.count) × \(d) (count × the target's dimension)")
  }
  guard rows.upperBound <= initial.count else {
    throw DiffusionError.invalidSetting("sample rows \(rows) lie beyond the \(initial.count) initial points")
  }
  return initial.rows(rows)
}
