import Dispatch
import Foundation

/// Ctrl-C handling for commands that write files: on SIGINT, say which files were not written,
/// remove any temporary file, and exit with status 130 at once. Final files are only ever
/// created by a rename at the end, so none stands half-written under its name.
enum Interrupt {
  nonisolated(unsafe) private static var source: DispatchSourceSignal?

  /// Installs the handler for a run that will write `outputs`.
  static func install(outputs: [String]) {
    guard !outputs.isEmpty else { return }
    signal(SIGINT, SIG_IGN)
    let handler = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
    handler.setEventHandler {
      for path in outputs { try? FileManager.default.removeItem(at: temporaryURL(for: path)) }
      FileHandle.standardError.write(Data("sdekit: interrupted; not written: \(outputs.joined(separator: ", "))\n".utf8))
      exit(130)
    }
    handler.resume()
    source = handler
  }
}
