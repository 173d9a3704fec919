import ScoreModels
import SDEKit

/// DDPM ancestral sampling (Ho et al. 2020, Algorithm 2), on any variance-preserving process and
/// on the discrete chain itself.
///
/// Stochastic, first order; one score evaluation per step. From t to t′ < t with ᾱ = a(t)²,
/// ᾱ′ = a(t′)² (on `--sde ddpm` the chain's own ᾱ_i; with every step of the chain α = 1 − β_i):
///
/// ```
/// α = ᾱ/ᾱ′,  β = 1 − α
/// x′ = (x + β ∇log p_t(x)) / √α + σ z,   σ² = β  or  β̃ = β (1 − ᾱ′)/(1 − ᾱ)
/// ```
///
/// (ε̂ = −√(1 − ᾱ) ∇log p_t turns Ho et al.'s (x − β/√(1 − ᾱ) ε̂)/√α into this.) The last step
/// adds no noise; z is the step's Brownian increment over √|h|, so DDPM can run on a shared path.
public struct DDPMAncestral: DiffusionSampler {
  /// σ_i² = β_i (true) or the posterior variance β̃_i (false).
  public var usesBeta: Bool

  public init(usesBeta: Bool = true) { self.usesBeta = usesBeta }

  public func makeWorkspace(rows: Int, dimension: Int) -> ScoreBuffer { ScoreBuffer(rows: rows, dimension: dimension) }

  public func step<P: DiffusionProcess, S: ScoreModel, B: BrownianSource>(
    _ x: MutableBatchView, over step: GridStep, model: SamplerModel<P, S>, noise: SamplerNoise<B>,
    workspace: inout ScoreBuffer
  ) {
    let alphaBar = square(model.a(step.t)), alphaBarNext = square(model.a(step.next))
    let alpha = alphaBar / alphaBarNext, beta = 1 - alpha
    let variance = usesBeta ? beta : beta * (1 - alphaBarNext) / (1 - alphaBar)
    let inverseRoot = 1 / alpha.squareRoot()
    model.score(x.view, t: step.t, into: workspace.gradient)
    let sigma = step.isLast ? 0 : variance.squareRoot()
    linearUpdate(x, m: inverseRoot, v: beta * inverseRoot, gradient: workspace.gradient.view, sigma: sigma,
                 noise: sigma == 0 ? nil : noise.standardNormals(over: step))
  }
}

@inline(__always) func square(_ v: Double) -> Double { v * v }
