import ArgumentParser
import Foundation
import GSLIntegrators
import ScoreModels
import SDEKit

/// The `sdekit` executable (Sources/sdekit-tool) runs this; `sdekit-mpi` runs its commands on
/// every rank of an MPI job (see `Cluster`).
public func runSDEKit() { SDEKitCommand.main() }

struct SDEKitCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "sdekit",
    abstract: "SDE and ODE solvers for score-based diffusion models.",
    discussion: """
      Examples:
        sdekit sample --sde vp --target gmm2d8 --sampler sra1 --steps 200 -o samples.npy --plot samples.svg
        sdekit compare --samplers euler-maruyama,sra1,ddim,ode-gsl-rkf45 --steps 10,50,200 --plot compare.svg
        sdekit convergence --problem gbm --solver milstein --paths 10000 --levels 3...10
      """,
    version: "\(sdekitVersion) (vector kernels at SIMD level \(SIMDLevel.current); this CPU runs \(SIMDLevel.supported.map(\.description).joined(separator: ", ")))",
    subcommands: [SampleCommand.self, CompareCommand.self, ConvergenceCommand.self, TrainCommand.self, ListCommand.self,
                  LikelihoodCommand.self])

  /// Runs the command; any error becomes one line on stderr and a non-zero exit status.
  static func main() {
    _ = openBLASSingleThreaded
    do {
      var command = try parseAsRoot()
      try command.run()
    } catch {
      let (message, status) = outcome(of: error)
      if status == 0 {
        // --help and --version arrive as errors that are not failures.
        print(message)
        Foundation.exit(0)
      }
      FileHandle.standardError.write(Data("sdekit: \(message)\n".utf8))
      Foundation.exit(status)
    }
  }

  /// What to print for an error and the exit status: the full text with status 0 for --help and
  /// --version, else one line (the error's own for SDEKit's errors, status 1; ArgumentParser's
  /// with its status otherwise).
  static func outcome(of error: Error) -> (message: String, status: Int32) {
    let code = exitCode(for: error)
    if code == .success { return (fullMessage(for: error), 0) }
    let known = error as? SolveError != nil || error is GSLError || error is CLIError || error is DiffusionError
      || error is NetworkError
    let message = known ? "\(error)" : self.message(for: error)
    // ArgumentParser lists valid values one per line ("  - gbm"); keep them on one line.
    let lines = message.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
    let items = lines.filter { $0.hasPrefix("- ") }.map { String($0.dropFirst(2)) }
    let prose = lines.filter { !$0.hasPrefix("- ") && !$0.isEmpty }
    let oneLine = (prose + (items.isEmpty ? [] : [items.joined(separator: ", ")])).joined(separator: " ")
    return (oneLine, known ? 1 : code.rawValue)
  }
}

extension ProblemName: ExpressibleByArgument {}
extension SystemMode: ExpressibleByArgument {}
extension ErrorNorm: ExpressibleByArgument {}

/// A solver named on the command line: one of SDEKit's own or one of GSL's steppers.
enum SolverChoice: ExpressibleByArgument, CaseIterable, Sendable {
  case native(SolverName)
  case gsl(GSLStepType)

  static var allCases: [SolverChoice] {
    SolverName.allCases.map(SolverChoice.native) + GSLStepType.allCases.map(SolverChoice.gsl)
  }

  init?(argument: String) {
    guard let match = SolverChoice.allCases.first(where: { $0.name == argument }) else { return nil }
    self = match
  }

  static var allValueStrings: [String] { allCases.map(\.name) }

  var defaultValueDescription: String { name }

  var name: String {
    switch self {
    case .native(let solver): solver.rawValue
    case .gsl(let stepper): stepper.name
    }
  }

  var descriptor: SolverDescriptor {
    switch self {
    case .native(let solver): solver.descriptor
    case .gsl(let stepper): stepper.descriptor
    }
  }

  /// The adaptive solver at the given settings, nil for fixed-step solvers.
  func adaptive(_ settings: AdaptiveSettings) -> (any AdaptiveODESolver)? {
    switch self {
    case .native(.dopri5): DormandPrince5(settings: settings)
    case .native: nil
    case .gsl(let stepper): GSLODESolver(stepper, settings: settings)
    }
  }
}

/// JSON as the CLI prints it: snake_case keys, sorted, indented.
func jsonString<T: Encodable>(_ value: T) throws -> String {
  let encoder = JSONEncoder()
  encoder.keyEncodingStrategy = .convertToSnakeCase
  encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
  return String(decoding: try encoder.encode(value), as: UTF8.self)
}
