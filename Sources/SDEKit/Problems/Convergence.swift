import Foundation

/// Strong error E‖X_N − X(T)‖ or weak error |E[φ(X_N) − φ(X(T))]| with φ(x) = mean of x's components.
public enum ErrorKind: String, Sendable, Codable, CaseIterable {
  case strong
  case weak
}

/// One resolution of a convergence study.
public struct ConvergenceLevel: Sendable, Codable, Hashable {
  /// k in dt = (t1 − t0)/2ᵏ.
  public var level: Int
  public var dt: Double
  public var error: Double
  /// Monte-Carlo standard error of `error` (0 for ODEs).
  public var stderr: Double
  /// Wall time of the solve at this level (noise included), for cost comparisons.
  public var seconds: Double = 0
}

/// Errors at several step sizes and the least-squares slope of log error against log dt.
public struct ConvergenceStudy: Sendable, Codable, Hashable {
  public var problem: String
  public var solver: String
  public var kind: ErrorKind
  public var paths: Int
  public var seed: UInt64
  /// What the errors are measured against: "exact solution", "exact mean", or a reference
  /// solve on the same Brownian path ("reference sra1 at dt = 2^-14").
  public var reference: String
  /// The order the solver's descriptor declares for this problem's noise (nil if none).
  public var declaredOrder: Double?
  /// Least-squares slope of log(error) on log(dt); nil with fewer than two levels.
  public var fittedOrder: Double?
  public var levels: [ConvergenceLevel]
}

/// The least-squares slope of y on x.
/// - Precondition: at least two points with distinct x.
public func leastSquaresSlope(x: [Double], y: [Double]) -> Double {
  precondition(x.count == y.count && x.count >= 2, "a slope needs two or more points")
  let n = Double(x.count)
  let mx = x.reduce(0, +) / n, my = y.reduce(0, +) / n
  var sxy = 0.0, sxx = 0.0
  for i in x.indices {
    sxy += (x[i] - mx) * (y[i] - my)
    sxx += (x[i] - mx) * (x[i] - mx)
  }
  return sxy / sxx
}

/// Checks a list of levels: non-empty, strictly increasing, each in 0...20.
public func validateLevels(_ levels: [Int]) throws {
  guard let first = levels.first, let last = levels.last else {
    throw SolveError.invalidConfiguration("levels must not be empty; give a range such as 3...10")
  }
  guard first >= 0, last <= 20 else {
    throw SolveError.invalidConfiguration("levels must lie in 0...20 (dt = 2⁻ᵏ), got \(first)...\(last)")
  }
  for i in 1..<levels.count where levels[i] <= levels[i - 1] {
    throw SolveError.invalidConfiguration(
      "levels must increase (coarse to fine), got \(levels[i - 1]) before \(levels[i])")
  }
}

/// The reference of a study without an exact solution: a strong-order-1.5 scheme other than the
/// one studied where there is one (SRA1 or SRIW1 for additive noise; SRIW1, the only one, for
/// diagonal and scalar noise).
func defaultReference(for solver: SolverDescriptor, noise: NoiseStructure) -> any SDESolver {
  guard noise == .additive else { return SRIW1() }
  return solver.name == SRA1.descriptor.name ? SRIW1() : SRA1()
}

/// How many levels finer than the finest studied level a reference solve runs.
public let referenceLevelOffset = 4

/// Measures a solver's strong or weak error at dt = (t1 − t0)/2ᵏ for each level k, all levels
/// driven by one Brownian path per sample (a `BrownianGrid`), and fits the order.
///
/// Errors are measured against the exact solution X(T) as a function of W(T) when the problem
/// has one; otherwise the weak error uses the exact mean when known, and everything else a
/// reference solve on the same path, `referenceSolver` at level k_max + `referenceLevelOffset`.
/// The mean error and its standard error come from `BlockMoments`, so a study whose paths are
/// split between processes (`convergenceErrors(rows:)`, merged) gives the same bits.
///
/// - Parameters:
///   - paths: number of sample paths M (≥ 2); standard errors are sample standard deviations / √M.
///   - levels: strictly increasing k values.
///   - referenceSolver: the solver for the reference; defaults to SRA1 for additive noise and
///     SRIW1 otherwise (both strong order 1.5) — for SRA1 under study, SRIW1, so that a scheme
///     converging to a wrong limit cannot pass against itself.
/// - Throws: `SolveError` for invalid settings, an incompatible solver or a non-finite state.
public func convergenceStudy<P: SDETestProblem, S: SDESolver>(
  problem: P, named name: String, solver: S, kind: ErrorKind, paths: Int, levels: [Int],
  seed: UInt64 = 0, threads: Int? = nil, referenceSolver: (any SDESolver)? = nil
) throws -> ConvergenceStudy {
  ConvergenceStudy(try convergenceErrors(problem: problem, named: name, solver: solver, kind: kind, paths: paths,
                                         levels: levels, seed: seed, threads: threads,
                                         referenceSolver: referenceSolver))
}

