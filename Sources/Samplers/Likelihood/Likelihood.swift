import Foundation
import GSLIntegrators
import ScoreModels
import SDEKit

/// How the divergence of the probability-flow drift is computed along each path.
public enum DivergenceEstimator: Sendable, Hashable {
  /// The model's own exact divergence: the mixtures' closed form, or the trace of d
  /// Jacobian–vector products for a network.
  case exact
  /// Hutchinson's estimator v·(J v) with `probes` vectors per sample, drawn once from the
  /// stream `.probes` and fixed along the path; each probe gets its own integral, so a sample's
  /// estimate (their mean) comes with a standard error over probes when there are two or more.
  case hutchinson(probes: Int, distribution: ProbeDistribution)
}

/// The distribution of Hutchinson's probe vectors (both have E[v vᵀ] = I).
public enum ProbeDistribution: String, Sendable, Hashable, Codable, CaseIterable {
  /// ±1 with equal odds in each coordinate (score_sde's choice; the smaller variance).
  case rademacher
  /// Standard normal coordinates.
  case gaussian
}

/// Where the probability-flow path ends: the density log p_T(x_T) is added to the integral.
public enum TerminalDensity: String, Sendable, Hashable, Codable, CaseIterable {
  /// The process's prior N(0, σ_prior² I), what a sampler starts from (score_sde's choice).
  case prior
  /// The model's own p_T in closed form (`MarginalLogDensity`; the exact mixture scores): the
  /// result is then the model's p_ε exactly, up to the solver's error.
  case marginal
}

/// The ODE solver of a likelihood run.
public enum LikelihoodSolver: Sendable {
  /// An adaptive solver (`DormandPrince5`, `GSLODESolver`), the batch as one system or each
  /// sample on its own.
  case adaptive(any AdaptiveODESolver, mode: SystemMode)
  /// A fixed-step solver over `steps` uniform steps from ε to T; rows run in parallel chunks.
  case fixed(any ODESolver, steps: Int)

  public var name: String {
    switch self {
    case .adaptive(let solver, _): solver.descriptor.name
    case .fixed(let solver, _): solver.descriptor.name
    }
  }
}

/// The settings of a probability-flow likelihood run.
public struct LikelihoodSettings: Sendable {
  public var solver: LikelihoodSolver
  public var divergence: DivergenceEstimator
  public var terminal: TerminalDensity

  public init(solver: LikelihoodSolver = .adaptive(DormandPrince5(settings: AdaptiveSettings(tolerance: 1e-5)), mode: .batch),
              divergence: DivergenceEstimator = .exact, terminal: TerminalDensity = .prior) {
    self.solver = solver
    self.divergence = divergence
    self.terminal = terminal
  }
}

/// Log-likelihoods of a batch of data and what they cost.
public struct LikelihoodResult: Sendable {
  /// log p_ε(x) of each row in nats: log p_T(x_T) plus the integral of the divergence (with
  /// Hutchinson probes, the mean of the probes' integrals).
  public var logLikelihood: [Double]
  /// Each row's standard error over its probes, sd/√K (Hutchinson with K ≥ 2 probes); nil for the
  /// exact divergence and for a single probe.
  public var probeStandardError: [Double]?
  /// log p_T(x_T) of each row.
  public var terminalLogDensity: [Double]
  /// Where each row's path ends, x_T.
  public var terminalState: StateBatch
  /// The mean of `logLikelihood` over rows.
  public var mean: Double
  /// The mean's standard error: the sample standard deviation of the rows' estimates over √n. It
  /// covers the data's spread and, with Hutchinson, the probes' (each row's estimate includes
  /// its probes' error, independent between rows).
  public var meanStandardError: Double
  /// Vector-field evaluations per sample (each one score with its divergence or probe products).
  public var nfe: Int
  /// Accepted and rejected steps (per sample, averaged, in per-sample mode).
  public var steps: Int
  public var rejectedSteps: Int
  public var seconds: Double
}

