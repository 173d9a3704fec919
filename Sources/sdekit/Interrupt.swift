import Dispatch
import Foundation
import Synchronization

/// Ctrl-C and SIGTERM handling for commands that write files: say which files were not written,
/// remove any temporary file, and exit at once (status 130 for SIGINT, 143 for SIGTERM, as a
/// shell reports a process killed by them). Final files are only ever created by a rename at
/// the end, so none stands half-written under its name. A --resume output keeps its temporary
/// file and sidecar, to be continued.
enum Interrupt {
  nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []
  private static let outcomeSaid = Atomic<Bool>(false)

  /// The job's ranks have agreed how it ends and one has said so: a signal from here on (mpirun
  /// stopping the ranks still finishing once another has exited with its status) ends this
  /// rank without a second message.
  static func outcomeReported() { outcomeSaid.store(true, ordering: .sequentiallyConsistent) }

  /// Installs the handlers for a run that will write `outputs`; `resumable` is kept. Named
  /// `temporaries` are removed too (an MPI job's shared file); `quiet` prints nothing (every
  /// rank but rank 0).
  ///
  /// Under sdekit-mpi the handlers are installed even with no outputs, so that one rank says
  /// why the job ended: mpirun, sent SIGINT or SIGTERM, or finding a rank gone, sends SIGTERM to
  /// every rank (each in its own process group, so a terminal's Ctrl-C reaches mpirun alone).
  static func install(outputs: [String], resumable: String? = nil, temporaries: [String] = [], quiet: Bool = false) {
    let cluster = ClusterRun.current != nil
    guard !outputs.isEmpty || cluster else { return }
    let stop: @Sendable (Int32) -> Never = { signalNumber in
      for path in outputs { try? FileManager.default.removeItem(at: temporaryURL(for: path)) }
      for path in temporaries { unlink(path) }
      let status: Int32 = signalNumber == SIGINT ? 130 : 143
      // mpirun, stopping a job, loses what a rank wrote if it sees the ranks gone before it read
      // the line (rank 0's line was lost in 4 trials of 20 with rank 0 alone waiting 0.5 s, in
      // none of 20 with every rank waiting). It sends SIGKILL 1 s after SIGTERM
      // (odls_base_sigkill_timeout).
      if quiet || outcomeSaid.load(ordering: .sequentiallyConsistent) {
        if cluster { usleep(500_000) }
        exit(status)
      }
      var message: String
      switch (cluster, signalNumber == SIGINT) {
      case (false, let interrupted): message = "sdekit: \(interrupted ? "interrupted" : "terminated")"
      case (true, true): message = "sdekit-mpi: interrupted"
      case (true, false): message = "sdekit-mpi: stopped by mpirun (interrupted, or a rank ended without finishing)"
      }
      if !outputs.isEmpty { message += "; not written: \(outputs.joined(separator: ", "))" }
      if let resumable { message += "; the samples of \(resumable) so far are kept: run the same command with --resume to continue" }
      FileHandle.standardError.write(Data((message + "\n").utf8))
      if cluster { usleep(500_000) }
      exit(status)
    }
    if cluster {
      // A thread of its own waits for the signals, which sdekit-mpi's main blocked in every
      // thread: a Dispatch handler waits for a free worker, and with the sampler on the pool's
      // only one it ran after mpirun's SIGKILL in half of the trials.
      let thread = Thread {
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGINT)
        sigaddset(&signals, SIGTERM)
        var signalNumber: Int32 = 0
        while sigwait(&signals, &signalNumber) != 0 {}
        stop(signalNumber)
      }
      thread.start()
      return
    }
    for signalNumber in [SIGINT, SIGTERM] {
      signal(signalNumber, SIG_IGN)
      let handler = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
      handler.setEventHandler { stop(signalNumber) }
      handler.resume()
      sources.append(handler)
    }
  }
}
