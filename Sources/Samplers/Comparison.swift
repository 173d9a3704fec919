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
/// - probability-flow samplers: dopri5 at rtol = atol = 1e-10, each block of
///   `BlockMoments.blockRows` samples solved as one system;
/// - SDE samplers: SRA1 on the path's 2^L fine steps;
/// - diffusion samplers: the same sampler at 16× the steps.
///
/// Fixed-step samplers run at every step count, adaptive ones at every tolerance. Metrics are
/// against `reference` when given (e.g. `GaussianMixture(kernelDensityOf:)` of a learned model's
/// training data), else against the base configuration's target. `initial` replaces the prior
/// draws as every run's starting points (e.g. another framework's). `starting(run, runs, label)`
/// is called before each run (references included). `SamplerComparison` does the same over
/// part of the rows, for processes that split them.
/// - Throws: `DiffusionError` naming a bad setting, before any sampling.
public func compareSamplers(
  base: SamplingConfiguration, samplers: [SamplerName], steps: [Int], tolerances: [Double],
  reference: GaussianMixture? = nil, initial: StateBatch? = nil,
  starting: @escaping (_ run: Int, _ runs: Int, _ label: String) -> Void = { _, _, _ in }
) throws -> [ComparisonRow] {
  let comparison = try SamplerComparison(base: base, samplers: samplers, steps: steps, tolerances: tolerances,
                                         reference: reference, initial: initial, starting: starting)
  return try comparison.runs.indices.map { try comparison.row($0, comparison.measure($0)) }
}

/// A comparison (see `compareSamplers`) measured over some of its rows: each run's statistics
/// over this process's rows (`measure`) merge with other processes' (`ComparisonStatistics`)
/// into the statistics of all rows, and so into the row one process would print (`row`). Every
/// sample, and its pathwise reference, is a function of (seed, row) — the probability-flow
/// reference of (seed, block of `BlockMoments.blockRows` rows) — so any split of the rows at
/// block boundaries gives the same numbers; adaptive samplers in batch mode, whose one system is
/// all the rows, are the exception (`splitsByRows`).
public final class SamplerComparison {
  /// Every sampler at every setting, in the order of the table.
  public let runs: [SamplingConfiguration]
  /// What the distribution metrics are measured against.
  public let target: GaussianMixture
  /// The rows this process measures.
  public let rows: Range<Int>
  private let count: Int
  private let seed: UInt64
  private let levels: Int
  /// Every run's starting points when given (all rows), else nil: prior draws.
  private let initial: StateBatch?
  private let starting: (_ run: Int, _ runs: Int, _ label: String) -> Void
  /// Each run's `referenceKey`.
  private let referenceKeys: [String]
  /// The pathwise references made so far, by `referenceKey`.
  private var references: [String: StateBatch] = [:]
  private var started = 0
  private var floors: DistributionFloors?