/// The log-likelihood of each row of `data` under the model's probability-flow ODE: the data
/// are points at time ε, integrated to T together with the divergence of the drift,
///
/// ```
/// log p_ε(x) = log p_T(x_T) + ∫_ε^T ∇·f̃(x_t, t) dt,   f̃ = c(t) x − ½ g(t)² s_θ(x, t)
/// ```
///
/// (Song et al. 2021, §4.3 and Appendix D.2; Chen et al. 2018, FFJORD, for the augmented ODE).
///
/// - Parameters:
///   - epsilon: where the data sit; nil for the process's default ε (1e-3 for the built-ins).
///     score_sde evaluates likelihoods from ε = 1e-5.
///   - seed: keys the probe vectors; row i's result depends on (seed, firstSample + i) only
///     (and, in batch mode, on which rows share the system).
///   - firstSample: the sample index of `data`'s first row.
///   - threads: chunks run in parallel (fixed-step and per-sample solves; a batch system is one solve).
///   - progress: told the time of every field evaluation.
/// - Throws: `DiffusionError` for bad settings, dimensions or data; `SolveError` or `GSLError`
///   when the solve fails.
public func logLikelihood<P: DiffusionProcess, S: DivergenceModel>(
  _ data: StateBatch, process: P, score: S, epsilon: Double? = nil, settings: LikelihoodSettings = LikelihoodSettings(),
  seed: UInt64 = 0, firstSample: Int = 0, threads: Int? = nil, progress: SamplingProgress? = nil
) throws -> LikelihoodResult {
  let epsilon = epsilon ?? process.defaultEpsilon
  try checkLikelihood(data, process: process, score: score, epsilon: epsilon, settings: settings)
  let clock = ContinuousClock(), start = clock.now
  let d = data.dimension, rows = data.count
  let probes: ProbeTable?
  switch settings.divergence {
  case .exact:
    probes = nil
  case .hutchinson(let count, let distribution):
    probes = ProbeTable(rows: rows, dimension: d, perRow: count, distribution: distribution, seed: seed,
                        firstSample: firstSample)
  }
  let field = LikelihoodField(process: process, score: score, dimension: d, probes: probes, progress: progress)
  let width = field.width, perRow = probes?.perRow ?? 1
  var initial = StateBatch(count: rows, dimension: width)
  for r in 0..<rows {
    for j in 0..<d { initial[r, j] = data[r, j] }
    if probes != nil { initial[r, width - 1] = Double(r) }
  }
  let problem = ODEProblem(field: field, initial: initial, t0: epsilon, t1: process.T)

  let final: StateBatch, statistics: SolveStatistics, perSampleCounts: Bool
  switch settings.solver {
  case .adaptive(let solver, .batch):
    let solution = try solve(problem, solver: controlled(solver, width: width, indexColumn: probes != nil), mode: .batch)
    (final, statistics, perSampleCounts) = (solution.final, solution.statistics, false)
  case .adaptive(let solver, .perSample):
    (final, statistics) = try solveEachRow(problem, solver: controlled(solver, width: width, indexColumn: probes != nil),
                                           threads: threads)
    perSampleCounts = true
  case .fixed(let solver, let steps):
    let solution = try solve(problem, solver: solver, grid: .uniform(steps: steps), threads: threads)
    (final, statistics, perSampleCounts) = (solution.final, solution.statistics, false)
  }

  var terminalState = StateBatch(count: rows, dimension: d)
  for r in 0..<rows { for j in 0..<d { terminalState[r, j] = final[r, j] } }
  let terminal = try terminalLogDensity(terminalState, process: process, score: score, kind: settings.terminal)
  var estimates = [Double](repeating: 0, count: rows)
  var probeErrors: [Double]? = perRow >= 2 ? [Double](repeating: 0, count: rows) : nil
  for r in 0..<rows {
    let integrals = (0..<perRow).map { final[r, d + $0] }
    let (mean, standardError) = meanWithStandardError(integrals)
    estimates[r] = terminal[r] + mean
    if perRow >= 2 { probeErrors![r] = standardError }
  }
  let (mean, meanError) = meanWithStandardError(estimates)
  func perSample(_ value: Int) -> Int { perSampleCounts ? (value + rows / 2) / rows : value }
  let elapsed = clock.now - start
  return LikelihoodResult(
    logLikelihood: estimates, probeStandardError: probeErrors, terminalLogDensity: terminal,
    terminalState: terminalState, mean: mean, meanStandardError: meanError,
    nfe: perSample(statistics.driftEvaluations), steps: perSample(statistics.steps),
    rejectedSteps: perSample(statistics.rejectedSteps),
    seconds: elapsed.inSeconds)
}

