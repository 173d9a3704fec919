import ArgumentParser
import Foundation
import SDEKit

extension ConvergenceCommand {
  /// `convergence` on every rank of an MPI job: each rank solves its consecutive range of paths
  /// (`RowSplit`) at every level, on the same Brownian paths one process would draw for them;
  /// rank 0 gathers the per-level error moments (`ConvergenceErrors.partial`), merges them and
  /// prints the study one process prints (the seconds summed over ranks). Only fixed-step
  /// studies of SDE problems split: ODE problems have one solution, and --adaptive studies are
  /// not split yet; their options (--tolerances, --mode, --tree-depth, --error-estimate, --fixed)
  /// `validate` already refuses for a fixed-step SDE study.
  func runAcrossRanks(_ cluster: Cluster) throws {
    var solverName: SolverName?
    var setupError: Error?
    do {
      guard !adaptive else {
        throw ValidationError("convergence across ranks splits the paths of fixed-step SDE studies; an --adaptive study is not split (run it with sdekit convergence)")
      }
      guard problem.kind == .sde, case .native(let name) = solver, case .sde = name.solver else {
        throw ValidationError("convergence across ranks splits the paths of SDE problems; \(problem.rawValue) with \(solver.name) has one solution (run it with sdekit convergence)")
      }
      _ = try LevelSyntax.parse(levels)
      solverName = name
    } catch {
      setupError = error
    }
    cluster.stopIfAnyFailed(setup: setupError)
    Interrupt.install(outputs: [plot].compactMap { $0 }, quiet: cluster.rank != 0)

    var errors: ConvergenceErrors?
    var failure: Error?
    do {
      errors = try problem.convergenceErrors(solver: solverName!, kind: weak ? .weak : .strong, paths: paths,
                                             levels: try LevelSyntax.parse(levels), seed: seed,
                                             rows: cluster.rows(count: paths), threads: threads)
    } catch {
      failure = error
    }
    cluster.stopIfAnyFailed(failure)
    let partials = cluster.gather(errors!.partial)
    guard cluster.rank == 0 else { return }
    do {
      try show(ConvergenceStudy(try errors!.merging(partials)))
    } catch {
      cluster.stop(SDEKitCommand.outcome(of: error).message)
    }
  }
}
