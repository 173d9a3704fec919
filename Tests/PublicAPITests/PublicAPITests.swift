// The libraries as a user's own package meets them: plain imports, no @testable. Everything
// here must compile and work from outside the modules.
import Foundation
import GSLIntegrators
import Samplers
import ScoreModels
import SDEKit
import Testing

/// A process of the user's own: VP with a constant β = 10 on [0, 1], a(t) = e^{−5t}, so that the
/// prior N(0, I) is within 1 % of p_T.
struct ConstantBetaProcess: DiffusionProcess {
  let beta = 10.0
  var name: String { "constant-beta" }
  var T: Double { 1 }
  var defaultEpsilon: Double { 1e-3 }
  var priorStandardDeviation: Double { 1 }
  func driftRate(_ t: Double) -> Double { -0.5 * beta }
  func diffusion(_ t: Double) -> Double { beta.squareRoot() }
  func meanCoefficient(_ t: Double) -> Double { exp(-0.5 * beta * t) }
  func standardDeviation(_ t: Double) -> Double { (-expm1(-beta * t)).squareRoot() }
}

/// A score of the user's own: data N(μ, σ₀² I), so p_t = N(a μ, (a²σ₀² + s²) I) exactly.
struct GaussianScore<P: DiffusionProcess>: ScoreModel {
  let process: P
  let mean: [Double]
  let deviation: Double
  var dimension: Int { mean.count }

  func score(_ x: BatchView, t: Double, into output: MutableBatchView) {
    let a = process.meanCoefficient(t), s = process.standardDeviation(t)
    let variance = a * a * deviation * deviation + s * s
    for row in 0..<x.rows {
      for j in 0..<x.dimension { output[row, j] = (a * mean[j] - x[row, j]) / variance }
    }
  }
}

/// g = σx per component with its Milstein coefficient (∂g/∂x)·g = σ²x: the derivative hook.
struct ProportionalNoise: Diffusion {
  let sigma: Double
  var noise: NoiseStructure { .diagonal }
  var providesDerivative: Bool { true }
  func diffusion(_ x: BatchView, t: Double, into output: MutableBatchView) {
    for e in x.indices { output[e] = sigma * x[e] }
  }
  func derivativeProduct(_ x: BatchView, t: Double, into output: MutableBatchView) {
    for e in x.indices { output[e] = sigma * sigma * x[e] }
  }
}

struct ProportionalDrift: Drift {
  let rate: Double
  func drift(_ x: BatchView, t: Double, into output: MutableBatchView) {
    for e in x.indices { output[e] = rate * x[e] }
  }
}

/// A sampler of the user's own: deterministic first-order Tweedie steps (DDIM with η = 0, written
/// through the data prediction), with its buffer as a named field.
struct TweedieStep: DiffusionSampler {
  struct Workspace {
    let denoised: MutableBatchView
    let owner = BufferOwner()
    init(rows: Int, dimension: Int) { denoised = owner.buffer(rows: rows, dimension: dimension) }
  }
  func makeWorkspace(rows: Int, dimension: Int) -> Workspace { Workspace(rows: rows, dimension: dimension) }
  func step<P: DiffusionProcess, S: ScoreModel, B: BrownianSource>(
    _ x: MutableBatchView, over step: GridStep, model: SamplerModel<P, S>, noise: SamplerNoise<B>,
    workspace: inout Workspace
  ) {
    model.denoised(x.view, t: step.t, into: workspace.denoised)
    let (a, s) = (model.a(step.t), model.s(step.t)), (a2, s2) = (model.a(step.next), model.s(step.next))
    for e in x.indices {
      let x0 = workspace.denoised[e], epsilon = (x[e] - a * x0) / s
      x[e] = a2 * x0 + s2 * epsilon
    }
  }
}

@Suite("The public API, as a dependent package sees it")
struct PublicAPITests {
  static let process = ConstantBetaProcess()
  static let score = GaussianScore(process: ConstantBetaProcess(), mean: [1.5, -0.5], deviation: 0.4)

  /// 4,000 prior points and a grid of 200 uniform steps from T to ε, both the user's own.
  static func initial() -> StateBatch { priorSamples(process, count: 4000, dimension: 2, seed: 3) }
  static let times: [Double] = uniformTimes(from: 1, to: 1e-3, steps: 200)