/// The mean of `values` and its standard error, the sample standard deviation over √n (NaN for
/// fewer than two values).
func meanWithStandardError(_ values: [Double]) -> (mean: Double, standardError: Double) {
  guard values.count >= 2 else { return (values.first ?? .nan, .nan) }
  return meanAndStandardError(values)
}

/// The solver with the tolerances it needs on the augmented state. Under the RMS norm a column
/// that never has an error (the probes' row index) would count as one more perfectly met element
/// and loosen the test of the others by √((w − 1)/w); both tolerances are scaled by that factor
/// so the control is that of the x and ℓ columns alone.
private func controlled(_ solver: any AdaptiveODESolver, width: Int, indexColumn: Bool) -> any AdaptiveODESolver {
  guard indexColumn, solver.settings.norm == .rms else { return solver }
  let factor = (Double(width - 1) / Double(width)).squareRoot()
  if var dopri = solver as? DormandPrince5 {
    dopri.settings.relativeTolerance *= factor
    dopri.settings.absoluteTolerance *= factor
    return dopri
  }
  if var gsl = solver as? GSLODESolver {
    gsl.settings.relativeTolerance *= factor
    gsl.settings.absoluteTolerance *= factor
    return gsl
  }
  return solver
}

/// Each row solved as its own system, rows in parallel chunks. A row's field carries only that
/// row's probes, under index 0: the index column is then the same for every row, so nothing
/// about a row's solve — the automatic first step looks at every element of the state — depends
/// on where the row sits in the data.
private func solveEachRow<P: DiffusionProcess, S: DivergenceModel, A: AdaptiveODESolver>(
  _ problem: ODEProblem<LikelihoodField<P, S>>, solver: A, threads: Int?
) throws -> (StateBatch, SolveStatistics) {
  let rows = problem.initial.count, width = problem.initial.dimension
  let threadCount = try resolvedThreadCount(threads)
  let outcome = RowOutcomes(rows: rows, width: width)
  forEachRowChunk(rows, threads: threadCount) { _, chunk in
    for r in chunk {
      var field = problem.field
      var initial = problem.initial.rows(r..<(r + 1))
      if let probes = field.probes {
        field = LikelihoodField(process: field.process, score: field.score, dimension: field.dimension,
                                probes: probes.slice(row: r), progress: field.progress)
        initial[0, width - 1] = 0
      }
      do {
        let (states, statistics) = try solver.integrate(ODEProblem(field: field, initial: initial, t0: problem.t0, t1: problem.t1),
                                                        through: [problem.t1])
        outcome.record(row: r, state: states[0].values, statistics: statistics)
      } catch {
        outcome.fail(row: r, error: error)
        return
      }
    }
  }
  // The lowest failing row, whatever the split, so the error does not depend on threads.
  if let failure = outcome.failures.min(by: { $0.row < $1.row }) {
    if case SolveError.nonFiniteVectorField(_, let time) = failure.error {
      throw SolveError.nonFiniteVectorField(row: failure.row, time: time)
    }
    throw failure.error
  }
  return (StateBatch(count: rows, dimension: width, values: outcome.states),
          outcome.statistics.reduce(SolveStatistics(), +))
}

