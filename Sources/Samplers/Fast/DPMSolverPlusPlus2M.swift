import Foundation
import ScoreModels
import SDEKit

/// DPM-Solver++(2M) (Lu et al. 2022b, Algorithm 2): the multistep second-order exponential
/// integrator of the probability-flow ODE in data prediction; k-diffusion's `sample_dpmpp_2m`
/// and diffusers' `DPMSolverMultistepScheduler` (dpmsolver++, order 2, midpoint).
///
/// Deterministic, second order, one evaluation per step. From t to t′, h = λ′ − λ, with the
/// previous prediction m_{i−1} and r = h_{i−1}/h:
///
/// ```
/// x′ = (s′/s) x − a′ (e^{−h} − 1) [(1 + 1/(2r)) m_i − (1/(2r)) m_{i−1}]
/// ```
///
/// The first step is first order (no earlier prediction), and so is a step to σ′ = 0 (it returns
/// a′·m_i, the data prediction). With `lowerOrderFinal` (the default, diffusers'
/// `lower_order_final`) the last step of a grid of fewer than 15 steps is first order too.
/// Starts at σ = ∞ (a = 0): the first step's e^{−h} = 0 and the next step's 1/r = 0.
public struct DPMSolverPlusPlus2M: DiffusionSampler {
  public var lowerOrderFinal: Bool

  public init(lowerOrderFinal: Bool = true) { self.lowerOrderFinal = lowerOrderFinal }

  public func makeWorkspace(rows: Int, dimension: Int) -> MultistepHistory {
    MultistepHistory(rows: rows, dimension: dimension, depth: 1)
  }

  public func step<P: DiffusionProcess, S: ScoreModel, B: BrownianSource>(
    _ x: MutableBatchView, over step: GridStep, model: SamplerModel<P, S>, noise: SamplerNoise<B>,
    workspace history: inout MultistepHistory
  ) {
    let level = model.level(step.t), next = model.level(step.next)
    model.denoised(x.view, t: step.t, into: history.denoised)
    let h = next.lambda - level.lambda
    let lowered = lowerOrderFinal && step.isLast && step.count < 15
    if history.count == 0 || next.s == 0 || lowered {
      firstOrderStep(x, denoised: history.denoised.view, from: level, to: next)
    } else {
      let ratio = next.s / level.s, weight = -next.a * expm1(-h)
      let halfInverseR = 0.5 * h / history.previousStepSizes[0]
      let xv = x.values, m = history.denoised.values, previous = history.previousDenoised[0].values
      for e in 0..<xv.count {
        xv[e] = ratio * xv[e] + weight * ((1 + halfInverseR) * m[e] - halfInverseR * previous[e])
      }
    }
    history.push(stepSize: h)
  }
}