/// The per-path errors of a convergence study (see `convergenceStudy`) over the paths `rows` of
/// `paths` (all of them by default): path i is the same whichever process solves it, since its
/// Brownian path is addressed by i. Processes that each take consecutive rows starting at a
/// multiple of `BlockMoments.blockRows` merge their `partial`s with `merging(_:)` into the
/// errors of all paths, and so into the study one process would print.
/// - Throws: `SolveError` for invalid settings, an incompatible solver or a non-finite state.
public func convergenceErrors<P: SDETestProblem, S: SDESolver>(
  problem: P, named name: String, solver: S, kind: ErrorKind, paths: Int, levels: [Int], rows: Range<Int>? = nil,
  seed: UInt64 = 0, threads: Int? = nil, referenceSolver: (any SDESolver)? = nil
) throws -> ConvergenceErrors {
  guard paths >= 2 else {
    throw SolveError.invalidConfiguration("paths must be at least 2 to estimate a standard error, got \(paths)")
  }
  let rows = rows ?? 0..<paths
  guard rows.lowerBound >= 0, rows.upperBound <= paths, rows.lowerBound % BlockMoments.blockRows == 0 else {
    throw SolveError.invalidConfiguration(
      "a share of a convergence study takes paths from a multiple of \(BlockMoments.blockRows) within 0..<\(paths), got \(rows)")
  }
  try validateLevels(levels)
  let sde = problem.problem(paths: rows.count)
  let noise = sde.diffusion.noise
  try checkCompatibility(solver: solver.descriptor, noise: noise,
                         providesDerivative: sde.diffusion.providesDerivative, calculus: sde.calculus)
  let span = abs(problem.t1 - problem.t0)
  let width = sde.noiseWidth
  let dimension = problem.initialState.count

  // What each path is compared with: the exact X(T) from W(T), a reference solve, or (weak
  // error only) the exact mean.
  var target: StateBatch?
  var source = BrownianGrid(seed: seed, t0: problem.t0, t1: problem.t1, finestSteps: 1 << levels.last!)
  let reference: String
  let exactMean = problem.exactMean
  var endpoint = StateBatch(count: rows.count, dimension: width)
  if !rows.isEmpty {
    endpoint.values.withUnsafeMutableBufferPointer { w in
      source.fill(rows: rows, width: width, step: GridStep(index: 0, count: 1, t: problem.t0, next: problem.t1),
                  increments: w.baseAddress!, spaceTime: nil)
    }
  }
  if let exact = problem.exactSolution(brownian: endpoint) {
    target = exact
    reference = "exact solution"
  } else if kind == .weak, exactMean != nil {
    reference = "exact mean"
  } else {
    let referenceLevel = levels.last! + referenceLevelOffset
    guard referenceLevel <= 24 else {
      throw SolveError.invalidConfiguration(
        "a reference solve at level \(referenceLevel) is too fine; the finest level must be at most \(24 - referenceLevelOffset)")
    }
    let method: any SDESolver = referenceSolver ?? defaultReference(for: solver.descriptor, noise: noise)
    source = BrownianGrid(seed: seed, t0: problem.t0, t1: problem.t1, finestSteps: 1 << referenceLevel)
    if !rows.isEmpty {
      target = try solve(sde, solver: method, grid: .uniform(steps: 1 << referenceLevel), noise: source,
                         firstSample: rows.lowerBound, threads: threads).final
    } else {
      target = StateBatch(count: 0, dimension: dimension)
    }
    reference = "reference \(method.descriptor.name) at dt = 2^-\(referenceLevel)"
  }

  var moments: [BlockMoments] = []
  var seconds: [Double] = []
  for level in levels {
    var errors = BlockMoments(width: 1, firstRow: rows.lowerBound)
    guard !rows.isEmpty else {
      moments.append(errors)
      seconds.append(0)
      continue
    }
    let clock = ContinuousClock(), start = clock.now
    let final = try solve(sde, solver: solver, grid: .uniform(steps: 1 << level), noise: source,
                          firstSample: rows.lowerBound, threads: threads).final
    let elapsed = clock.now - start
    var samples = [Double](repeating: 0, count: rows.count)
    for r in 0..<rows.count {
      if let target, kind == .strong {
        var squared = 0.0
        for j in 0..<dimension { let e = final[r, j] - target[r, j]; squared += e * e }
        samples[r] = squared.squareRoot()
      } else {
        // Weak error of φ(x) = mean of the components, against the same path or the exact mean.
        var difference = 0.0
        for j in 0..<dimension { difference += final[r, j] - (target?[r, j] ?? exactMean![j]) }
        samples[r] = difference / Double(dimension)
      }
    }
    errors.add(samples)
    moments.append(errors)
    seconds.append(elapsed.inSeconds)
  }
  let order = solver.descriptor.order(for: noise)
  return ConvergenceErrors(
    problem: name, solver: solver.descriptor.name, kind: kind, paths: paths, seed: seed, reference: reference,
    declaredOrder: kind == .strong ? order?.strong : order?.weak, levels: levels,
    dt: levels.map { span / Double(1 << $0) }, moments: moments, seconds: seconds)
}