/// Rows' final states and statistics, written by concurrent chunks.
private final class RowOutcomes: @unchecked Sendable {
  private let lock = NSLock()
  private let width: Int
  private(set) var states: [Double]
  private(set) var statistics: [SolveStatistics]
  private(set) var failures: [(row: Int, error: any Error)] = []

  init(rows: Int, width: Int) {
    self.width = width
    states = Array(repeating: 0, count: rows * width)
    statistics = Array(repeating: SolveStatistics(), count: rows)
  }

  func record(row: Int, state: [Double], statistics rowStatistics: SolveStatistics) {
    lock.lock()
    defer { lock.unlock() }
    for j in 0..<width { states[row * width + j] = state[j] }
    statistics[row] = rowStatistics
  }

  func fail(row: Int, error: any Error) {
    lock.lock()
    defer { lock.unlock() }
    failures.append((row, error))
  }
}

/// log p_T of the rows where the paths end.
private func terminalLogDensity<P: DiffusionProcess, S: ScoreModel>(
  _ x: StateBatch, process: P, score: S, kind: TerminalDensity
) throws -> [Double] {
  switch kind {
  case .prior:
    return process.priorLogDensity(x.values, dimension: x.dimension)
  case .marginal:
    // checkLikelihood has refused a model without one already.
    guard let model = score as? any MarginalLogDensity else { throw noMarginal(S.self) }
    var out = [Double](repeating: 0, count: x.count)
    x.withView { view in out.withUnsafeMutableBufferPointer { model.logDensity(view, t: process.T, into: $0) } }
    return out
  }
}

private func noMarginal(_ model: Any.Type) -> DiffusionError {
  .unsupported("the terminal density 'marginal' needs a model with a closed-form log p_T (the exact mixture scores); \(model) has none — use 'prior'")
}

/// The checks of data a likelihood is computed for: of the score model's dimension, at least one
/// row, every value finite.
func checkLikelihoodData(_ data: StateBatch, dimension: Int) throws {
  guard data.dimension == dimension else {
    throw DiffusionError.dimensionMismatch(
      "the data have dimension \(data.dimension) but the score model has dimension \(dimension)")
  }
  guard data.count >= 1 else { throw DiffusionError.invalidSetting("the data have no rows") }
  if let index = data.values.firstIndex(where: { !$0.isFinite }) {
    throw DiffusionError.invalidSetting(
      "data row \(index / data.dimension), coordinate \(index % data.dimension) is \(data.values[index]); every value must be finite")
  }
}

/// Everything `logLikelihood` checks before it starts, each failure naming the value and what is
/// allowed.
func checkLikelihood<P: DiffusionProcess, S: ScoreModel>(
  _ data: StateBatch, process: P, score: S, epsilon: Double, settings: LikelihoodSettings
) throws {
  try checkLikelihoodData(data, dimension: score.dimension)
  try process.validate(epsilon: epsilon)
  guard epsilon > 0 else {
    throw DiffusionError.invalidSetting("the probability-flow likelihood needs ε > 0 (the score is singular at t = 0), got \(epsilon)")
  }
  if settings.terminal == .marginal, !(score is any MarginalLogDensity) { throw noMarginal(S.self) }
  if case .hutchinson(let probes, _) = settings.divergence, probes < 1 {
    throw DiffusionError.invalidSetting("Hutchinson's estimator needs at least 1 probe, got \(probes)")
  }
  switch settings.solver {
  case .adaptive(let solver, _):
    guard solver.descriptor.kind == .ode else {
      throw DiffusionError.unsupported("\(solver.descriptor.name) is not an ODE solver")
    }
    do { try solver.settings.validate() } catch let error as SolveError {
      throw DiffusionError.invalidSetting(error.description)
    }
  case .fixed(let solver, let steps):
    guard solver.descriptor.kind == .ode else {
      throw DiffusionError.unsupported("\(solver.descriptor.name) is not an ODE solver")
    }
    guard steps >= 1 else { throw DiffusionError.invalidSetting("a fixed-step solve needs at least 1 step, got \(steps)") }
  }
}
