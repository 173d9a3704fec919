import Foundation

/// One tolerance of an adaptive SDE study.
public struct AdaptiveConvergencePoint: Sendable, Codable, Hashable {
  /// rtol = atol.
  public var tolerance: Double
  /// Strong error at t1: the mean over paths of ‖X − X*‖₂, X* the exact solution on the tree's
  /// own W(t1) or the fine reference on the same tree.
  public var error: Double
  /// Its Monte-Carlo standard error.
  public var errorStderr: Double
  /// The mean over paths of φ(X) = the mean of X's components, and its standard error.
  public var mean: Double
  public var meanStderr: Double
  /// The same for φ(X)²: the second moment, beside the exact one where known.
  public var secondMoment: Double
  public var secondMomentStderr: Double
  /// Drift evaluations per path (per batch in batch mode); the drift of a diffusion sampler is
  /// one score evaluation.
  public var nfe: Double
  /// Diffusion evaluations per path.
  public var diffusionEvaluations: Double
  /// Accepted and rejected steps per path, and the rejected fraction of all attempts.
  public var steps: Double
  public var rejectedSteps: Double
  public var rejectedFraction: Double
  /// Wall time of the adaptive solve of all paths.
  public var seconds: Double
  /// Processor time of the process during that solve (all threads): on a shared machine the
  /// steadier measure of a one-thread run.
  public var cpuSeconds: Double
}

/// Error, moments and cost of an adaptive SDE solve over a range of tolerances, every tolerance
/// on the same Brownian tree.
public struct AdaptiveConvergenceStudy: Sendable, Codable, Hashable {
  public var problem: String
  public var solver: String
  /// How the error was estimated (`embedded`, `step-doubling`).
  public var errorEstimate: String
  public var mode: SystemMode
  public var paths: Int
  public var seed: UInt64
  /// Levels of the Brownian tree (leaves of |t1 − t0|/2^depth, the smallest step).
  public var treeDepth: Int
  /// What errors are measured against.
  public var reference: String
  /// E φ(X(t1)) and E φ(X(t1))² when known (φ = mean of the components).
  public var exactMean: Double?
  public var exactSecondMoment: Double?
  /// Least-squares slope of log(error) on log(tolerance); nil with fewer than two usable points.
  public var fittedSlope: Double?
  public var points: [AdaptiveConvergencePoint]

  enum CodingKeys: String, CodingKey {
    case problem, solver, errorEstimate, mode, paths, seed, treeDepth, reference, exactMean, exactSecondMoment,
         fittedSlope, points
  }

  /// Encodes the exact moments as null when unknown, so the keys are always there.
  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(problem, forKey: .problem)
    try c.encode(solver, forKey: .solver)
    try c.encode(errorEstimate, forKey: .errorEstimate)
    try c.encode(mode, forKey: .mode)
    try c.encode(paths, forKey: .paths)
    try c.encode(seed, forKey: .seed)
    try c.encode(treeDepth, forKey: .treeDepth)
    try c.encode(reference, forKey: .reference)
    try c.encode(exactMean, forKey: .exactMean)
    try c.encode(exactSecondMoment, forKey: .exactSecondMoment)
    try c.encode(fittedSlope, forKey: .fittedSlope)
    try c.encode(points, forKey: .points)
  }
}

/// The default depth of a study's Brownian tree: leaves of |t1 − t0|/2²⁰ (1e-6 over [0, 1]),
/// far below the steps of tolerances down to 1e-6.
public let adaptiveStudyTreeDepth = 20

