import Dispatch
import Foundation

/// Ctrl-C and SIGTERM handling for commands that write files: say which files were not written,
/// remove any temporary file, and exit at once (status 130 for SIGINT, 143 for SIGTERM, as a
/// shell reports a process killed by them). Final files are only ever created by a rename at
/// the end, so none stands half-written under its name. A --resume output keeps its temporary
/// file and sidecar, to be continued.
enum Interrupt {
  nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []

  /// Installs the handlers for a run that will write `outputs`; `resumable` is kept. Named
  /// `temporaries` are removed too (an MPI job's shared file); `quiet` prints nothing (every
  /// rank but rank 0).
  static func install(outputs: [String], resumable: String? = nil, temporaries: [String] = [], quiet: Bool = false) {
    guard !outputs.isEmpty else { return }
    for (signalNumber, status) in [(SIGINT, Int32(130)), (SIGTERM, Int32(143))] {
      signal(signalNumber, SIG_IGN)
      let handler = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
      handler.setEventHandler {
        for path in outputs { try? FileManager.default.removeItem(at: temporaryURL(for: path)) }
        for path in temporaries { unlink(path) }
        if quiet { exit(status) }
        var message = "\(ClusterRun.current == nil ? "sdekit" : "sdekit-mpi"): \(signalNumber == SIGINT ? "interrupted" : "terminated"); not written: \(outputs.joined(separator: ", "))"
        if let resumable { message += "; the samples of \(resumable) so far are kept: run the same command with --resume to continue" }
        FileHandle.standardError.write(Data((message + "\n").utf8))
        exit(status)
      }
      handler.resume()
      sources.append(handler)
    }
  }
}
