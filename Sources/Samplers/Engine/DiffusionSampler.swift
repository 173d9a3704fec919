import ScoreModels
import SDEKit

/// A diffusion sampler that is not a plain SDE or ODE solver: an algorithm that walks samples
/// from the prior at T towards the data over a time grid with a score model (DDPM ancestral
/// sampling, DDIM, predictor–corrector, Langevin dynamics, and the exponential-integrator and
/// multistep samplers). It holds its settings only; what it keeps between steps — buffers, the
/// model's earlier outputs — lives in its `Workspace`, made once per tile of rows by the driver.
///
/// A step reads the process through `model` (a(t), s(t), σ(t) = s/a, λ(t) = log(a/s)), evaluates
/// the score through it (each call counted) and draws its noise from `noise` (named streams keyed
/// by the sample row), so the result is bit-identical for any batch split or thread count.
public protocol DiffusionSampler: Sendable {
  associatedtype Workspace
  /// Buffers (and history) for a tile of `rows` rows.
  func makeWorkspace(rows: Int, dimension: Int) -> Workspace
  /// Advances `x` over `step` in place.
  func step<P: DiffusionProcess, S: ScoreModel, B: BrownianSource>(
    _ x: MutableBatchView, over step: GridStep, model: SamplerModel<P, S>, noise: SamplerNoise<B>,
    workspace: inout Workspace)
}

/// The process and score model as a sampler's step sees them; every score evaluation is counted.
public struct SamplerModel<P: DiffusionProcess, S: ScoreModel> {
  public let process: P
  public let score: S
  let tally: Tally

  /// A model whose evaluations start from zero.
  public init(process: P, score: S) { self.init(process: process, score: score, tally: Tally()) }

  init(process: P, score: S, tally: Tally) {
    self.process = process
    self.score = score
    self.tally = tally
  }

  /// Score evaluations made through this model so far.
  public var evaluations: Int { tally.evaluations }

  /// Calls made on a tile's rows, by the tile's stepper.
  final class Tally {
    var evaluations = 0
  }

  /// a(t): x_t = a(t)x₀ + s(t)n.
  @inlinable public func a(_ t: Double) -> Double { process.meanCoefficient(t) }
  /// s(t).
  @inlinable public func s(_ t: Double) -> Double { process.standardDeviation(t) }
  /// σ(t) = s(t)/a(t).
  @inlinable public func sigma(_ t: Double) -> Double { process.noiseLevel(t) }
  /// λ(t) = log(a(t)/s(t)).
  @inlinable public func lambda(_ t: Double) -> Double { process.halfLogSNR(t) }

  /// ∇log p_t(x) for every row, one counted evaluation.
  public func score(_ x: BatchView, t: Double, into output: MutableBatchView) {
    tally.evaluations += 1
    score.score(x, t: t, into: output)
  }

  /// The data prediction E[x₀ | x_t = x] = (x + s² ∇log p_t(x))/a (Tweedie, or the model's
  /// own `dataPrediction`, which also serves a = 0), one counted evaluation.
  public func denoised(_ x: BatchView, t: Double, into output: MutableBatchView) {
    tally.evaluations += 1
    score.dataPrediction(x, t: t, a: a(t), s: s(t), into: output)
  }
}

/// Where a sampler's step draws its noise: the Brownian source for the step's own noise (so a
/// sampler can run on a path shared with others), and the named corrector stream.
public struct SamplerNoise<B: BrownianSource> {
  public let brownian: B
  public let seed: UInt64
  /// The tile's rows as sample indices.
  public let samples: Range<Int>
  public let dimension: Int
  /// The buffer the draws go to (`samples.count × dimension`).
  let buffer: UnsafeMutableBufferPointer<Double>

  /// The step's standard normals ΔW/√|h| from the Brownian source, one per state element.
  public func standardNormals(over step: GridStep) -> BatchView {
    brownian.fillStandardNormals(rows: samples, width: dimension, step: step, into: buffer.baseAddress!)
    return BatchView(UnsafeBufferPointer(buffer), dimension: dimension)
  }

  /// Standard normals from the named stream `stream`, one per state element.
  public func normals(_ stream: NoiseStream) -> BatchView {
    NormalSource(seed: seed).fill(rows: samples, stream: stream, count: dimension, scale: 1,
                                  into: buffer.baseAddress!)
    return BatchView(UnsafeBufferPointer(buffer), dimension: dimension)
  }
}

/// A diffusion sampler bound to its process, score model and noise: what the driver runs.
struct SamplerMethod<D: DiffusionSampler, P: DiffusionProcess, S: ScoreModel, B: BrownianSource>: GridMethod {
  let sampler: D
  let process: P
  let score: S
  let brownian: B
  let seed: UInt64

  func makeStepper(samples: Range<Int>, dimension: Int) -> SamplerStepper<D, P, S, B> {
    SamplerStepper(sampler: sampler,
                   model: SamplerModel(process: process, score: score, tally: .init()),
                   noise: SamplerNoise(brownian: brownian, seed: seed, samples: samples, dimension: dimension,
                                       buffer: VectorMath.allocateAligned(zeros: samples.count * dimension)),
                   workspace: sampler.makeWorkspace(rows: samples.count, dimension: dimension),
                   owner: BufferOwner())
  }
}

struct SamplerStepper<D: DiffusionSampler, P: DiffusionProcess, S: ScoreModel, B: BrownianSource>: GridStepper {
  let sampler: D
  let model: SamplerModel<P, S>
  let noise: SamplerNoise<B>
  var workspace: D.Workspace
  /// Frees the noise buffer with the stepper.
  let owner: BufferOwner

  init(sampler: D, model: SamplerModel<P, S>, noise: SamplerNoise<B>, workspace: D.Workspace, owner: BufferOwner) {
    self.sampler = sampler
    self.model = model
    self.noise = noise
    self.workspace = workspace
    self.owner = owner
    owner.buffers.append(noise.buffer)
  }

  var evaluations: EvaluationCount { EvaluationCount(drift: model.tally.evaluations) }

  mutating func advance(_ x: MutableBatchView, over step: GridStep) {
    sampler.step(x, over: step, model: model, noise: noise, workspace: &workspace)
  }
}

/// Buffers freed when their owner goes: a sampler's workspace holds one per named buffer.
public final class BufferOwner {
  var buffers: [UnsafeMutableBufferPointer<Double>] = []

  public init() {}

  /// A zeroed, 64-byte aligned `rows × dimension` buffer that lives as long as this owner.
  public func buffer(rows: Int, dimension: Int) -> MutableBatchView {
    let buffer = VectorMath.allocateAligned(zeros: rows * dimension)
    buffers.append(buffer)
    return MutableBatchView(buffer, dimension: dimension)
  }

  deinit { for buffer in buffers { buffer.deallocate() } }
}
