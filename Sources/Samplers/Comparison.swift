import Foundation
import ScoreModels
import SDEKit

/// One sampler at one setting in a comparison.
public struct ComparisonRow: Sendable, Codable, Hashable {
  public var sampler: String
  /// "20 steps" or "tol 1e-03".
  public var setting: String
  /// Steps for fixed-step samplers, nil for adaptive ones.
  public var steps: Int?
  /// rtol = atol for adaptive samplers, nil for fixed-step ones.
  public var tolerance: Double?
  /// Score evaluations per sample, counted.
  public var nfe: Int
  public var seconds: Double
  /// √(mean over samples of ‖x − x_ref‖²) against `reference` from the same prior point (and,
  /// for stochastic samplers, the same Brownian path), and its Monte-Carlo standard error.
  public var pathError: Double
  public var pathErrorStderr: Double
  /// What `pathError` is measured against.
  public var reference: String
  /// Mean log p₀ of the samples under the target, its difference from the exact E_p[log p₀]
  /// and that difference's standard error.
  public var meanLogDensity: Double
  public var meanLogDensityError: Double
  public var meanLogDensityStderr: Double
  /// ‖Cov(X) − C‖_F and its floor: the median of the same for exact sets of the same size.
  public var covarianceError: Double
  public var covarianceErrorFloor: Double
  public var meanError: Double
  /// Sliced W2 to the exact comparison set; its floor (the median over independent exact sets
  /// against the same comparison set) and their range.
  public var sw2: Double
  public var sw2Floor: Double
  public var sw2FloorLow: Double
  public var sw2FloorHigh: Double
}

/// How a comparison's pathwise references are made: one per sampler family.
public enum ComparisonReference {
  /// Probability-flow samplers: dopri5 at this rtol = atol from the same prior points.
  public static let flowTolerance = 1e-10
  /// The same, for a learned (float32) network, whose field is not smooth at 1e-10.
  public static let learnedFlowTolerance = 1e-7
  /// Diffusion samplers: the same sampler at this many times the steps, on the same path.
  public static let stepMultiple = 16
  /// The fewest levels of the shared Brownian path: SDE samplers' reference is SRA1 on its 2^12
  /// fine steps.
  public static let minimumPathLevels = 12
  /// The most: 2^22 fine intervals already cost 8 million normals per sample and coordinate.
  public static let maximumPathLevels = 22

  /// The shared Brownian path's levels for these fixed-step runs: at least 12, and enough that
  /// no step of any run's grid — or of a diffusion sampler's reference grid at 16× the steps —
  /// is shorter than a fine interval (a grid dense near ε, as uniform in λ, needs more).
  /// - Throws: `DiffusionError` when that needs more than 2^22 fine intervals.
  public static func pathLevels(for runs: [SamplingConfiguration]) throws -> Int {
    var levels = minimumPathLevels
    for run in runs where !run.sampler.descriptor.adaptive {
      var grids = [run]
      if run.sampler.descriptor.family == .diffusion {
        var reference = run
        reference.steps = run.steps * stepMultiple
        grids.append(reference)
      }
      for grid in grids {
        let times = grid.times
        guard times.count >= 2 else { continue }
        let span = abs(times[0] - times[times.count - 1])
        let shortest = zip(times, times.dropFirst()).map { abs($1 - $0) }.min()!
        while levels <= maximumPathLevels, Double(1 << levels) * shortest < span { levels += 1 }
        guard levels <= maximumPathLevels else {
          throw DiffusionError.invalidSetting(
            "\(grid.sampler.name) at \(grid.steps) steps on the \(grid.grid.rawValue) grid has a step of \(shortest), shorter than 2^-\(maximumPathLevels) of [ε, T], the finest shared Brownian path compare makes; use fewer steps or another grid")
        }
      }
    }
    return levels
  }
}

