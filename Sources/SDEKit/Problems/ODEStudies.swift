import Foundation

/// The final state a study compares with: the exact one when the problem has it, otherwise
/// Dormand–Prince 5(4) at rtol = atol = 1e-13 (GSLIntegrators offers GSL references too).
public func referenceFinalState<P: ODETestProblem>(_ problem: P) throws -> [Double] {
  if let exact = problem.exactFinalState { return exact }
  let solver = DormandPrince5(settings: AdaptiveSettings(tolerance: 1e-13))
  return try solve(problem.problem(), solver: solver).final.row(0)
}

/// A fixed-step order study of any ODE method: `finalState(steps)` integrates the problem with
/// that many equal steps; the error is ‖y_N − reference‖₂ at dt = (t1 − t0)/2ᵏ per level k.
public func fixedStepStudy(
  problem name: String, solver: String, declaredOrder: Double?, span: Double, levels: [Int],
  reference: [Double], referenceName: String, finalState: (Int) throws -> [Double]
) throws -> ConvergenceStudy {
  try validateLevels(levels)
  var results: [ConvergenceLevel] = []
  for level in levels {
    let steps = 1 << level
    let final = try finalState(steps)
    var squared = 0.0
    for j in reference.indices { let e = final[j] - reference[j]; squared += e * e }
    results.append(ConvergenceLevel(level: level, dt: span / Double(steps), error: squared.squareRoot(), stderr: 0))
  }
  return ConvergenceStudy(problem: name, solver: solver, kind: .strong, paths: 1, seed: 0,
                          reference: referenceName, declaredOrder: declaredOrder,
                          fittedOrder: fitOrder(results), levels: results)
}

/// Measures a fixed-step ODE solver's global error at dt = (t1 − t0)/2ᵏ and fits the order.
public func convergenceStudy<P: ODETestProblem, S: ODESolver>(
  problem: P, named name: String, solver: S, levels: [Int]
) throws -> ConvergenceStudy {
  let reference = try referenceFinalState(problem)
  return try fixedStepStudy(
    problem: name, solver: solver.descriptor.name, declaredOrder: solver.descriptor.order(for: nil)?.strong,
    span: abs(problem.t1 - problem.t0), levels: levels, reference: reference,
    referenceName: problem.exactFinalState == nil ? "reference dopri5 at tolerance 1e-13" : "exact solution"
  ) { steps in
    try solve(problem.problem(), solver: solver, grid: .uniform(steps: steps), threads: 1).final.row(0)
  }
}

/// The fixed-step order of an adaptive solver's formula (its step-size control switched off).
public func convergenceStudy<P: ODETestProblem, S: AdaptiveODESolver>(
  problem: P, named name: String, fixedStepsOf solver: S, levels: [Int],
  reference: [Double]? = nil, referenceName: String? = nil
) throws -> ConvergenceStudy {
  let target = try reference ?? referenceFinalState(problem)
  let label = referenceName ?? (problem.exactFinalState == nil ? "reference dopri5 at tolerance 1e-13" : "exact solution")
  return try fixedStepStudy(
    problem: name, solver: solver.descriptor.name, declaredOrder: solver.descriptor.order(for: nil)?.strong,
    span: abs(problem.t1 - problem.t0), levels: levels, reference: target, referenceName: label
  ) { steps in try solver.integrateFixed(problem.problem(), steps: steps).row(0) }
}

/// One tolerance of a work–precision study.
public struct WorkPrecisionPoint: Sendable, Codable, Hashable {
  /// rtol = atol.
  public var tolerance: Double
  /// max_i |y_i − y*_i| / (1 + |y*_i|): the error in the units of the tolerance scale
  /// atol + rtol·|y| (with rtol = atol), so "error ≤ 10·tolerance" means within 10× that scale.
  public var error: Double
  public var evaluations: Int
  public var steps: Int
  public var rejectedSteps: Int
}

/// Error against cost for an adaptive solver over a range of tolerances.
public struct WorkPrecisionStudy: Sendable, Codable, Hashable {
  public var problem: String
  public var solver: String
  public var mode: SystemMode
  public var reference: String
  public var points: [WorkPrecisionPoint]
}

/// Solves `problem` at each tolerance (rtol = atol) with the solver `makeSolver` builds for it,
/// and measures the scaled error against `reference`.
public func workPrecisionStudy<P: ODETestProblem, S: AdaptiveODESolver>(
  problem: P, named name: String, tolerances: [Double], mode: SystemMode = .batch,
  reference: [Double], referenceName: String, makeSolver: (AdaptiveSettings) -> S
) throws -> WorkPrecisionStudy {
  guard !tolerances.isEmpty else { throw SolveError.invalidConfiguration("give at least one tolerance") }
  var points: [WorkPrecisionPoint] = []
  var solverName = ""
  for tolerance in tolerances {
    let solver = makeSolver(AdaptiveSettings(tolerance: tolerance))
    solverName = solver.descriptor.name
    let solution = try solve(problem.problem(), solver: solver, mode: mode)
    let final = solution.final.row(0)
    var error = 0.0
    for j in reference.indices { error = max(error, abs(final[j] - reference[j]) / (1 + abs(reference[j]))) }
    points.append(WorkPrecisionPoint(tolerance: tolerance, error: error,
                                     evaluations: solution.statistics.driftEvaluations,
                                     steps: solution.statistics.steps,
                                     rejectedSteps: solution.statistics.rejectedSteps))
  }
  return WorkPrecisionStudy(problem: name, solver: solverName, mode: mode, reference: referenceName, points: points)
}
