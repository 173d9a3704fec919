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
  guard paths >= 2 else {
    throw SolveError.invalidConfiguration("paths must be at least 2 to estimate a standard error, got \(paths)")
  }
  try validateLevels(levels)
  let sde = problem.problem(paths: paths)
  let noise = sde.diffusion.noise
  try checkCompatibility(solver: solver.descriptor, noise: noise,
                         providesDerivative: sde.diffusion.providesDerivative, calculus: sde.calculus)
  let span = abs(problem.t1 - problem.t0)
  let width = sde.noiseWidth
  let dimension = sde.initial.dimension

  // What each path is compared with: the exact X(T) from W(T), a reference solve, or (weak
  // error only) the exact mean.
  var target: StateBatch?
  var source = BrownianGrid(seed: seed, t0: problem.t0, t1: problem.t1, finestSteps: 1 << levels.last!)
  let reference: String
  let exactMean = problem.exactMean
  var endpoint = StateBatch(count: paths, dimension: width)
  endpoint.values.withUnsafeMutableBufferPointer { w in
    source.fill(rows: 0..<paths, width: width, step: GridStep(index: 0, count: 1, t: problem.t0, next: problem.t1),
                increments: w.baseAddress!, spaceTime: nil)
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
    target = try solve(sde, solver: method, grid: .uniform(steps: 1 << referenceLevel), noise: source,
                       threads: threads).final
    reference = "reference \(method.descriptor.name) at dt = 2^-\(referenceLevel)"
  }

  var results: [ConvergenceLevel] = []
  for level in levels {
    let steps = 1 << level
    let clock = ContinuousClock(), start = clock.now
    let final = try solve(sde, solver: solver, grid: .uniform(steps: steps), noise: source,
                          threads: threads).final
    let elapsed = clock.now - start
    var samples = [Double](repeating: 0, count: paths)
    for r in 0..<paths {
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
    let (mean, standardError) = meanAndStandardError(samples)
    results.append(ConvergenceLevel(level: level, dt: span / Double(steps), error: abs(mean),
                                    stderr: standardError,
                                    seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18))
  }
  let order = solver.descriptor.order(for: noise)
  return ConvergenceStudy(
    problem: name, solver: solver.descriptor.name, kind: kind, paths: paths, seed: seed,
    reference: reference, declaredOrder: kind == .strong ? order?.strong : order?.weak,
    fittedOrder: fitOrder(results), levels: results)
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
