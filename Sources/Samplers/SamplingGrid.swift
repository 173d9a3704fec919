import Foundation
import ScoreModels

/// Where a grid's last step goes.
public enum FinalStep: String, Sendable, Hashable, Codable, CaseIterable {
  /// The grid ends at ε (the process's stopping time); every grid time but the last is evaluated.
  case none
  /// The N steps are N − 1 steps from T to ε and one more from ε to σ = 0 (t = 0): the last step
  /// returns the model's data prediction at ε (k-diffusion's appended zero, diffusers'
  /// `final_sigmas_type = "zero"`). Needs σ(0) = 0, which every built-in process but ve has.
  case zero
}

/// diffusers' rules for which integer timesteps of the DDPM chain a scheduler visits
/// (`timestep_spacing`), with N train steps and n sampling steps. On `flow`, `linspace` is the
/// flow-matching schedulers' grid.
public enum TimestepSpacing: String, Sendable, Hashable, Codable, CaseIterable {
  /// DPMSolverMultistep, UniPC: round(i·(N − 1)/n), i = n … 1 (the 0 dropped). DDIM: round(i·(N − 1)/(n − 1)),
  /// i = n − 1 … 0. Rounding half to even, as numpy.
  case linspace
  /// DPMSolverMultistep, UniPC: i·⌊N/(n + 1)⌋, i = n … 1. DDIM: i·⌊N/n⌋, i = n − 1 … 0.
  case leading
  /// round(N − i·N/n) − 1, i = 0 … n − 1 (every scheduler).
  case trailing
}

/// How a sampler's N steps are placed: the kind of grid over [ε, T] (uniform in t, quadratic,
/// uniform in λ, Karras's σ^{1/ρ}), where the last step goes, or diffusers' own timesteps.
public struct SamplingGrid: Sendable, Hashable, Codable {
  public var kind: TimeGridKind
  /// Karras's ρ (used by `.karras` only).
  public var rho: Double
  /// nil: `.zero` with a timestep spacing (diffusers' default), else `.none`.
  public var finalStep: FinalStep?
  /// diffusers' timesteps instead of `kind` (the DDPM chain and flow only).
  public var timestepSpacing: TimestepSpacing?
  /// With a timestep spacing: DDIMScheduler's rules rather than the multistep schedulers' ones.
  public var ddimTimesteps: Bool

  public init(kind: TimeGridKind = .uniform, rho: Double = 7, finalStep: FinalStep? = nil,
              timestepSpacing: TimestepSpacing? = nil, ddimTimesteps: Bool = false) {
    self.kind = kind
    self.rho = rho
    self.finalStep = finalStep
    self.timestepSpacing = timestepSpacing
    self.ddimTimesteps = ddimTimesteps
  }

  /// The final step in effect.
  public var resolvedFinalStep: FinalStep { finalStep ?? (timestepSpacing == nil ? .none : .zero) }

  /// The N + 1 times of `steps` steps from T (or diffusers' first timestep) down to ε or 0.
  ///
  /// - Throws: `DiffusionError.invalidSetting` naming the bad value: ρ ≤ 0, a spacing on a process
  ///   without integer timesteps, a final σ = 0 on a process whose σ(0) is not 0.
  public func times<P: DiffusionProcess>(process: P, steps: Int, epsilon: Double) throws -> [Double] {
    guard steps >= 1 else { throw DiffusionError.invalidSetting("steps must be at least 1, got \(steps)") }
    guard rho > 0, rho.isFinite else {
      throw DiffusionError.invalidSetting("--rho must be positive and finite, got \(rho)")
    }
    let final = resolvedFinalStep
    if final == .zero, process.standardDeviation(0) != 0 {
      throw DiffusionError.invalidSetting(
        "--final-step zero needs σ(0) = 0; \(process.name) has σ(0) = \(process.noiseLevel(0)) (use --final-step none, or --denoise for a last Tweedie step)")
    }
    if let spacing = timestepSpacing { return try diffusersTimes(spacing, process: process, steps: steps, final: final) }
    // With a final zero, N − 1 steps cover [ε, T] and the N-th goes to 0 (unless ε is already
    // at σ = 0, as the DDPM chain's default ε = 0: then the grid is the same either way).
    let zero = final == .zero && process.standardDeviation(epsilon) != 0
    let covering = zero ? steps - 1 : steps
    var times = covering == 0 ? [process.T] : try coveringTimes(process: process, steps: covering, epsilon: epsilon)
    if zero { times.append(0) }
    return times
  }

