import ArgumentParser
import Foundation
import ScoreModels
import SDEKit

/// The processes one run is spread over. `sdekit` runs in one process and has none;
/// `sdekit-mpi` implements this over MPI and runs the commands through `runSDEKit(across:)`.
/// Every call but `rank`, `size`, `abort` and `SharedFile.write` is collective: every rank
/// makes it, in the same order.
public protocol Cluster: AnyObject {
  var rank: Int { get }
  var size: Int { get }
  /// The lowest rank whose `failed` is true, nil when none failed.
  func firstFailure(_ failed: Bool) -> Int?
  /// Element-wise sums over the ranks, on every rank.
  func sum(_ values: [Double]) -> [Double]
  /// Every rank's values at rank 0, in rank order; empty on the other ranks.
  func gather(_ values: [Double]) -> [[Double]]
  /// Rank 0's text, on every rank.
  func broadcast(_ text: String) -> String
  /// Opens (creating) a file that every rank writes at its own offsets.
  func openShared(_ path: String) throws -> SharedFile
  /// Ends every rank of the job at once with `status` (after this rank printed why).
  func abort(status: Int32) -> Never
  /// Ends this rank normally with `status`, once every rank gets here.
  func finish(status: Int32) -> Never
}

/// A file written by every rank of a `Cluster`. A collective call is made by every rank even
/// when an earlier call threw on it (a short write), or the other ranks would wait in it forever.
public protocol SharedFile: AnyObject {
  /// A collective write: every rank calls it equally often, with empty data when it has none.
  func writeAll(_ data: Data, at offset: Int) throws
  /// A write by this rank alone.
  func write(_ data: Data, at offset: Int) throws
  /// Flushes every rank's writes so far to the device (collective).
  func sync() throws
  /// Flushes and closes the file (collective).
  func close() throws
}

/// The cluster the running command is spread over, nil in plain `sdekit`.
enum ClusterRun {
  nonisolated(unsafe) static var current: Cluster?
}

/// Runs the command line on every rank of `cluster`: `sdekit-mpi sample|compare|convergence …`
/// split their rows (samples or paths) between the ranks and rank 0 prints the one report.
/// Bad input is agreed on before anything starts, and failures while running at the next
/// point where the ranks meet (after each chunk, run or level), so one rank prints one message
/// and every rank exits with a non-zero status.
public func runSDEKit(across cluster: Cluster) -> Never {
  ClusterRun.current = cluster
  _ = openBLASSingleThreaded
  var failure: (message: String, status: Int32)?
  var command: ClusterCommand?
  do {
    var parsed = try SDEKitCommand.parseAsRoot()
    if let sample = parsed as? SampleCommand {
      command = .sample(sample)
    } else if let compare = parsed as? CompareCommand {
      command = .compare(compare)
    } else if let convergence = parsed as? ConvergenceCommand {
      command = .convergence(convergence)
    } else if "\(type(of: parsed))" == "HelpCommand" {
      // `sdekit-mpi help sample` and the like: rank 0 prints the help.
      if cluster.rank == 0 { try parsed.run() }
      cluster.finish(status: 0)
    } else {
      failure = ("sdekit-mpi runs sample, compare and convergence across ranks; run the others with sdekit", 64)
    }
  } catch {
    failure = SDEKitCommand.outcome(of: error)
  }
  if let failure, failure.status == 0 {
    if cluster.rank == 0 { print(failure.message) }  // --help
    cluster.finish(status: 0)
  }
  cluster.stopIfAnyFailed(setup: failure.map { CLIError($0.message) }, status: failure?.status)
  do {
    switch command! {
    case .sample(let sample): try sample.runAcrossRanks(cluster)
    case .compare(let compare): try compare.runAcrossRanks(cluster)
    case .convergence(let convergence): try convergence.runAcrossRanks(cluster)
    }
  } catch {
    // Each command agrees on its failures, and ends the job itself when rank 0 fails after the
    // last collective call; anything else may leave ranks waiting in one, so it stops the job.
    FileHandle.standardError.write(Data("sdekit-mpi: rank \(cluster.rank): \(SDEKitCommand.outcome(of: error).message)\n".utf8))
    cluster.abort(status: 1)
  }
  cluster.finish(status: 0)
}

/// The parsed command (ParsableCommand is not a type to store as an existential here).
enum ClusterCommand {
  case sample(SampleCommand)
  case compare(CompareCommand)
  case convergence(ConvergenceCommand)
}

/// How ranks split rows (samples or paths): consecutive ranges that start at multiples of
/// `BlockMoments.blockRows` (so merged statistics are one process's bits), as even as whole
/// blocks allow. A rank may get none.
enum RowSplit {
  static func rows(rank: Int, of size: Int, count: Int) -> Range<Int> {
    let block = BlockMoments.blockRows
    let blocks = count / block + (count % block == 0 ? 0 : 1)
    let first = blocks * rank / size, last = blocks * (rank + 1) / size
    return min(count, first * block)..<min(count, last * block)
  }
}

extension Cluster {
  /// This rank's rows among `count` (see `RowSplit`).
  func rows(count: Int) -> Range<Int> { RowSplit.rows(rank: rank, of: size, count: count) }

  /// Setup: every rank says whether the run's setup failed on it; if any did, the lowest such
  /// rank prints its message (as `sdekit` would, without a rank) and every rank ends with its
  /// status (64 for bad input). Collective.
  func stopIfAnyFailed(setup error: Error?, status: Int32? = nil) {
    guard let failing = firstFailure(error != nil) else { return }
    Interrupt.outcomeReported()
    var mine = 0.0
    if failing == rank, let error {
      FileHandle.standardError.write(Data("sdekit-mpi: \(SDEKitCommand.outcome(of: error).message)\n".utf8))
      mine = Double(status ?? SDEKitCommand.outcome(of: error).status)
    }
    // Every rank ends with the failing rank's status: mpirun reports whichever rank ends first.
    finish(status: Int32(sum([mine])[0]))
  }

  /// While running: every rank says whether it failed since the last call; if any did, the
  /// lowest such rank prints "rank r: " and its message (`describe` may add to it), `cleanup`
  /// runs on every rank, and every rank ends with status 1. Collective.
  func stopIfAnyFailed(_ error: Error?, describe: (String) -> String = { $0 }, cleanup: () -> Void = {}) {
    guard let failing = firstFailure(error != nil) else { return }
    Interrupt.outcomeReported()
    cleanup()
    if failing == rank, let error {
      FileHandle.standardError.write(Data("sdekit-mpi: rank \(rank): \(describe(SDEKitCommand.outcome(of: error).message))\n".utf8))
    }
    finish(status: 1)
  }

  /// A failure of this rank alone once every collective call is done (rank 0 writing the report):
  /// prints it and ends with status 1; the other ranks are finishing already.
  func stop(_ message: String) -> Never {
    Interrupt.outcomeReported()
    FileHandle.standardError.write(Data("sdekit-mpi: \(message)\n".utf8))
    finish(status: 1)
  }
}