/// Solves `problem` adaptively at each tolerance (rtol = atol), every tolerance on one Brownian
/// tree, and measures the strong error at t1 against the exact solution on the tree's W(t1) or,
/// when the problem has none, against `defaultReference(for:noise:)` (SRA1 for additive noise,
/// SRIW1 when SRA1 is studied or the noise is not additive) at 2^`referenceLevel` uniform steps
/// on the same tree; and the mean and second moment of φ(X) = mean of X's components beside
/// their exact values.
///
/// - Throws: `SolveError` for invalid settings, an incompatible solver or a failed solve.
public func adaptiveConvergenceStudy<P: SDETestProblem, S: SDESolver>(
  problem: P, named name: String, solver: S, tolerances: [Double], paths: Int, seed: UInt64 = 0,
  mode: SystemMode = .perSample, errorEstimate: SDEErrorEstimate? = nil, treeDepth: Int = adaptiveStudyTreeDepth,
  referenceLevel: Int = 14, threads: Int? = nil
) throws -> AdaptiveConvergenceStudy {
  guard paths >= 2 else {
    throw SolveError.invalidConfiguration("paths must be at least 2 to estimate a standard error, got \(paths)")
  }
  guard !tolerances.isEmpty else { throw SolveError.invalidConfiguration("give at least one tolerance") }
  if let bad = tolerances.first(where: { !($0 > 0 && $0 < 1) }) {
    throw SolveError.invalidConfiguration("tolerances must lie strictly between 0 and 1, got \(bad)")
  }
  let sde = problem.problem(paths: paths)
  let noise = sde.diffusion.noise
  try checkCompatibility(solver: solver.descriptor, noise: noise, providesDerivative: sde.diffusion.providesDerivative,
                         calculus: sde.calculus)
  let tree = try BrownianTree(seed: seed, t0: problem.t0, t1: problem.t1, depth: treeDepth)
  let dimension = sde.initial.dimension

  var endpoint = StateBatch(count: paths, dimension: sde.noiseWidth)
  endpoint.values.withUnsafeMutableBufferPointer { w in
    tree.fill(rows: 0..<paths, width: sde.noiseWidth, from: problem.t0, to: problem.t1, increments: w.baseAddress!,
              spaceTime: nil)
  }
  let target: StateBatch, reference: String
  if let exact = problem.exactSolution(brownian: endpoint) {
    target = exact
    reference = "exact solution on the tree's W(t1)"
  } else {
    guard referenceLevel <= treeDepth else {
      throw SolveError.invalidConfiguration("the reference at 2^\(referenceLevel) steps needs a tree of at least that depth, got \(treeDepth)")
    }
    let method = defaultReference(for: solver.descriptor, noise: noise)
    target = try solve(sde, solver: method, grid: .uniform(steps: 1 << referenceLevel), noise: tree, threads: threads).final
    reference = "reference \(method.descriptor.name) at dt = 2^-\(referenceLevel) on the same tree"
  }

  func phi(_ x: StateBatch, _ r: Int) -> Double {
    var sum = 0.0
    for j in 0..<dimension { sum += x[r, j] }
    return sum / Double(dimension)
  }
  let estimate = AdaptiveSDESettings(errorEstimate: errorEstimate).errorEstimate(for: solver.descriptor)
  var points: [AdaptiveConvergencePoint] = []
  for tolerance in tolerances {
    var settings = AdaptiveSDESettings(tolerance: tolerance)
    settings.errorEstimate = estimate
    let clock = ContinuousClock(), start = clock.now, cpuStart = processorSeconds()
    let solution = try solve(sde, solver: solver, settings: settings, noise: tree, mode: mode, threads: threads)
    let elapsed = clock.now - start, cpu = processorSeconds() - cpuStart
    let final = solution.final
    var errors = [Double](repeating: 0, count: paths), values = errors, squares = errors
    for r in 0..<paths {
      var squared = 0.0
      for j in 0..<dimension { let e = final[r, j] - target[r, j]; squared += e * e }
      errors[r] = squared.squareRoot()
      values[r] = phi(final, r)
      squares[r] = values[r] * values[r]
    }
    let (error, errorStderr) = meanAndStandardError(errors)
    let (mean, meanStderr) = meanAndStandardError(values)
    let (second, secondStderr) = meanAndStandardError(squares)
    let s = solution.statistics
    let perPath = mode == .perSample ? Double(paths) : 1
    points.append(AdaptiveConvergencePoint(
      tolerance: tolerance, error: error, errorStderr: errorStderr, mean: mean, meanStderr: meanStderr,
      secondMoment: second, secondMomentStderr: secondStderr,
      nfe: Double(s.driftEvaluations) / perPath, diffusionEvaluations: Double(s.diffusionEvaluations) / perPath,
      steps: Double(s.steps) / perPath, rejectedSteps: Double(s.rejectedSteps) / perPath,
      rejectedFraction: Double(s.rejectedSteps) / Double(max(1, s.steps + s.rejectedSteps)),
      seconds: elapsed.inSeconds,
      cpuSeconds: cpu))
  }
  let usable = points.filter { $0.error > 0 }
  let slope = usable.count >= 2
    ? leastSquaresSlope(x: usable.map { log($0.tolerance) }, y: usable.map { log($0.error) }) : nil
  let exactMean = problem.exactMean.map { $0.reduce(0, +) / Double($0.count) }
  return AdaptiveConvergenceStudy(
    problem: name, solver: solver.descriptor.name, errorEstimate: estimate.rawValue, mode: mode, paths: paths, seed: seed,
    treeDepth: treeDepth, reference: reference, exactMean: exactMean,
    exactSecondMoment: dimension == 1 ? problem.exactSecondMoment : nil, fittedSlope: slope, points: points)
}

/// X(t1) of `problem` by `solver` on `steps` uniform steps with its noise from `tree` (sample r
/// on row `firstSample + r`): the fixed-grid solve on the path an adaptive solve on the same tree
/// walks, e.g. its reference. `solve(_:solver:grid:noise:…)`'s final state, for a solver held as
/// `any SDESolver`.
/// - Throws: `SolveError` for an incompatible solver or bad times, `.nonFinite` with the row, step
///   and time where the state stopped being finite.
public func solveOnTree<F: Drift, G: Diffusion>(
  _ problem: SDEProblem<F, G>, solver: any SDESolver, steps: Int, tree: BrownianTree, firstSample: Int = 0,
  threads: Int? = nil
) throws -> StateBatch {
  try solve(problem, solver: solver, grid: .uniform(steps: steps), noise: tree, firstSample: firstSample,
            threads: threads).final
}

extension ProblemName {
  /// Runs an adaptive study of `solver` on this SDE problem (`adaptiveConvergenceStudy`).
  /// - Throws: `SolveError` naming the problem when it is an ODE, and the study's errors.
  public func adaptiveConvergence(
    solver: any SDESolver, tolerances: [Double], paths: Int, seed: UInt64 = 0, mode: SystemMode = .perSample,
    errorEstimate: SDEErrorEstimate? = nil, treeDepth: Int = adaptiveStudyTreeDepth, threads: Int? = nil
  ) throws -> AdaptiveConvergenceStudy {
    guard let problem = sdeProblem else {
      throw SolveError.incompatible(solver: solver.descriptor.name, reason: "is an SDE solver; problem \(rawValue) is an ODE")
    }
    return try adaptiveConvergenceStudy(problem: problem, named: rawValue, solver: solver, tolerances: tolerances,
                                        paths: paths, seed: seed, mode: mode, errorEstimate: errorEstimate,
                                        treeDepth: treeDepth, threads: threads)
  }
}
