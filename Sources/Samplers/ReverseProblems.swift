import ScoreModels
import SDEKit

/// The drift of the reverse-time SDE, f(x, t) − g(t)² s_θ(x, t) with f = c(t)·x
/// (Anderson 1982; Song et al. 2021, eq. 6). Integrated from T down to ε.
public struct ReverseDrift<P: DiffusionProcess, S: ScoreModel>: Drift {
  public let process: P
  public let score: S

  public init(process: P, score: S) {
    self.process = process
    self.score = score
  }

  public func drift(_ x: BatchView, t: Double, into output: MutableBatchView) {
    let g = process.diffusion(t)
    score.combination(x, t: t, xCoefficient: process.driftRate(t), scoreCoefficient: -(g * g), into: output)
  }
}

/// The additive diffusion g(t) of a process.
public struct ProcessDiffusion<P: DiffusionProcess>: Diffusion {
  public let process: P

  public init(process: P) { self.process = process }
  public var noise: NoiseStructure { .additive }

  public func diffusion(_ x: BatchView, t: Double, into output: MutableBatchView) {
    let g = process.diffusion(t)
    for e in 0..<output.count { output[e] = g }
  }

  public func uniformValue(t: Double) -> Double? { process.diffusion(t) }
}

/// The probability-flow ODE dx/dt = f(x, t) − ½ g(t)² s_θ(x, t) (Song et al. 2021, eq. 13),
/// whose solution from x_T ~ p_T has the marginals of the forward SDE.
public struct ProbabilityFlowField<P: DiffusionProcess, S: ScoreModel>: VectorField {
  public let process: P
  public let score: S

  public init(process: P, score: S) {
    self.process = process
    self.score = score
  }

  public func evaluate(_ y: BatchView, t: Double, into output: MutableBatchView) {
    let g = process.diffusion(t)
    score.combination(y, t: t, xCoefficient: process.driftRate(t), scoreCoefficient: -(0.5 * g * g), into: output)
  }
}

/// The reverse-time SDE from T down to ε as an SDEKit problem.
public func reverseSDE<P: DiffusionProcess, S: ScoreModel>(
  process: P, score: S, initial: StateBatch, epsilon: Double
) -> SDEProblem<ReverseDrift<P, S>, ProcessDiffusion<P>> {
  SDEProblem(drift: ReverseDrift(process: process, score: score), diffusion: ProcessDiffusion(process: process),
             initial: initial, t0: process.T, t1: epsilon)
}

/// The probability-flow ODE from T down to ε as an SDEKit problem.
public func probabilityFlowODE<P: DiffusionProcess, S: ScoreModel>(
  process: P, score: S, initial: StateBatch, epsilon: Double
) -> ODEProblem<ProbabilityFlowField<P, S>> {
  ODEProblem(field: ProbabilityFlowField(process: process, score: score), initial: initial, t0: process.T, t1: epsilon)
}

/// `count` samples of the prior N(0, σ_prior² I) from the stream `.prior`; sample i is a pure
/// function of (seed, firstRow + i).
public func priorSamples<P: DiffusionProcess>(_ process: P, count: Int, dimension: Int, seed: UInt64,
                                              firstRow: Int = 0) -> StateBatch {
  var out = StateBatch(count: count, dimension: dimension)
  let sigma = process.priorStandardDeviation
  out.values.withUnsafeMutableBufferPointer { values in
    NormalSource(seed: seed).fill(rows: firstRow..<(firstRow + count), stream: .prior, count: dimension,
                                  scale: sigma, into: values.baseAddress!)
  }
  return out
}


/// Tweedie's formula: E[x₀ | x_t] = (x + s(t)² ∇log p_t(x)) / a(t), one score evaluation.
public func denoise<P: DiffusionProcess, S: ScoreModel>(_ x: inout StateBatch, process: P, score: S, t: Double) {
  let a = process.meanCoefficient(t), s = process.standardDeviation(t)
  var gradient = StateBatch(count: x.count, dimension: x.dimension)
  x.withView { xv in gradient.withMutableView { score.score(xv, t: t, into: $0) } }
  for e in x.values.indices { x.values[e] = (x.values[e] + s * s * gradient.values[e]) / a }
}
