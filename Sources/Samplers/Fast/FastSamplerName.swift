import ScoreModels
import SDEKit

/// The fast samplers — the ones diffusion models are sampled with in practice (Karras's Euler
/// and Heun, the ancestral and SDE variants, DPM-Solver and DPM-Solver++, UniPC, flow matching's
/// Euler and Heun) — as `SamplerName.fast(_:)`. Each works on every process of the form
/// x_t = a(t)x₀ + s(t)n through a, s, σ = s/a and λ = log(a/s); a few need σ finite at the first
/// grid time (`needsFiniteStart`), which excludes flow matching's τ = 1.
public enum FastSamplerName: String, Sendable, Hashable, CaseIterable {
  case edmEuler = "edm-euler"
  case edmHeun = "edm-heun"
  case eulerAncestral = "euler-ancestral"
  case dpmSolver1 = "dpm-solver-1"
  case dpmSolver2 = "dpm-solver-2"
  case dpmSolver3 = "dpm-solver-3"
  case dpmSolverPlusPlus2M = "dpm-solver++-2m"
  case dpmSolverPlusPlus3M = "dpm-solver++-3m"
  case dpmSolverPlusPlus2SAncestral = "dpm-solver++-2s-ancestral"
  case dpmSolverPlusPlus2MSDE = "dpm-solver++-2m-sde"
  case uniPC = "unipc"
  case flowEuler = "flow-euler"
  case flowHeun = "flow-heun"

  /// Whether the sampler divides by a or σ at a step's start, so cannot start where a = 0.
  public var needsFiniteStart: Bool {
    switch self {
    case .edmHeun, .dpmSolver2, .dpmSolver3, .dpmSolverPlusPlus2SAncestral, .uniPC: true
    case .edmEuler, .eulerAncestral, .dpmSolver1, .dpmSolverPlusPlus2M, .dpmSolverPlusPlus3M,
         .dpmSolverPlusPlus2MSDE, .flowEuler, .flowHeun: false
    }
  }

  public var descriptor: SamplerDescriptor {
    let (summary, stochastic, order, evaluations): (String, Bool, Double, Int) = switch self {
    case .edmEuler:
      ("Euler in σ (Karras et al. 2022, Alg. 2 without the correction; k-diffusion sample_euler), --churn", false, 1, 1)
    case .edmHeun:
      ("Heun in σ (Karras et al. 2022, Alg. 1–2; k-diffusion sample_heun), --churn", false, 2, 2)
    case .eulerAncestral:
      ("Euler ancestral (k-diffusion sample_euler_ancestral), --eta (order at η = 0)", true, 1, 1)
    case .dpmSolver1:
      ("DPM-Solver-1 (Lu et al. 2022): first-order exponential integrator, noise prediction", false, 1, 1)
    case .dpmSolver2:
      ("DPM-Solver-2 (Lu et al. 2022, Alg. 1): single-step, noise prediction", false, 2, 2)
    case .dpmSolver3:
      ("DPM-Solver-3 (Lu et al. 2022, Alg. 2): single-step, noise prediction", false, 3, 3)
    case .dpmSolverPlusPlus2M:
      ("DPM-Solver++(2M) (Lu et al. 2022b): multistep, data prediction, --lower-order-final", false, 2, 1)
    case .dpmSolverPlusPlus3M:
      ("DPM-Solver++(3M) (Lu et al. 2022b), --lower-order-final, --k-diffusion-3m (k-diffusion's second-order variant)", false, 3, 1)
    case .dpmSolverPlusPlus2SAncestral:
      ("DPM-Solver++(2S) ancestral (k-diffusion sample_dpmpp_2s_ancestral), --eta (order at η = 0)", true, 2, 2)
    case .dpmSolverPlusPlus2MSDE:
      ("DPM-Solver++(2M) SDE (k-diffusion sample_dpmpp_2m_sde), --eta, --solver-type (order at η = 0)", true, 2, 1)
    case .uniPC:
      ("UniPC (Zhao et al. 2023): UniP-p + UniC, order p + 1 (--order p, default 2), --variant, --no-corrector", false, 3, 1)
    case .flowEuler:
      ("Euler on the flow-matching ODE (diffusers FlowMatchEulerDiscreteScheduler)", false, 1, 1)
    case .flowHeun:
      ("Heun on the flow-matching ODE (diffusers FlowMatchHeunDiscreteScheduler)", false, 2, 2)
    }
    return SamplerDescriptor(name: rawValue, summary: summary, stochastic: stochastic, order: order,
                             evaluationsPerStep: evaluations, adaptive: false, family: .diffusion, requirement: .any)
  }

