import ScoreModels
import SDEKit

/// The predictor of the predictor–corrector sampler (Song et al. 2021, Appendix F and G).
public enum PCPredictor: String, Sendable, Hashable, Codable, CaseIterable {
  /// An Euler–Maruyama step of the reverse SDE.
  case eulerMaruyama = "euler-maruyama"
  /// The reverse of the forward chain's discretisation from t′ to t:
  /// x′ = x − (a_t/a_t′ − 1)x + G² s_θ + G z, G² = s_t² − (a_t/a_t′)² s_t′².
  case reverseDiffusion = "reverse-diffusion"
  /// Ancestral sampling: DDPM's step for a process with drift, SMLD's
  /// x′ = x + (σ_t² − σ_t′²) s_θ + √(σ_t′²(σ_t² − σ_t′²)/σ_t²) z when a ≡ 1 (VE).
  case ancestral
}

/// The Langevin corrector of Song et al. (2021), Algorithm 4, at one noise level: K steps
/// x ← x + ε ∇log p_t(x) + √(2ε) z with ε = 2 r² s(t)².
///
/// ε = 2 r² s(t)² is score_sde's 2 (r ‖z‖ / ‖s_θ‖)² with the norms replaced by their typical
/// values (for a Gaussian p_t of variance s² the score has norm ≈ ‖z‖/s): the sampled norms
/// would make ε explode for a sample sitting on a mode (‖s_θ‖ → 0), and score_sde's batch
/// averages would tie samples together. Iteration k of step n draws from the stream
/// `.corrector(step: n, iteration: k, iterationsPerStep: K)`.
public struct LangevinCorrector: Sendable, Hashable, Codable {
  /// The signal-to-noise ratio r.
  public var snr: Double
  /// Corrector steps K per noise level.
  public var steps: Int

  public init(snr: Double = 0.16, steps: Int = 1) {
    self.snr = snr
    self.steps = steps
  }

  func correct<P: DiffusionProcess, S: ScoreModel, B: BrownianSource>(
    _ x: MutableBatchView, at step: GridStep, model: SamplerModel<P, S>, noise: SamplerNoise<B>,
    gradient: MutableBatchView
  ) {
    let sd = model.s(step.t)
    let size = 2 * snr * snr * sd * sd
    let root = (2 * size).squareRoot()
    for k in 0..<steps {
      model.score(x.view, t: step.t, into: gradient)
      let z = noise.normals(.corrector(step: step.index, iteration: k, iterationsPerStep: steps)).values
      let xv = x.values, g = gradient.values
      for e in 0..<xv.count { xv[e] += size * g[e] + root * z[e] }
    }
  }
}

/// Predictor–corrector sampling (Song et al. 2021, Algorithms 2 and 3): at each grid time the
/// Langevin corrector, then the chosen predictor to the next time (no noise on the last step).
///
/// Stochastic; (K + 1) score evaluations per step. Every predictor is x′ = m·x + v·∇log p_t + σ z
/// with z the step's Brownian increment over √|h|:
///
/// ```
/// euler-maruyama:    m = 1 + h c(t),  v = −h g(t)²,  σ = g(t) √|h|
/// reverse-diffusion: m = 2 − a_t/a_t′,  v = G²,  σ = G,  G² = s_t² − (a_t/a_t′)² s_t′²
/// ancestral (VE):    m = 1,  v = σ_t² − σ_t′²,  σ² = σ_t′² (σ_t² − σ_t′²)/σ_t²
/// ancestral (VP):    DDPM's step with σ² = β
/// ```
public struct PredictorCorrector: DiffusionSampler {
  public var predictor: PCPredictor
  public var corrector: LangevinCorrector

  public init(predictor: PCPredictor = .reverseDiffusion, corrector: LangevinCorrector = LangevinCorrector()) {
    self.predictor = predictor
    self.corrector = corrector
  }

  public func makeWorkspace(rows: Int, dimension: Int) -> ScoreBuffer { ScoreBuffer(rows: rows, dimension: dimension) }

  public func step<P: DiffusionProcess, S: ScoreModel, B: BrownianSource>(
    _ x: MutableBatchView, over step: GridStep, model: SamplerModel<P, S>, noise: SamplerNoise<B>,
    workspace: inout ScoreBuffer
  ) {
    corrector.correct(x, at: step, model: model, noise: noise, gradient: workspace.gradient)
    let (t, next) = (step.t, step.next)
    model.score(x.view, t: t, into: workspace.gradient)
    let process = model.process
    let (m, v, sigma): (Double, Double, Double)
    let ratio = model.a(t) / model.a(next)
    let (sNow, sNext) = (model.s(t), model.s(next))
    switch predictor {
    case .eulerMaruyama:
      let h = step.h, c = process.driftRate(t), g = process.diffusion(t)
      (m, v, sigma) = (1 + h * c, -h * g * g, g * step.size.squareRoot())
    case .reverseDiffusion:
      let g2 = sNow * sNow - ratio * ratio * sNext * sNext
      (m, v, sigma) = (2 - ratio, g2, g2.squareRoot())
    case .ancestral where process.driftRate(t) == 0:
      let jump = sNow * sNow - sNext * sNext
      (m, v, sigma) = (1, jump, (sNext * sNext * jump / (sNow * sNow)).squareRoot())
    case .ancestral:
      let alpha = ratio * ratio, beta = 1 - alpha
      (m, v, sigma) = (1 / alpha.squareRoot(), beta / alpha.squareRoot(), beta.squareRoot())
    }
    let noisy = !step.isLast
    linearUpdate(x, m: m, v: v, gradient: workspace.gradient.view, sigma: noisy ? sigma : 0,
                 noise: noisy ? noise.standardNormals(over: step) : nil)
  }
}

/// Annealed Langevin dynamics (Song & Ermon 2019, Algorithm 1) over the grid's noise levels:
/// the Langevin corrector alone at each grid time, whose step α_i ∝ σ_i² is the corrector's
/// ε = 2 r² s(t)². Stochastic; K score evaluations per step.
public struct AnnealedLangevin: DiffusionSampler {
  public var corrector: LangevinCorrector

  public init(corrector: LangevinCorrector = LangevinCorrector()) { self.corrector = corrector }

  public func makeWorkspace(rows: Int, dimension: Int) -> ScoreBuffer { ScoreBuffer(rows: rows, dimension: dimension) }

  public func step<P: DiffusionProcess, S: ScoreModel, B: BrownianSource>(
    _ x: MutableBatchView, over step: GridStep, model: SamplerModel<P, S>, noise: SamplerNoise<B>,
    workspace: inout ScoreBuffer
  ) {
    corrector.correct(x, at: step, model: model, noise: noise, gradient: workspace.gradient)
  }
}