/// Compares samplers on equal terms: every sampler and setting starts from the same prior
/// points (the stream `.prior`), and every SDE sampler — and the noise of DDPM-like samplers —
/// runs on one Brownian path per sample (`BrownianGrid` on 2^L fine intervals of [ε, T]). Each
/// run is measured against a pathwise reference from the same points and path, which shows its
/// order, and against the target's distribution, each metric with its standard error or floor:
///
/// - probability-flow samplers: dopri5 at rtol = atol = 1e-10;
/// - SDE samplers: SRA1 on the path's 2^L fine steps;
/// - diffusion samplers: the same sampler at 16× the steps.
///
/// Fixed-step samplers run at every step count, adaptive ones at every tolerance. Metrics are
/// against `reference` when given (e.g. `GaussianMixture(kernelDensityOf:)` of a learned model's
/// training data), else against the base configuration's target. `initial` replaces the prior
/// draws as every run's starting points (e.g. another framework's). `starting(run, runs, label)`
/// is called before each run (references included).
/// - Throws: `DiffusionError` naming a bad setting, before any sampling.
public func compareSamplers(
  base: SamplingConfiguration, samplers: [SamplerName], steps: [Int], tolerances: [Double],
  reference: GaussianMixture? = nil, initial: StateBatch? = nil,
  starting: (_ run: Int, _ runs: Int, _ label: String) -> Void = { _, _, _ in }
) throws -> [ComparisonRow] {
  guard base.count >= 2 else { throw DiffusionError.invalidSetting("a comparison needs at least 2 samples, got \(base.count)") }
  var shared = base
  shared.grid = base.grid
  var runs: [SamplingConfiguration] = []
  for sampler in samplers {
    var configuration = shared
    configuration.sampler = sampler
    if sampler.descriptor.adaptive {
      // Adaptive SDE samplers run per sample, as Gotta Go Fast does: in batch mode the worst of
      // the batch would set every sample's steps.
      if sampler.descriptor.family == .sde { configuration.mode = .perSample }
      for tolerance in tolerances {
        configuration.relativeTolerance = tolerance
        configuration.absoluteTolerance = tolerance
        runs.append(configuration)
      }
    } else {
      for count in steps {
        configuration.steps = count
        runs.append(configuration)
      }
    }
  }
  let levels = try ComparisonReference.pathLevels(for: runs)
  for index in runs.indices { runs[index].brownianPathLevels = levels }
  for run in runs { try run.validate() }

  let target = reference ?? base.target.mixture
  let n = base.count
  let floors = DistributionFloors(target: target, count: n, seed: base.seed)
  var references: [String: (label: String, samples: StateBatch)] = [:]
  let referenceCount = Set(runs.map { referenceKey($0) }).count
  let total = runs.count + referenceCount
  var started = 0

  func pathReference(for run: SamplingConfiguration) throws -> (label: String, samples: StateBatch) {
    let key = referenceKey(run)
    if let cached = references[key] { return cached }
    if run.sampler.descriptor.family == .sde, run.sampler.descriptor.adaptive {
      // Adaptive SDE samplers walk a Brownian tree, not the shared path: SRA1 on the same tree.
      let label = "sra1 at 2^\(levels) steps on the same Brownian tree"
      starting(started, total, "reference: " + label)
      started += 1
      let result = (label, try adaptiveSDEReference(run, steps: 1 << levels))
      references[key] = result
      return result
    }
    var configuration = run
    let label: String
    switch run.sampler.descriptor.family {
    case .probabilityFlow:
      let tolerance = run.model == nil ? ComparisonReference.flowTolerance : ComparisonReference.learnedFlowTolerance
      configuration.sampler = .probabilityFlow(.dopri5)
      configuration.relativeTolerance = tolerance
      configuration.absoluteTolerance = tolerance
      configuration.errorNorm = nil
      configuration.mode = .batch
      label = String(format: "ode-dopri5 at rtol = atol = %.0e", tolerance)
    case .sde:
      configuration.sampler = .reverseSDE(.sra1)
      configuration.steps = 1 << levels
      configuration.grid = .uniform
      label = "sra1 at 2^\(levels) steps on the same path"
    case .diffusion:
      configuration.steps = run.steps * ComparisonReference.stepMultiple
      label = "\(run.sampler.name) at \(configuration.steps) steps on the same path"
    }
    starting(started, total, "reference: " + label)
    started += 1
    let result = (label, try runSampler(configuration, initial: initial).samples)
    references[key] = result
    return result
  }

  var rows: [ComparisonRow] = []
  for run in runs {
    let (label, referenceSamples) = try pathReference(for: run)
    let adaptive = run.sampler.descriptor.adaptive
    let setting = adaptive ? String(format: "tol %.0e", run.relativeTolerance) : "\(run.steps) steps"
    starting(started, total, "\(run.sampler.name), \(setting)")
    started += 1
    let result = try runSampler(run, initial: initial)
    let path = pathError(result.samples, referenceSamples)
    let logDensity = logDensityStatistics(result.samples, target: target)
    let (meanError, covarianceError) = momentErrors(result.samples, target: target)
    let sw2 = slicedWasserstein(result.samples.rows(0..<min(n, StreamingMetrics.slicedW2Count)),
                                floors.comparisonSet, projections: floors.projections)
    rows.append(ComparisonRow(
      sampler: run.sampler.name, setting: setting, steps: adaptive ? nil : run.steps,
      tolerance: adaptive ? run.relativeTolerance : nil, nfe: result.nfe, seconds: result.seconds,
      pathError: path.rms, pathErrorStderr: path.stderr, reference: label,
      meanLogDensity: logDensity.mean, meanLogDensityError: logDensity.mean - floors.exactMeanLogDensity,
      meanLogDensityStderr: (logDensity.variance / Double(n) + floors.exactLogDensityVariance).squareRoot(),
      covarianceError: covarianceError, covarianceErrorFloor: floors.covarianceError, meanError: meanError,
      sw2: sw2, sw2Floor: floors.sw2[floors.sw2.count / 2], sw2FloorLow: floors.sw2.first!,
      sw2FloorHigh: floors.sw2.last!))
  }
  return rows
}