  /// The sampler with these settings, bound and run by `body` (a generic function cannot be a
  /// closure's parameter, so the caller's generic run comes in as a `FastSamplerRun`).
  func run<R: FastSamplerRun>(_ settings: FastSamplerSettings, _ body: R) throws -> R.Result {
    switch self {
    case .edmEuler: try body.run(EDMEuler(settings: settings))
    case .edmHeun: try body.run(EDMHeun(settings: settings))
    case .eulerAncestral: try body.run(EulerAncestral(settings: settings))
    case .dpmSolver1: try body.run(DPMSolver1())
    case .dpmSolver2: try body.run(DPMSolver2())
    case .dpmSolver3: try body.run(DPMSolver3())
    case .dpmSolverPlusPlus2M: try body.run(DPMSolverPlusPlus2M(lowerOrderFinal: settings.lowerOrderFinal ?? true))
    case .dpmSolverPlusPlus3M:
      try body.run(DPMSolverPlusPlus3M(lowerOrderFinal: settings.lowerOrderFinal ?? false,
                                       kDiffusion3M: settings.kDiffusion3M ?? false))
    case .dpmSolverPlusPlus2SAncestral: try body.run(DPMSolverPlusPlus2SAncestral(settings: settings))
    case .dpmSolverPlusPlus2MSDE: try body.run(DPMSolverPlusPlus2MSDE(settings: settings))
    case .uniPC:
      try body.run(UniPC(order: settings.resolvedOrder, variant: settings.variant ?? .bh2,
                         corrector: settings.corrector ?? true, lowerOrderFinal: settings.lowerOrderFinal ?? true))
    case .flowEuler: try body.run(FlowEuler())
    case .flowHeun: try body.run(FlowHeun())
    }
  }
}

/// A generic action on a diffusion sampler (see `FastSamplerName.run`).
protocol FastSamplerRun {
  associatedtype Result
  func run<D: DiffusionSampler>(_ sampler: D) throws -> Result
}

/// Runs a diffusion sampler through the driver (`sample(with:…)`), as `sample` does every `DiffusionSampler`.
struct DriveSampler<P: DiffusionProcess, S: ScoreModel, B: BrownianSource>: FastSamplerRun {
  let process: P
  let score: S
  let brownian: B
  let seed: UInt64
  let initial: StateBatch
  let times: [Double]
  let firstSample: Int
  let threads: Int?

  func run<D: DiffusionSampler>(_ sampler: D) throws -> (StateBatch, Int) {
    let result = try sample(with: sampler, process: process, score: score, initial: initial, times: times, seed: seed,
                            brownian: brownian, firstSample: firstSample, threads: threads)
    return (result.samples, result.nfe)
  }
}

/// The checks of the fast samplers and their settings before a run: the settings apply to the
/// sampler and lie in range, σ is finite at the first time where the sampler needs it, churn has
/// a process whose σ(t) it can invert beyond the grid, the DDIM stride has the chain and a stride
/// of at least one timestep.
func checkFastSampling<P: DiffusionProcess>(_ sampler: SamplerName, settings: FastSamplerSettings, process: P,
                                            times: [Double]) throws {
  try settings.validate(for: sampler)
  if settings.diffusersDDIMStride == true {
    guard let chain = process as? DDPMChain else {
      throw DiffusionError.invalidSetting("--diffusers-ddim-stride applies to the ddpm chain; got \(process.name)")
    }
    // The stride ⌊N/n⌋ is 0 for n > N: every step would stay at its timestep.
    let steps = times.count - 1, trainSteps = chain.schedule.steps
    guard steps <= trainSteps else {
      throw DiffusionError.invalidSetting(
        "--diffusers-ddim-stride steps by ⌊N/n⌋ timesteps, so it needs at most the chain's N = \(trainSteps) steps; got \(steps)")
    }
  }
  guard case .fast(let name) = sampler else { return }
  let churning = settings.resolvedChurn > 0
  if name.needsFiniteStart || churning, let first = times.first, !process.noiseLevel(first).isFinite {
    throw DiffusionError.unsupported(
      "\(name.rawValue)\(churning ? " with --churn" : "") needs a finite σ = s/a at the first grid time; \(process.name) has σ(\(first)) = ∞ (use flow-euler, flow-heun, edm-euler, dpm-solver++-2m or -3m there)")
  }
  if churning, !(process is any InvertibleNoiseLevel) {
    throw DiffusionError.unsupported(
      "--churn evaluates the model above the grid's noise levels and needs σ(t) with a closed-form inverse (vp, ve, edm, flow); got \(process.name)")
  }
}
