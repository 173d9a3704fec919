import ArgumentParser
import Foundation
import Samplers
import SDEKit

extension CompareCommand {
  /// `compare` on every rank of an MPI job. Each rank runs every sampler and setting, and their
  /// pathwise references, on its consecutive range of rows (`RowSplit`); after each run the
  /// ranks agree whether any failed, and rank 0 gathers the run's statistics
  /// (`ComparisonStatistics.partial`: block-tree moments and the first 20,000 rows), merges them
  /// and prints the table one process prints. Adaptive samplers in batch mode solve all samples
  /// as one system, so they are refused; --mode per-sample splits.
  func runAcrossRanks(_ cluster: Cluster) throws {
    var planned: (comparison: SamplerComparison, base: SamplingConfiguration)?
    var setupError: Error?
    do {
      let (base, initial) = try plan()
      let comparison = try SamplerComparison(
        base: base, samplers: try samplerList(), steps: try stepList(), tolerances: try ToleranceSyntax.parse(tolerances),
        reference: try source.referenceMixture(), initial: initial, rows: cluster.rows(count: base.count))
      if let batch = comparison.runs.first(where: { $0.sampler.descriptor.adaptive && $0.mode == .batch }) {
        throw ValidationError("\(batch.sampler) in --mode batch solves all samples as one system, which ranks cannot split; use --mode per-sample")
      }
      planned = (comparison, base)
    } catch {
      setupError = error
    }
    cluster.stopIfAnyFailed(setup: setupError)
    let (comparison, base) = planned!
    Interrupt.install(outputs: [plot].compactMap { $0 }, quiet: cluster.rank != 0)

    var rows: [ComparisonRow] = []
    var failure: Error?
    for index in comparison.runs.indices {
      var statistics: ComparisonStatistics?
      if failure == nil {
        do { statistics = try comparison.measure(index) } catch { failure = error }
      }
      cluster.stopIfAnyFailed(failure)
      let partials = cluster.gather(statistics!.partial)
      guard cluster.rank == 0 else { continue }
      do {
        let merged = try ComparisonStatistics(target: comparison.target, seed: base.seed, merging: partials)
        rows.append(try comparison.row(index, merged))
      } catch {
        failure = error  // agreed on after the next run
      }
    }
    cluster.stopIfAnyFailed(failure)
    guard cluster.rank == 0 else { return }
    do { try publish(rows, count: base.count) } catch { cluster.stop(SDEKitCommand.outcome(of: error).message) }
  }
}
