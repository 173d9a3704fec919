import Foundation
import ScoreModels
import SDEKit

/// DPM-Solver-3 (Lu et al. 2022, Algorithm 2 with r₁ = ⅓, r₂ = ⅔): the single-step third-order
/// exponential integrator of the probability-flow ODE in noise prediction ε̂ = (x − a m)/s.
///
/// Deterministic, third order, three evaluations per step (one on a step to σ′ = 0, which
/// returns the data prediction a′·m). From t to t′, h = λ′ − λ, intermediate times u₁, u₂ at
/// λ + r₁h and λ + r₂h (their times from the process's inverse of σ; r_k as reached):
///
/// ```
/// ε₀ = ε̂(x, t)
/// x₁ = (a₁/a) x − s₁ (e^{r₁h} − 1) ε₀
/// D₁ = ε̂(x₁, u₁) − ε₀
/// x₂ = (a₂/a) x − s₂ (e^{r₂h} − 1) ε₀ − (s₂ r₂/r₁) ((e^{r₂h} − 1)/(r₂h) − 1) D₁
/// D₂ = ε̂(x₂, u₂) − ε₀
/// x′ = (a′/a) x − s′ (e^h − 1) ε₀ − (s′/r₂) ((e^h − 1)/h − 1) D₂
/// ```
///
/// Needs a finite σ at the first grid time.
public struct DPMSolver3: DiffusionSampler {
  public init() {}

  public struct Workspace {
    /// ε̂ at the step's start (first its data prediction).
    public let startNoise: MutableBatchView
    /// D₁ = ε̂(x₁, u₁) − ε₀.
    public let firstDifference: MutableBatchView
    /// The intermediate state x₁, then x₂.
    public let stage: MutableBatchView
    /// The data prediction at the intermediate state.
    public let stageDenoised: MutableBatchView
    let owner = BufferOwner()

    init(rows: Int, dimension: Int) {
      startNoise = owner.buffer(rows: rows, dimension: dimension)
      firstDifference = owner.buffer(rows: rows, dimension: dimension)
      stage = owner.buffer(rows: rows, dimension: dimension)
      stageDenoised = owner.buffer(rows: rows, dimension: dimension)
    }
  }

  public func makeWorkspace(rows: Int, dimension: Int) -> Workspace { Workspace(rows: rows, dimension: dimension) }

  public func step<P: DiffusionProcess, S: ScoreModel, B: BrownianSource>(
    _ x: MutableBatchView, over step: GridStep, model: SamplerModel<P, S>, noise: SamplerNoise<B>,
    workspace: inout Workspace
  ) {
    let level = model.level(step.t), next = model.level(step.next)
    model.denoised(x.view, t: step.t, into: workspace.startNoise)
    guard next.s != 0 else { return firstOrderStep(x, denoised: workspace.startNoise.view, from: level, to: next) }
    let h = next.lambda - level.lambda
    let first = model.level(atNoiseLevel: level.sigma * exp(-h / 3))
    let second = model.level(atNoiseLevel: level.sigma * exp(-2 * h / 3))
    let r1 = (first.lambda - level.lambda) / h, r2 = (second.lambda - level.lambda) / h
    let xv = x.values, noise0 = workspace.startNoise.values, stage = workspace.stage.values
    let m = workspace.stageDenoised.values, difference = workspace.firstDifference.values

    let toFirst = first.a / level.a, firstWeight = first.s * expm1(r1 * h)
    for e in 0..<xv.count {
      noise0[e] = (xv[e] - level.a * noise0[e]) / level.s
      stage[e] = toFirst * xv[e] - firstWeight * noise0[e]
    }
    model.denoised(workspace.stage.view, t: first.t, into: workspace.stageDenoised)
    let toSecond = second.a / level.a, secondWeight = second.s * expm1(r2 * h)
    let differenceWeight = second.s * r2 / r1 * (expm1(r2 * h) / (r2 * h) - 1)
    for e in 0..<xv.count {
      difference[e] = (stage[e] - first.a * m[e]) / first.s - noise0[e]
      stage[e] = toSecond * xv[e] - secondWeight * noise0[e] - differenceWeight * difference[e]
    }
    model.denoised(workspace.stage.view, t: second.t, into: workspace.stageDenoised)
    let toNext = next.a / level.a, nextWeight = next.s * expm1(h)
    let finalWeight = next.s / r2 * (expm1(h) / h - 1)
    for e in 0..<xv.count {
      let secondDifference = (stage[e] - second.a * m[e]) / second.s - noise0[e]
      xv[e] = toNext * xv[e] - nextWeight * noise0[e] - finalWeight * secondDifference
    }
  }
}