  @Test("A custom score under every sampler that supports a custom process; the rest refused naming why",
        arguments: SamplerName.allCases)
  func everySampler(_ sampler: SamplerName) throws {
    var settings = SamplerSettings()
    settings.mode = .perSample
    settings.adaptive = AdaptiveSettings(tolerance: 1e-4)
    guard sampler.descriptor.requirement.isMet(by: Self.process) else {
      #expect(throws: DiffusionError.self) {
        try sample(sampler, settings: settings, process: Self.process, score: Self.score, initial: Self.initial(),
                   times: Self.times)
      }
      return
    }
    let result = try sample(sampler, settings: settings, process: Self.process, score: Self.score,
                            initial: Self.initial(), times: Self.times, seed: 9)
    // p_ε = N(a μ, (a²σ₀² + s²) I). Mean within 5 standard errors plus 0.05 for the step bias
    // (|β h| = 0.05 relative for first-order samplers) and the prior's mismatch (a(T)|μ| ≈ 0.01).
    let a = Self.process.meanCoefficient(1e-3), s = Self.process.standardDeviation(1e-3)
    let deviation = (a * a * 0.16 + s * s).squareRoot()
    for j in 0..<2 {
      let column = (0..<4000).map { result.samples[$0, j] }
      let mean = column.reduce(0, +) / 4000
      #expect(abs(mean - a * Self.score.mean[j]) <= 5 * deviation / 4000.0.squareRoot() + 0.05,
              "\(sampler.name): mean \(mean)")
    }
    #expect(result.nfe > 0)
  }

  @Test("A sampler of one's own runs through the same driver, with the same bits as DDIM (η = 0)")
  func ownSampler() throws {
    let initial = Self.initial()
    let mine = try sample(with: TweedieStep(), process: Self.process, score: Self.score, initial: initial,
                          times: Self.times, brownian: BrownianIncrements(seed: 0))
    let ddim = try sample(.ddim, process: Self.process, score: Self.score, initial: initial, times: Self.times)
    #expect(mine.nfe == 200 && ddim.nfe == 200)
    // Two algebraically equal first-order maps: equal to rounding.
    for e in 0..<mine.samples.values.count {
      #expect(abs(mine.samples.values[e] - ddim.samples.values[e]) <= 1e-12 * max(1, abs(ddim.samples.values[e])))
    }
  }

  @Test("The Milstein derivative hook: a diffusion of one's own gives the built-in GBM's bits, and without the hook Milstein is refused")
  func derivativeHook() throws {
    let initial = StateBatch(count: 500, dimension: 1, repeating: 0.5)
    let mine = SDEProblem(drift: ProportionalDrift(rate: 1.01), diffusion: ProportionalNoise(sigma: 0.87),
                          initial: initial, t0: 0, t1: 1)
    let builtIn = SDEProblem(drift: LinearDrift(rates: [1.01]), diffusion: LinearDiagonalDiffusion(scales: [0.87]),
                             initial: initial, t0: 0, t1: 1)
    let a = try solve(mine, solver: Milstein(), grid: .uniform(steps: 64), seed: 5).final
    let b = try solve(builtIn, solver: Milstein(), grid: .uniform(steps: 64), seed: 5).final
    #expect(a == b)
    let withoutHook = SDEProblem(
      drift: ProportionalDrift(rate: 1.01),
      diffusion: DiffusionFunction(noise: .diagonal) { x, _, out in for e in x.indices { out[e] = 0.87 * x[e] } },
      initial: initial, t0: 0, t1: 1)
    #expect(throws: SolveError.self) { try solve(withoutHook, solver: Milstein(), grid: .uniform(steps: 8), seed: 5) }
  }

  @Test("The reverse SDE and the probability-flow ODE as problems, for any solver")
  func problems() throws {
    let initial = Self.initial()
    let reverse = SDEProblem(drift: ReverseDrift(process: Self.process, score: Self.score),
                             diffusion: ProcessDiffusion(process: Self.process), initial: initial, t0: 1, t1: 1e-3)
    let flow = ODEProblem(field: ProbabilityFlowField(process: Self.process, score: Self.score), initial: initial,
                          t0: 1, t1: 1e-3)
    let viaSDE = try solve(reverse, solver: EulerMaruyama(), grid: .times(Self.times), seed: 9).final
    let viaSampler = try sample(.reverseSDE(.eulerMaruyama), process: Self.process, score: Self.score,
                                initial: initial, times: Self.times, seed: 9).samples
    #expect(viaSDE == viaSampler)
    let viaGSL = try solve(flow, solver: GSLODESolver(.rkf45, settings: AdaptiveSettings(tolerance: 1e-8))).final
    let viaRK4 = try solve(flow, solver: RK4(), grid: .times(Self.times)).final
    // RK4 at h = 0.005 on a field whose rate reaches β/(2σ₀²) ≈ 31 near ε: (31h)⁴ ≈ 6e-4 per unit
    // of time at worst, so 1e-4 (measured: below 1e-5); GSL at 1e-8 is far closer to the flow.
    for e in 0..<viaGSL.values.count { #expect(abs(viaGSL.values[e] - viaRK4.values[e]) <= 1e-4) }
  }
}