  /// Plans the runs and checks each.
  /// - Parameters:
  ///   - initial: every run's starting points, all `base.count` rows (nil: prior draws).
  ///   - rows: the rows this process measures (all of them by default); they start at a
  ///     multiple of `BlockMoments.blockRows`.
  /// - Throws: `DiffusionError` naming a bad setting, before any sampling.
  public init(base: SamplingConfiguration, samplers: [SamplerName], steps: [Int], tolerances: [Double],
              reference: GaussianMixture? = nil, initial: StateBatch? = nil, rows: Range<Int>? = nil,
              starting: @escaping (_ run: Int, _ runs: Int, _ label: String) -> Void = { _, _, _ in }) throws {
    guard base.count >= 2 else { throw DiffusionError.invalidSetting("a comparison needs at least 2 samples, got \(base.count)") }
    let rows = rows ?? 0..<base.count
    guard rows.lowerBound >= 0, rows.upperBound <= base.count, rows.lowerBound % BlockMoments.blockRows == 0 else {
      throw DiffusionError.invalidSetting(
        "a share of a comparison takes rows from a multiple of \(BlockMoments.blockRows) within 0..<\(base.count), got \(rows)")
    }
    var runs: [SamplingConfiguration] = []
    for sampler in samplers {
      var configuration = base
      configuration.sampler = sampler
      if sampler.descriptor.adaptive {
        // Adaptive SDE samplers run per sample, as Gotta Go Fast does: in batch mode the worst
        // of the batch would set every sample's steps.
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
    if let reference, reference.dimension != base.target.mixture.dimension {
      throw DiffusionError.dimensionMismatch(
        "the metrics' reference mixture has dimension \(reference.dimension) but the target \(base.target.rawValue) has dimension \(base.target.mixture.dimension)")
    }
    _ = try startingRows(base, initial: initial, rows: rows)
    let levels = try ComparisonReference.pathLevels(for: runs)
    for index in runs.indices { runs[index].brownianPathLevels = levels }
    for run in runs {
      try run.validate()
      try SamplerComparison.checkReference(for: run, levels: levels)
    }
    self.levels = levels
    referenceKeys = runs.map(referenceKey)
    self.runs = runs
    self.initial = initial
    self.rows = rows
    target = reference ?? base.target.mixture
    count = base.count
    seed = base.seed
    self.starting = starting
  }

  /// Whether every run's samples are a function of (seed, row), so that processes may split
  /// the rows: false when an adaptive sampler runs in batch mode (one system of all the rows).
  public var splitsByRows: Bool {
    !runs.contains { $0.sampler.descriptor.adaptive && $0.mode == .batch }
  }

  /// Steps counted by `starting`: every run and every distinct reference.
  private var total: Int { runs.count + Set(referenceKeys).count }

  /// The label of run `index`: "ddim, 20 steps" or "ode-dopri5, tol 1e-03".
  private static func setting(_ run: SamplingConfiguration) -> String {
    run.sampler.descriptor.adaptive ? String(format: "tol %.0e", run.relativeTolerance) : "\(run.steps) steps"
  }

  /// The pathwise reference of a run: its configuration and what the table calls it.
  private func reference(for run: SamplingConfiguration) -> (configuration: SamplingConfiguration, label: String) {
    Self.reference(for: run, levels: levels)
  }

  private static func reference(for run: SamplingConfiguration,
                                levels: Int) -> (configuration: SamplingConfiguration, label: String) {
    var configuration = run
    switch run.sampler.descriptor.family {
    case .probabilityFlow:
      let tolerance = run.model == nil ? ComparisonReference.flowTolerance : ComparisonReference.learnedFlowTolerance
      configuration.sampler = .probabilityFlow(.dopri5)
      configuration.relativeTolerance = tolerance
      configuration.absoluteTolerance = tolerance
      configuration.errorNorm = nil
      configuration.mode = .batch
      return (configuration, String(format: "ode-dopri5 at rtol = atol = %.0e", tolerance))
    case .sde where run.sampler.descriptor.adaptive:
      // Adaptive SDE samplers walk a Brownian tree, not the shared path: SRA1 on the same tree
      // (made by `adaptiveSDEReference`, not by this configuration).
      return (configuration, "sra1 at 2^\(levels) steps on the same Brownian tree")
    case .sde:
      // Uniform steps over the run's own interval: the run's ρ and diffusers' timesteps do not
      // apply to it, its ends do (a final step to 0 stays; with none, the run's last time is ε).
      configuration.sampler = .reverseSDE(.sra1)
      configuration.steps = 1 << levels
      configuration.grid = .uniform
      configuration.rho = nil
      configuration.timestepSpacing = nil
      configuration.fastSamplers = nil
      configuration.finalStep = run.samplingGrid.resolvedFinalStep
      if configuration.finalStep == FinalStep.none, let end = run.times.last { configuration.epsilon = end }
      return (configuration, "sra1 at 2^\(levels) steps on the same path")
    case .diffusion:
      configuration.steps = run.steps * ComparisonReference.stepMultiple
      return (configuration, "\(run.sampler.name) at \(configuration.steps) steps on the same path")
    }
  }

  /// Throws when a run's reference cannot be made (its configuration is refused) or would not
  /// span the run's interval [ε, T] (its pathwise error would then compare different things), so
  /// that a comparison fails in `init`, not partway through.
  private static func checkReference(for run: SamplingConfiguration, levels: Int) throws {
    let descriptor = run.sampler.descriptor
    // Adaptive SDE samplers' reference is SRA1 on the run's own tree (`adaptiveSDEReference`).
    guard !(descriptor.family == .sde && descriptor.adaptive) else { return }
    let (reference, label) = Self.reference(for: run, levels: levels)
    let setting = Self.setting(run)
    do {
      try reference.validate()
    } catch let error as DiffusionError {
      throw DiffusionError.invalidSetting("the reference of \(run.sampler.name), \(setting) (\(label)) is refused: \(error)")
    }
    let (runTimes, referenceTimes) = (run.times, reference.times)
    guard runTimes.first == referenceTimes.first, runTimes.last == referenceTimes.last else {
      let hint = run.timestepSpacing == .leading
        ? " (--timestep-spacing leading starts each step count at its own timestep; use linspace or trailing)" : ""
      throw DiffusionError.invalidSetting(
        "the reference of \(run.sampler.name), \(setting) (\(label)) runs from t = \(referenceTimes.first ?? .nan) to \(referenceTimes.last ?? .nan), the run from \(runTimes.first ?? .nan) to \(runTimes.last ?? .nan)\(hint)")
    }
  }

  /// The reference samples of this process's rows for `run`, made on first use. The
  /// probability-flow reference solves each block of rows as one system, so that it too is
  /// the same for any split of the rows at block boundaries.
  private func referenceSamples(for index: Int) throws -> StateBatch {
    let run = runs[index], key = referenceKeys[index]
    if let cached = references[key] { return cached }
    let (configuration, label) = reference(for: run)
    starting(started, total, "reference: " + label)
    started += 1
    var samples = StateBatch(count: 0, dimension: target.dimension)
    if !rows.isEmpty {
      if run.sampler.descriptor.family == .sde, run.sampler.descriptor.adaptive {
        samples = try adaptiveSDEReference(run, steps: 1 << levels, initial: initial).rows(rows)
      } else if configuration.sampler.descriptor.adaptive {
        var values: [Double] = []
        for first in stride(from: rows.lowerBound, to: rows.upperBound, by: BlockMoments.blockRows) {
          let block = first..<min(rows.upperBound, first + BlockMoments.blockRows)
          values += try runSampler(configuration, rows: block, initial: initial).samples.values
        }
        samples = StateBatch(count: rows.count, dimension: target.dimension, values: values)
      } else {
        samples = try runSampler(configuration, rows: rows, initial: initial).samples
      }
    }
    references[key] = samples
    return samples
  }

  /// Samples run `index` on this process's rows and measures them against their reference.
  /// - Throws: `DiffusionError` or `SolveError` from the sampler.
  public func measure(_ index: Int) throws -> ComparisonStatistics {
    let run = runs[index]
    let referenceRows = try referenceSamples(for: index)
    starting(started, total, "\(run.sampler.name), \(Self.setting(run))")
    started += 1
    var statistics = ComparisonStatistics(target: target, seed: seed, firstRow: rows.lowerBound)
    guard !rows.isEmpty else { return statistics }
    let result = try runSampler(run, rows: rows, initial: initial)
    try statistics.add(result.samples, reference: referenceRows)
    statistics.evaluations = result.evaluations
    statistics.seconds = result.seconds
    return statistics
  }

  /// The table row of run `index` from the statistics of all its rows.
  /// - Throws: `DiffusionError.invalidSetting` when the statistics hold fewer rows than the run.
  public func row(_ index: Int, _ statistics: ComparisonStatistics) throws -> ComparisonRow {
    guard statistics.count == count else {
      throw DiffusionError.invalidSetting("a comparison row needs the statistics of all \(count) rows, got \(statistics.count)")
    }
    let floors = self.floors ?? DistributionFloors(target: target, count: count, seed: seed)
    self.floors = floors
    let run = runs[index]
    let adaptive = run.sampler.descriptor.adaptive
    let n = Double(count)
    // Per row: [‖x − x_ref‖², log p₀(x)].
    let mean = statistics.moments.mean, variance = statistics.moments.variance
    let rms = mean[0].squareRoot()
    let (meanError, covarianceError) = statistics.metrics.momentErrors
    let sw2 = slicedWasserstein(statistics.metrics.firstRows, floors.comparisonSet, projections: floors.projections)
    return ComparisonRow(
      sampler: run.sampler.name, setting: Self.setting(run), steps: adaptive ? nil : run.steps,
      tolerance: adaptive ? run.relativeTolerance : nil, nfe: statistics.evaluations / count, seconds: statistics.seconds,
      // SE(√ē) = SE(ē)/(2√ē) by the delta method.
      pathError: rms, pathErrorStderr: rms > 0 ? (variance[0] / n).squareRoot() / (2 * rms) : 0,
      reference: reference(for: run).label,
      meanLogDensity: mean[1], meanLogDensityError: mean[1] - floors.exactMeanLogDensity,
      meanLogDensityStderr: (variance[1] / n + floors.exactLogDensityVariance).squareRoot(),
      covarianceError: covarianceError, covarianceErrorFloor: floors.covarianceError, meanError: meanError,
      sw2: sw2, sw2Floor: floors.sw2[floors.sw2.count / 2], sw2FloorLow: floors.sw2.first!,
      sw2FloorHigh: floors.sw2.last!)
  }
}

/// What one run of a comparison measured over some rows: per row ‖x − x_ref‖² and log p₀(x) as
/// `BlockMoments`, the mean, covariance and first rows as `StreamingMetrics`, and the cost.
/// Processes' statistics of consecutive rows merge (`partial`, `init(merging:)`) into those of
/// all the rows, bit for bit.
public struct ComparisonStatistics: Sendable {
  /// Per row, ‖x − x_ref‖² and log p₀(x).
  var moments: BlockMoments
  var metrics: StreamingMetrics
  /// Score evaluations summed over the rows, and the sampling seconds.
  public var evaluations = 0
  public var seconds = 0.0

  init(target: GaussianMixture, seed: UInt64, firstRow: Int) {
    moments = BlockMoments(width: 2, firstRow: firstRow)
    metrics = StreamingMetrics(target: target, seed: seed, firstRow: firstRow)
  }

  /// Rows measured.
  public var count: Int { moments.count }

  /// Takes in a run's samples and their references, row for row.
  /// - Throws: `DiffusionError.dimensionMismatch` when the two, or the samples and the target,
  ///   differ in shape.
  mutating func add(_ samples: StateBatch, reference: StateBatch) throws {
    let target = metrics.target
    guard samples.count == reference.count, samples.dimension == reference.dimension,
          samples.dimension == target.dimension else {
      throw DiffusionError.dimensionMismatch(
        "a comparison's samples are \(samples.count) × \(samples.dimension), their references \(reference.count) × \(reference.dimension) and the metrics' target has dimension \(target.dimension)")
    }
    let n = samples.count, d = samples.dimension
    var logs = [Double](repeating: 0, count: n)
    samples.values.withUnsafeBufferPointer { xp in
      logs.withUnsafeMutableBufferPointer { target.evaluate(xp, a: 1, s: 0, logDensity: $0, score: nil) }
    }
    var perRow = [Double](repeating: 0, count: 2 * n)
    for r in 0..<n {
      var sum = 0.0
      for j in 0..<d {
        let e = samples.values[r * d + j] - reference.values[r * d + j]
        sum += e * e
      }
      perRow[2 * r] = sum
      perRow[2 * r + 1] = logs[r]
    }
    moments.add(perRow)
    try metrics.add(samples)
  }

  /// The numbers another process needs to merge these statistics.
  public var partial: [Double] {
    let part = moments.partial
    return [Double(evaluations), seconds, Double(part.count)] + part + metrics.partial
  }

  /// The statistics of all rows from the `partial`s of processes that took consecutive rows
  /// from 0, in order: the same bits as one process that measured every row. Evaluations and
  /// seconds are summed.
  /// - Throws: `DiffusionError.invalidSetting` or `SolveError.invalidConfiguration` when a
  ///   partial is cut short or the rows are not consecutive.
  public init(target: GaussianMixture, seed: UInt64, merging partials: [[Double]]) throws {
    var moments: [[Double]] = [], metrics: [[Double]] = []
    for values in partials {
      guard values.count >= 3, let length = Int(exactly: values[2]), length >= 0, 3 + length <= values.count else {
        throw DiffusionError.invalidSetting("a comparison partial is cut short (\(values.count) numbers)")
      }
      evaluations += Int(values[0])
      seconds += values[1]
      moments.append(Array(values[3..<(3 + length)]))
      metrics.append(Array(values[(3 + length)...]))
    }
    self.moments = try BlockMoments(width: 2, merging: moments)
    self.metrics = try StreamingMetrics(target: target, seed: seed, merging: metrics)
  }
}

/// Runs share a reference when it would be the same run: of one family and, but for the
/// diffusion samplers' (which differ by step count anyway), over the same interval, as the first
/// time of diffusers' leading timesteps depends on the step count.
private func referenceKey(_ run: SamplingConfiguration) -> String {
  let times = run.times, interval = "[\(times.last ?? .nan), \(times.first ?? .nan)]"
  return switch run.sampler.descriptor.family {
  case .probabilityFlow: "flow " + interval
  case .sde where run.sampler.descriptor.adaptive: "tree " + interval
  case .sde: "sde " + interval
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