  /// `steps` steps from T to ε of `kind`.
  private func coveringTimes<P: DiffusionProcess>(process: P, steps: Int, epsilon: Double) throws -> [Double] {
    if kind == .karras || kind == .logsnr, !process.noiseLevel(process.T).isFinite {
      throw DiffusionError.invalidSetting(
        "--grid \(kind.rawValue) needs a finite σ(T); \(process.name) has σ(T) = ∞ (a(T) = 0): use --grid uniform or quadratic, or --timestep-spacing")
    }
    if kind == .karras || kind == .logsnr, process.noiseLevel(epsilon) == 0 {
      // Karras's σ_min^{1/ρ} = 0 puts the last interior σ within 1e-7 of 0, which the DDPM chain
      // reads as its data (t = 0); λ(ε) = ∞ has no uniform grid.
      throw DiffusionError.invalidSetting(
        "--grid \(kind.rawValue) needs σ(ε) > 0; \(process.name) has σ = 0 at ε = \(epsilon): give --epsilon above 0 (on the ddpm chain 0.001 is its first step), or --timestep-spacing")
    }
    guard kind == .karras else { return kind.times(process: process, steps: steps, epsilon: epsilon) }
    // Karras et al. (2022), eq. 5, as k-diffusion's get_sigmas_karras: σ_i = (σ_max^{1/ρ} +
    // i/(n − 1)(σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ over n = steps + 1 points, each mapped to its time;
    // the ends are T and ε themselves.
    let high = pow(process.noiseLevel(process.T), 1 / rho), low = pow(process.noiseLevel(epsilon), 1 / rho)
    return (0...steps).map { i in
      if i == 0 { return process.T }
      if i == steps { return epsilon }
      return process.time(ofNoiseLevel: pow(high + Double(i) / Double(steps) * (low - high), rho))
    }
  }

  /// diffusers' timesteps (PARITY_NOTES.md §2.2, §2.5, §3.1).
  private func diffusersTimes<P: DiffusionProcess>(_ spacing: TimestepSpacing, process: P, steps n: Int,
                                                   final: FinalStep) throws -> [Double] {
    if let chain = process as? DDPMChain {
      let N = chain.schedule.steps
      let timesteps = ddimTimesteps ? Self.ddimTimesteps(spacing, steps: n, trainSteps: N)
                                    : Self.multistepTimesteps(spacing, steps: n, trainSteps: N)
      guard timesteps.allSatisfy({ (0..<N).contains($0) }), zip(timesteps, timesteps.dropFirst()).allSatisfy({ $0 > $1 })
      else {
        throw DiffusionError.invalidSetting(
          "--timestep-spacing \(spacing.rawValue) with \(n) steps of a \(N)-step chain repeats or leaves timesteps: use at most \(N / 2) steps")
      }
      var times = timesteps.map { chain.schedule.time(ofStep: $0) }
      if ddimTimesteps {
        // DDIMScheduler's set_alpha_to_one: from the last timestep to ᾱ = 1, the data, at t = 0.
        guard finalStep != FinalStep.none else {
          throw DiffusionError.invalidSetting(
            "--final-step none does not apply to ddim with --timestep-spacing: diffusers' DDIM always ends at ᾱ = 1 (t = 0)")
        }
        times.append(0)
      } else if final == .zero {
        times.append(0)
      } else if timesteps.last != 0 {
        // final_sigmas_type = "sigma_min": the last step ends at timestep 0.
        times.append(chain.schedule.time(ofStep: 0))
      }
      return times
    }
    if let flow = process as? FlowMatchingProcess {
      guard spacing == .linspace else {
        throw DiffusionError.invalidSetting(
          "--timestep-spacing \(spacing.rawValue) does not apply to flow; diffusers' flow-matching schedulers use linspace")
      }
      guard final == .zero else {
        throw DiffusionError.invalidSetting("--final-step none does not apply to flow with --timestep-spacing: diffusers' flow-matching schedulers end at σ = 0")
      }
      return Self.flowMatchingTimes(steps: n, shift: flow.shift) + [0]
    }
    throw DiffusionError.invalidSetting(
      "--timestep-spacing applies to the ddpm chain and flow; got \(process.name)")
  }

