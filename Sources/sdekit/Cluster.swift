import ArgumentParser
import Foundation
import ScoreModels

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

/// A file written by every rank of a `Cluster`.
public protocol SharedFile: AnyObject {
  /// A collective write: every rank calls it equally often, with empty data when it has none.
  func writeAll(_ data: Data, at offset: Int) throws
  /// A write by this rank alone.
  func write(_ data: Data, at offset: Int) throws
  /// Flushes and closes the file (collective).
  func close() throws
}

/// The cluster the running command is spread over, nil in plain `sdekit`.
enum ClusterRun {
  nonisolated(unsafe) static var current: Cluster?
}

/// Runs the command line on every rank of `cluster`: `sdekit-mpi sample …` splits the rows
/// between the ranks (`SampleCommand.runAcrossRanks`). Bad input is agreed on before anything
/// starts, so one rank prints one message and every rank exits with a non-zero status; a
/// failure once sampling has started aborts the job.
public func runSDEKit(across cluster: Cluster) -> Never {
  ClusterRun.current = cluster
  _ = openBLASSingleThreaded
  var failure: (message: String, status: Int32)?
  var command: ParsableCommandBox?
  do {
    var parsed = try SDEKitCommand.parseAsRoot()
    if let sample = parsed as? SampleCommand { command = ParsableCommandBox(sample: sample) } else if "\(type(of: parsed))" == "HelpCommand" {
      // `sdekit-mpi help sample` and the like: rank 0 prints the help.
      if cluster.rank == 0 { try parsed.run() }
      cluster.finish(status: 0)
    } else {
      failure = ("sdekit-mpi runs sample across ranks; run compare, convergence, train and list with sdekit", 64)
    }
  } catch {
    failure = SDEKitCommand.outcome(of: error)
  }
  if let failure, failure.status == 0 {
    if cluster.rank == 0 { print(failure.message) }  // --help
    cluster.finish(status: 0)
  }
  if let failing = cluster.firstFailure(failure != nil) {
    if cluster.rank == failing, let failure {
      FileHandle.standardError.write(Data("sdekit-mpi: \(failure.message)\n".utf8))
    }
    cluster.finish(status: failure?.status ?? 1)
  }
  do {
    try command!.sample.runAcrossRanks(cluster)
  } catch {
    // runAcrossRanks agrees on its own setup errors; anything else stops the job.
    clusterFailure(cluster, SDEKitCommand.outcome(of: error).message)
  }
  cluster.finish(status: 0)
}

/// Holds the parsed command (ParsableCommand is not a type to store as an existential here).
struct ParsableCommandBox {
  var sample: SampleCommand
}

/// Prints one line for this rank's failure and ends the whole job.
func clusterFailure(_ cluster: Cluster, _ message: String, removing temporary: String? = nil) -> Never {
  if let temporary { unlink(temporary) }
  FileHandle.standardError.write(Data("sdekit-mpi: rank \(cluster.rank): \(message)\n".utf8))
  cluster.abort(status: 1)
}
