import ArgumentParser
import Foundation
import SDEKit

struct ConvergenceCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "convergence",
    abstract: "Measure a solver's order on a problem with an exact solution.",
    discussion: """
      Solves the problem at dt = 2^-k for each level k, every level driven by the same Brownian \
      path per sample, and prints the error with its Monte-Carlo standard error and the fitted \
      log-log slope beside the order the solver declares.
      """)

  @Option(help: "The problem.")
  var problem: ProblemName = .gbm

  @Option(help: "The solver.")
  var solver: SolverName = .eulerMaruyama

  @Option(help: "Number of sample paths (at least 2).")
  var paths: Int = 10_000

  @Option(help: "Levels k, dt = 2^-k: a range 3...10 or a list 3,5,7, coarse to fine, within 0...20.")
  var levels: String = "3...10"

  @Flag(help: "Measure the weak error |E[X_N − X(T)]| instead of the strong error E|X_N − X(T)|.")
  var weak = false

  @Option(help: "Seed of the Brownian paths.")
  var seed: UInt64 = 0

  @Option(help: "Threads (default: every core). Results do not depend on it.")
  var threads: Int?

  @Flag(help: "Print one JSON object instead of a table.")
  var json = false

  func validate() throws {
    guard paths >= 2 else {
      throw ValidationError("--paths must be at least 2 to estimate a standard error, got \(paths)")
    }
    let parsed = try LevelSyntax.parse(levels)
    guard parsed.allSatisfy({ (0...20).contains($0) }) else {
      throw ValidationError("--levels must lie within 0...20, got \(levels)")
    }
    if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
    if weak && problem.kind == .ode {
      throw ValidationError("--weak applies to SDE problems; \(problem.rawValue) is an ODE")
    }
  }

  func run() throws {
    let study = try problem.convergence(
      solver: solver, kind: weak ? .weak : .strong, paths: paths,
      levels: try LevelSyntax.parse(levels), seed: seed, threads: threads)
    print(json ? try jsonString(study) : ConvergenceCommand.table(study))
  }

  static func table(_ study: ConvergenceStudy) -> String {
    var lines: [String] = []
    let isODE = SolverName(rawValue: study.solver)?.descriptor.kind == .ode
    let header = isODE
      ? "\(study.problem) · \(study.solver) · global error"
      : "\(study.problem) · \(study.solver) · \(study.kind.rawValue) error against the \(study.reference) · \(study.paths) paths · seed \(study.seed)"
    lines.append(header)
    lines.append(pad("level", 6) + pad("dt", 12) + pad("error", 12) + pad("stderr", 12))
    for level in study.levels {
      lines.append(pad(String(level.level), 6) + pad(scientific(level.dt), 12)
                   + pad(scientific(level.error), 12) + pad(scientific(level.stderr), 12))
    }
    let fitted = study.fittedOrder.map { String(format: "%.3f", $0) } ?? "n/a (needs two levels with non-zero error)"
    let declared = study.declaredOrder.map { String(format: "%.1f", $0) } ?? "none"
    lines.append("fitted order \(fitted) · declared \(declared)")
    return lines.joined(separator: "\n")
  }
}

func scientific(_ value: Double) -> String { String(format: "%.3e", value) }

func pad(_ text: String, _ width: Int) -> String {
  String(repeating: " ", count: max(0, width - text.count)) + text
}