/// A convergence study before its last step: per level, the moments of the per-path errors
/// (strong: ‖X_N − X(T)‖; weak: the mean over components of X_N − X(T), or of X_N − E X(T))
/// over the paths seen, and the wall time. `ConvergenceStudy.init(_:)` turns the errors of all
/// paths into the study.
public struct ConvergenceErrors: Sendable {
  public var problem: String
  public var solver: String
  public var kind: ErrorKind
  /// Paths in the whole study (this value may hold only some of them).
  public var paths: Int
  public var seed: UInt64
  public var reference: String
  public var declaredOrder: Double?
  public var levels: [Int]
  public var dt: [Double]
  /// Per level, the per-path errors seen.
  public var moments: [BlockMoments]
  /// Per level, the seconds the solves took (summed over processes once merged).
  public var seconds: [Double]

  /// The numbers another process needs to merge these errors: the seconds, then each level's
  /// `BlockMoments.partial` after its length.
  public var partial: [Double] {
    var out = seconds
    for level in moments {
      let part = level.partial
      out += [Double(part.count)] + part
    }
    return out
  }

  /// These errors with the numbers replaced by the merge of `partials` — one per process, in
  /// the order of their rows, this one's included — whose settings equal these.
  /// - Throws: `SolveError.invalidConfiguration` when a partial is cut short or the rows are
  ///   not consecutive from 0.
  public func merging(_ partials: [[Double]]) throws -> ConvergenceErrors {
    var merged = self
    merged.seconds = [Double](repeating: 0, count: levels.count)
    var parts = [[[Double]]](repeating: [], count: levels.count)
    for values in partials {
      guard values.count >= levels.count else {
        throw SolveError.invalidConfiguration("a convergence partial is cut short (\(values.count) numbers)")
      }
      for l in levels.indices { merged.seconds[l] += values[l] }
      var position = levels.count
      for l in levels.indices {
        guard position < values.count, let length = Int(exactly: values[position]), length >= 0,
              position + 1 + length <= values.count else {
          throw SolveError.invalidConfiguration("a convergence partial is cut short (\(values.count) numbers)")
        }
        parts[l].append(Array(values[(position + 1)..<(position + 1 + length)]))
        position += 1 + length
      }
    }
    merged.moments = try parts.map { try BlockMoments(width: 1, merging: $0) }
    return merged
  }
}

extension ConvergenceStudy {
  /// The study of the errors of all its paths: per level |mean error| with its standard error,
  /// and the fitted order.
  public init(_ errors: ConvergenceErrors) {
    let levels = errors.levels.indices.map { l in
      let moments = errors.moments[l]
      let n = Double(max(1, moments.count))
      return ConvergenceLevel(level: errors.levels[l], dt: errors.dt[l], error: abs(moments.mean[0]),
                              stderr: (moments.variance[0] / n).squareRoot(), seconds: errors.seconds[l])
    }
    self.init(problem: errors.problem, solver: errors.solver, kind: errors.kind, paths: errors.paths,
              seed: errors.seed, reference: errors.reference, declaredOrder: errors.declaredOrder,
              fittedOrder: fitOrder(levels), levels: levels)
  }
}

func fitOrder(_ levels: [ConvergenceLevel]) -> Double? {
  let usable = levels.filter { $0.error > 0 }
  guard usable.count >= 2 else { return nil }
  return leastSquaresSlope(x: usable.map { log($0.dt) }, y: usable.map { log($0.error) })
}

/// The sample mean and its standard error (sample standard deviation / √n).
public func meanAndStandardError(_ samples: [Double]) -> (mean: Double, standardError: Double) {
  let n = Double(samples.count)
  let mean = samples.reduce(0, +) / n
  let variance = samples.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)
  return (mean, (variance / n).squareRoot())
}
