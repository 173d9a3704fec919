import ScoreModels
import SDEKit

/// DDIM (Song, Meng & Ermon 2021, eq. 12) on any variance-preserving process and on the DDPM
/// chain (with its own ᾱ_i).
///
/// Deterministic for η = 0 (then the probability-flow ODE's first-order exponential
/// integrator), stochastic for η > 0 (η = 1: DDPM-like); first order; one score evaluation per
/// step. With ᾱ = a(t)², ᾱ′ = a(t′)², ε̂ = −√(1 − ᾱ) ∇log p_t:
///
/// ```
/// x̂₀ = (x − √(1 − ᾱ) ε̂)/√ᾱ
/// σ = η √((1 − ᾱ′)/(1 − ᾱ)) √(1 − ᾱ/ᾱ′)
/// x′ = √ᾱ′ x̂₀ + √(1 − ᾱ′ − σ²) ε̂ + σ z
///    = (√ᾱ′/√ᾱ) x + (√ᾱ′ (1 − ᾱ)/√ᾱ − √(1 − ᾱ′ − σ²) √(1 − ᾱ)) ∇log p_t + σ z
/// ```
public struct DDIM: DiffusionSampler {
  /// η ∈ [0, 1].
  public var eta: Double

  public init(eta: Double = 0) { self.eta = eta }

  public func makeWorkspace(rows: Int, dimension: Int) -> ScoreBuffer { ScoreBuffer(rows: rows, dimension: dimension) }

  public func step<P: DiffusionProcess, S: ScoreModel, B: BrownianSource>(
    _ x: MutableBatchView, over step: GridStep, model: SamplerModel<P, S>, noise: SamplerNoise<B>,
    workspace: inout ScoreBuffer
  ) {
    let alphaBar = square(model.a(step.t)), alphaBarNext = square(model.a(step.next))
    let sigma = eta * ((1 - alphaBarNext) / (1 - alphaBar) * (1 - alphaBar / alphaBarNext)).squareRoot()
    let ratio = (alphaBarNext / alphaBar).squareRoot()
    let direction = max(0, 1 - alphaBarNext - sigma * sigma).squareRoot()
    model.score(x.view, t: step.t, into: workspace.gradient)
    linearUpdate(x, m: ratio, v: ratio * (1 - alphaBar) - direction * (1 - alphaBar).squareRoot(),
                 gradient: workspace.gradient.view, sigma: sigma,
                 noise: sigma == 0 ? nil : noise.standardNormals(over: step))
  }
}
