import SDEKit

/// The final state studies compare with: the exact one when the problem has it, otherwise GSL
/// at a tight tolerance — rk8pd at 1e-13 for non-stiff problems, msbdf at 1e-12 (with the
/// problem's Jacobian when it supplies one) for stiff ones.
public func gslReferenceFinalState<P: ODETestProblem>(_ problem: P) throws -> (state: [Double], name: String) {
  if let exact = problem.exactFinalState { return (exact, "exact solution") }
  let (stepper, tolerance): (GSLStepType, Double) = problem.isStiff ? (.msbdf, 1e-12) : (.rk8pd, 1e-13)
  let solver = GSLODESolver(stepper, settings: AdaptiveSettings(tolerance: tolerance))
  let state = try solve(problem.problem(), solver: solver).final.row(0)
  return (state, "reference \(stepper.name) at tolerance \(tolerance)")
}