  /// DPMSolverMultistepScheduler's and UniPCMultistepScheduler's n timesteps of an N-step chain.
  static func multistepTimesteps(_ spacing: TimestepSpacing, steps n: Int, trainSteps N: Int) -> [Int] {
    switch spacing {
    case .linspace:
      // numpy's linspace(0, N − 1, n + 1): i·step with step = (N − 1)/n, the last exactly N − 1.
      let step = Double(N - 1) / Double(n)
      return (1...n).reversed().map { i in i == n ? N - 1 : Int((Double(i) * step).rounded(.toNearestOrEven)) }
    case .leading:
      return (1...n).reversed().map { $0 * (N / (n + 1)) }
    case .trailing:
      return trailing(steps: n, trainSteps: N)
    }
  }

  /// DDIMScheduler's n timesteps (its set_timesteps, steps_offset = 0).
  static func ddimTimesteps(_ spacing: TimestepSpacing, steps n: Int, trainSteps N: Int) -> [Int] {
    switch spacing {
    case .linspace:
      guard n > 1 else { return [0] }
      let step = Double(N - 1) / Double(n - 1)
      return (0..<n).reversed().map { i in i == n - 1 ? N - 1 : Int((Double(i) * step).rounded(.toNearestOrEven)) }
    case .leading:
      return (0..<n).reversed().map { $0 * (N / n) }
    case .trailing:
      return trailing(steps: n, trainSteps: N)
    }
  }

  /// round(N − i·N/n) − 1 for i = 0 … n − 1 (numpy's arange(N, 0, −N/n); for some n, such as 61
  /// of 1000, numpy's arange yields n + 1 values and diffusers then takes n + 1 steps; here
  /// always n).
  static func trailing(steps n: Int, trainSteps N: Int) -> [Int] {
    let step = -Double(N) / Double(n)
    return (0..<n).map { i in Int((Double(N) + Double(i) * step).rounded(.toNearestOrEven)) - 1 }
  }

  /// FlowMatchEulerDiscreteScheduler's and FlowMatchHeunDiscreteScheduler's n times (before the
  /// appended 0), in the process's unshifted time u: numpy's linspace from 1 to u_min = shift(1/1000)
  /// — the shift applied to the training grid's lowest time — which the process then shifts again,
  /// so the lowest σ is shift(shift(1/1000)) (PARITY_NOTES.md §3.1; diffusers computes u_min in
  /// float32, here in float64).
  static func flowMatchingTimes(steps n: Int, shift: Double, trainSteps N: Int = 1000) -> [Double] {
    let lowest = 1 / Double(N)
    let uMin = shift * lowest / (1 + (shift - 1) * lowest)
    let (start, stop) = (Double(N), Double(N) * uMin)
    guard n > 1 else { return [start / Double(N)] }
    let step = (stop - start) / Double(n - 1)
    return (0..<n).map { i in (i == n - 1 ? stop : start + Double(i) * step) / Double(N) }
  }
}
