import ScoreModels
import SDEKit

/// One sampler at one setting in a comparison.
public struct ComparisonRow: Sendable, Codable, Hashable {
  public var sampler: String
  /// Steps for fixed-step samplers, nil for adaptive ones.
  public var steps: Int?
  /// rtol = atol for adaptive samplers, nil for fixed-step ones.
  public var tolerance: Double?
  /// Score evaluations per sample.
  public var nfe: Int
  public var seconds: Double
  public var sw2: Double
  /// The median of the floor's exact pairs, and their smallest and largest values.
  public var sw2Floor: Double
  public var sw2FloorLow: Double
  public var sw2FloorHigh: Double
  public var meanLogDensity: Double
  public var meanError: Double
  public var covarianceError: Double
}

/// Runs each sampler at each setting — every step count for fixed-step samplers, every tolerance
/// for adaptive ones — from the same base configuration (process, target, count, seed), and
/// measures it against the target. The sliced-W2 floor is computed once.
/// Metrics are against `reference` when given (e.g. `GaussianMixture(kernelDensityOf:)` of a
/// learned model's training data), else against the base configuration's target.
/// `starting(run, runs, configuration)` is called before each run.
/// - Throws: `DiffusionError` naming an unknown sampler or a bad setting, before any sampling.
public func compareSamplers(
  base: SamplingConfiguration, samplers: [String], steps: [Int], tolerances: [Double],
  reference: GaussianMixture? = nil,
  starting: (_ run: Int, _ runs: Int, _ configuration: SamplingConfiguration) -> Void = { _, _, _ in }
) throws -> [ComparisonRow] {
  var runs: [SamplingConfiguration] = []
  for name in samplers {
    var configuration = base
    configuration.sampler = try SamplerName.named(name)
    if configuration.sampler.descriptor.adaptive {
      for tolerance in tolerances {
        var run = configuration
        run.relativeTolerance = tolerance
        run.absoluteTolerance = tolerance
        runs.append(run)
      }
    } else {
      for count in steps {
        var run = configuration
        run.steps = count
        runs.append(run)
      }
    }
  }
  for run in runs { try run.validate() }
  let target = reference ?? base.target.mixture
  let floors = slicedW2FloorValues(target: target, count: min(base.count, 20_000), seed: base.seed)
  let floor = floors[floors.count / 2]
  return try runs.enumerated().map { index, run in
    starting(index, runs.count, run)
    let result = try runSampler(run)
    let metrics = try evaluateSamples(result.samples, target: target, seed: run.seed, floor: floor)
    let adaptive = run.sampler.descriptor.adaptive
    return ComparisonRow(sampler: run.sampler.name, steps: adaptive ? nil : run.steps,
                         tolerance: adaptive ? run.relativeTolerance : nil, nfe: result.nfe,
                         seconds: result.seconds, sw2: metrics.slicedW2, sw2Floor: floor,
                         sw2FloorLow: floors.first!, sw2FloorHigh: floors.last!,
                         meanLogDensity: metrics.meanLogDensity, meanError: metrics.meanError,
                         covarianceError: metrics.covarianceError)
  }
}
