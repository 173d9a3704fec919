import ScoreModels
import SDEKit

/// Levels of the Brownian tree of the adaptive SDE samplers: leaves of (T − ε)/2²⁰, about 1e-6
/// for the built-in processes, the smallest step they take. Steps at tolerances down to 1e-5 are
/// hundreds of times longer.
public let adaptiveSamplerTreeDepth = 20

/// The descriptors of `adaptive-sra1` and `gotta-go-fast`.
func adaptiveSDEDescriptor(_ sampler: SamplerName) -> SamplerDescriptor {
  switch sampler {
  case .gottaGoFast:
    return SamplerDescriptor(
      name: sampler.name,
      summary: "Gotta Go Fast (Jolicoeur-Martineau et al. 2021): Euler–Maruyama with an improved-Euler error estimate, scaled ℓ2 (RMS) error, adaptive (--rtol --atol)",
      stochastic: true, order: 1, evaluationsPerStep: nil, adaptive: true, family: .sde, requirement: .any)
  default:
    return SamplerDescriptor(
      name: sampler.name,
      summary: "reverse-time SDE under SRA1 with its embedded error estimate and PI step control on a Brownian tree, adaptive (--rtol --atol)",
      stochastic: true, order: 1.5, evaluationsPerStep: nil, adaptive: true, family: .sde, requirement: .any)
  }
}

/// Runs an adaptive SDE sampler over [t0 = T, t1 = ε]: the reverse-time SDE with the process's
/// additive diffusion, on the Brownian tree of `seed` (its own stream, `.brownianTree`, so not
/// the path of `BrownianAddressing.path`). Tolerances from `settings.adaptive` (`adaptive-sra1`
/// also takes its norm; `gotta-go-fast` always uses the paper's RMS), mode from `settings.mode`.
/// Returns the samples and score evaluations per sample.
func sampleAdaptiveSDE<P: DiffusionProcess, S: ScoreModel>(
  _ sampler: SamplerName, settings: SamplerSettings, process: P, score: S, initial: StateBatch,
  t0: Double, t1: Double, seed: UInt64, firstSample: Int, threads: Int?
) throws -> (StateBatch, Int) {
  let problem = SDEProblem(drift: ReverseDrift(process: process, score: score),
                           diffusion: ProcessDiffusion(process: process), initial: initial, t0: t0, t1: t1)
  let tree = try BrownianTree(seed: seed, t0: t0, t1: t1, depth: adaptiveSamplerTreeDepth)
  var adaptive = AdaptiveSDESettings(relativeTolerance: settings.adaptive.relativeTolerance,
                                     absoluteTolerance: settings.adaptive.absoluteTolerance)
  let solution: Solution
  switch sampler {
  case .gottaGoFast:
    solution = try solve(problem, method: GottaGoFast(), settings: adaptive, noise: tree, mode: settings.mode,
                         firstSample: firstSample, threads: threads)
  default:
    adaptive.norm = settings.adaptive.norm
    solution = try solve(problem, solver: SRA1(), settings: adaptive, noise: tree, mode: settings.mode,
                         firstSample: firstSample, threads: threads)
  }
  let evaluations = solution.statistics.driftEvaluations
  return (solution.final, settings.mode == .perSample ? evaluations / max(1, initial.count) : evaluations)
}
