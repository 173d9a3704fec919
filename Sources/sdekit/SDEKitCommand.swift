import ArgumentParser
import Foundation
import SDEKit

@main
struct SDEKitCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "sdekit",
    abstract: "SDE and ODE solvers for score-based diffusion models.",
    subcommands: [ConvergenceCommand.self, ListCommand.self])

  /// Runs the command; any error becomes one line on stderr and a non-zero exit status.
  static func main() {
    do {
      var command = try parseAsRoot()
      try command.run()
    } catch {
      let code = exitCode(for: error)
      if code == .success {
        // --help and --version arrive as errors that are not failures.
        print(fullMessage(for: error))
        Foundation.exit(0)
      }
      let message = (error as? SolveError)?.description ?? self.message(for: error)
      // ArgumentParser lists valid values one per line ("  - gbm"); keep them on one line.
      let lines = message.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
      let items = lines.filter { $0.hasPrefix("- ") }.map { String($0.dropFirst(2)) }
      let prose = lines.filter { !$0.hasPrefix("- ") && !$0.isEmpty }
      let oneLine = (prose + (items.isEmpty ? [] : [items.joined(separator: ", ")])).joined(separator: " ")
      FileHandle.standardError.write(Data("sdekit: \(oneLine)\n".utf8))
      Foundation.exit(code == .failure || error is SolveError ? 1 : code.rawValue)
    }
  }
}

extension SolverName: ExpressibleByArgument {}
extension ProblemName: ExpressibleByArgument {}

/// JSON as the CLI prints it: snake_case keys, sorted, indented.
func jsonString<T: Encodable>(_ value: T) throws -> String {
  let encoder = JSONEncoder()
  encoder.keyEncodingStrategy = .convertToSnakeCase
  encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
  return String(decoding: try encoder.encode(value), as: UTF8.self)
}