/// Runs share a reference when it would be the same run.
private func referenceKey(_ run: SamplingConfiguration) -> String {
  switch run.sampler.descriptor.family {
  case .probabilityFlow: "flow"
  case .sde where run.sampler.descriptor.adaptive: "tree"
  case .sde: "sde"
  case .diffusion: "\(run.sampler.name)/\(run.steps)"
  }
}

/// √(mean_i ‖x_i − y_i‖²) and its standard error by the delta method: with e_i = ‖x_i − y_i‖²,
/// SE(√ē) = SE(ē)/(2√ē).
func pathError(_ x: StateBatch, _ y: StateBatch) -> (rms: Double, stderr: Double) {
  precondition(x.count == y.count && x.dimension == y.dimension, "pathError needs batches of one shape")
  let n = x.count, d = x.dimension
  var squares = [Double](repeating: 0, count: n)
  for r in 0..<n {
    var sum = 0.0
    for j in 0..<d {
      let e = x.values[r * d + j] - y.values[r * d + j]
      sum += e * e
    }
    squares[r] = sum
  }
  let (mean, variance) = meanAndVariance(squares)
  let rms = mean.squareRoot()
  return (rms, rms > 0 ? (variance / Double(n)).squareRoot() / (2 * rms) : 0)
}

/// The mean of the values and their unbiased variance.
func meanAndVariance(_ values: [Double]) -> (mean: Double, variance: Double) {
  let n = Double(values.count)
  let mean = values.reduce(0, +) / n
  let variance = values.count > 1 ? values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1) : 0
  return (mean, variance)
}

/// Mean and variance of log p₀ over the rows.
func logDensityStatistics(_ samples: StateBatch, target: GaussianMixture) -> (mean: Double, variance: Double) {
  var logs = [Double](repeating: 0, count: samples.count)
  samples.values.withUnsafeBufferPointer { xp in
    logs.withUnsafeMutableBufferPointer { target.evaluate(xp, a: 1, s: 0, logDensity: $0, score: nil) }
  }
  return meanAndVariance(logs)
}

/// What exact samples of the target give at a comparison's sample size: the floors beside which
/// the distribution metrics are read, computed once per comparison.
struct DistributionFloors {
  /// The exact set each run's sliced W2 is measured against, and the directions.
  let comparisonSet: StateBatch
  let projections: [[Double]]
  /// Sliced W2 of independent exact sets against the comparison set, sorted (the floor is their median).
  let sw2: [Double]
  /// The median covariance error of exact sets of the run's size.
  let covarianceError: Double
  /// E_p[log p₀] from 200,000 exact samples, and the variance of that estimate.
  let exactMeanLogDensity: Double
  let exactLogDensityVariance: Double

  static let exactLogDensityCount = 200_000
  static let pairs = 5

  init(target: GaussianMixture, count: Int, seed: UInt64) {
    let m = min(count, StreamingMetrics.slicedW2Count)
    projections = unitProjections(count: 128, dimension: target.dimension, seed: seed)
    comparisonSet = target.sample(count: m, seed: seed, set: ExactSampleSet.comparison)
    sw2 = slicedW2FloorValues(target: target, count: m, seed: seed, pairs: Self.pairs)
    let covariances = (0..<Self.pairs).map { pair in
      momentErrors(target.sample(count: count, seed: seed, set: ExactSampleSet.floorSet(pair)), target: target).1
    }.sorted()
    covarianceError = covariances[covariances.count / 2]
    let exact = logDensityStatistics(target.sample(count: Self.exactLogDensityCount, seed: seed,
                                                   set: ExactSampleSet.logDensity), target: target)
    exactMeanLogDensity = exact.mean
    exactLogDensityVariance = exact.variance / Double(Self.exactLogDensityCount)
  }
}
