import Foundation

/// The β and ᾱ of a discrete DDPM chain (Ho et al. 2020): q(x_i | x_{i−1}) = N(√(1 − β_i) x_{i−1},
/// β_i I), i = 0 … N − 1, so x_i | x₀ ~ N(√ᾱ_i x₀, (1 − ᾱ_i) I) with ᾱ_i = ∏_{j ≤ i} (1 − β_j).
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

  /// The schedule of `kind` over `steps` steps.
  public static func make(_ kind: Kind, steps: Int = 1000) -> DDPMSchedule {
    switch kind {
    case .linear: .linear(steps: steps)
    case .cosine: .cosine(steps: steps)
    }
  }

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

/// The discrete DDPM chain as a process: step i sits at time t_i = (i + 1)/N with a(t_i)² = ᾱ_i
/// exactly, and the data x₀ at t = 0 (ᾱ = 1). Every sampler that reads a(t) and s(t) — DDPM's
/// Algorithm 2, DDIM, the exact mixture score — therefore uses the chain's own ᾱ_i, not a
/// continuous schedule's.
///
/// Between the steps log ᾱ is linear in t, so the chain is also an SDE of the VP form: on
/// (t_{i−1}, t_i], β(t) = −N log(1 − β_i) (constant), dx = −½β x dt + √β dW, whose marginals
/// match the chain's at every t_i. The reverse-time SDE and the probability-flow ODE of that
/// process are what the SDE and ODE samplers integrate on `--sde ddpm`.
///
/// A learned network receives the step index i = N t − 1 as its time (diffusers' convention;
/// `networkTime`). T = 1 (i = N − 1), ε = 0 (the data): Ho et al.'s last step, from i = 0 to
/// x₀, adds no noise.
public struct DDPMChain: DiffusionProcess {
  public let schedule: DDPMSchedule
  /// log ᾱ_i, i = 0 … N − 1.
  let logAlphaBars: [Double]

  public init(schedule: DDPMSchedule = .linear()) {
    self.schedule = schedule
    var sum = 0.0
    logAlphaBars = schedule.betas.map { beta in
      sum += Foundation.log1p(-beta)
      return sum
    }
  }

  public var name: String { "ddpm" }
  public var T: Double { 1 }
  public var defaultEpsilon: Double { 0 }
  public var priorStandardDeviation: Double { 1 }
  var steps: Int { schedule.steps }

  /// Where t lies: step i and how far along (t − t_{i−1})·N ∈ (0, 1] on (t_{i−1}, t_i], with
  /// t_{−1} = 0; times within 1e-9 steps of t_i are t_i.
  private func place(_ t: Double) -> (step: Int, fraction: Double) {
    let position = t * Double(steps)
    let nearest = position.rounded()
    if abs(position - nearest) <= 1e-9 * max(1, nearest) {
      return (min(max(Int(nearest) - 1, -1), steps - 1), 1)
    }
    let step = min(max(Int(position.rounded(.up)) - 1, 0), steps - 1)
    return (step, position - Double(step))
  }

  /// log ᾱ(t): the chain's at the steps, linear in between, 0 at t = 0.
  public func logAlphaBar(_ t: Double) -> Double {
    let (step, fraction) = place(t)
    guard step >= 0 else { return 0 }
    let before = step == 0 ? 0 : logAlphaBars[step - 1]
    return fraction == 1 ? logAlphaBars[step] : before + fraction * (logAlphaBars[step] - before)
  }

  /// β(t) = −d log ᾱ/dt on the step containing t (the later step's at a step time, so a
  /// reverse step from t_i uses β_i).
  public func beta(_ t: Double) -> Double {
    let step = max(0, place(t).step)
    return -Double(steps) * Foundation.log1p(-schedule.betas[step])
  }

  public func driftRate(_ t: Double) -> Double { -0.5 * beta(t) }
  public func diffusion(_ t: Double) -> Double { beta(t).squareRoot() }
  public func meanCoefficient(_ t: Double) -> Double {
    let (step, fraction) = place(t)
    if step >= 0, fraction == 1 { return schedule.alphaBars[step].squareRoot() }
    return Foundation.exp(0.5 * logAlphaBar(t))
  }
  public func standardDeviation(_ t: Double) -> Double {
    let (step, fraction) = place(t)
    if step >= 0, fraction == 1 { return (1 - schedule.alphaBars[step]).squareRoot() }
    return (-Foundation.expm1(logAlphaBar(t))).squareRoot()
  }

  /// The step index i = N t − 1.
  public func networkTime(_ t: Double) -> Double { t * Double(steps) - 1 }

  /// Throws unless 0 ≤ ε < T: the chain's data at ε = 0 is a valid end.
  public func validate(epsilon: Double) throws {
    guard epsilon >= 0, epsilon < T else {
      throw DiffusionError.invalidSetting("ε must satisfy 0 ≤ ε < T = \(T) for the DDPM chain, got \(epsilon)")
    }
  }
}
