import ArgumentParser
import Foundation
import Samplers
import ScoreModels
import SDEKit

struct ListCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "list", abstract: "List the built-in solvers, problems, samplers, targets or processes.")

  enum Topic: String, ExpressibleByArgument, CaseIterable {
    case solvers
    case problems
    case samplers
    case targets
    case processes
  }

  @Argument(help: "What to list.")
  var topic: Topic

  @Flag(help: "Print a JSON array.")
  var json = false

  func run() throws {
    switch (topic, json) {
    case (.solvers, true):
      print(try jsonString(SolverChoice.allCases.map(\.descriptor)))
    case (.solvers, false):
      print(ListCommand.solverTable())
    case (.problems, true):
      print(try jsonString(ProblemName.allCases.map(ProblemEntry.init)))
    case (.problems, false):
      printTable(ProblemName.allCases.map { ($0.rawValue, $0.summary) })
    case (.samplers, true):
      print(try jsonString(SamplerName.allCases.map(\.descriptor)))
    case (.samplers, false):
      printTable(SamplerName.allCases.map { sampler in
        let d = sampler.descriptor
        let order = d.order.map { "order \($0)" } ?? "order —"
        return (d.name, "\(d.stochastic ? "stochastic" : "deterministic") · \(order) · processes \(d.processes.map(\.rawValue).joined(separator: ",")) · \(d.summary)")
      })
    case (.targets, true):
      print(try jsonString(TargetName.allCases.map { ["name": $0.rawValue, "summary": $0.summary] }))
    case (.targets, false):
      printTable(TargetName.allCases.map { ($0.rawValue, $0.summary) })
    case (.processes, true):
      print(try jsonString(ProcessName.allCases.map { ["name": $0.rawValue, "summary": $0.summary] }))
    case (.processes, false):
      printTable(ProcessName.allCases.map { ($0.rawValue, $0.summary) })
    }
  }

  private func printTable(_ rows: [(String, String)]) {
    let width = rows.map(\.0.count).max()! + 2
    for (name, text) in rows { print(name.padding(toLength: width, withPad: " ", startingAt: 0) + text) }
  }

  static func solverTable() -> String {
    var lines = ["name                      kind  calculus      orders (noise: strong/weak)                          evals/step (f, g)"]
    for choice in SolverChoice.allCases {
      let d = choice.descriptor
      let orders = d.orders.map { order in
        d.isAdaptive ? "order \(Int(order.strong))" : "\(order.noise?.rawValue ?? "ode"): \(trimmed(order.strong))/\(trimmed(order.weak))"
      }.joined(separator: ", ")
      let calculus = d.calculus?.description ?? "—"
      let cost: String
      if d.isAdaptive {
        cost = "adaptive" + (d.needsJacobian ? ", needs Jacobian" : "")
      } else {
        cost = "\(d.driftEvaluationsPerStep), \(d.diffusionEvaluationsPerStep)"
          + (d.needsDerivative ? " (+∂g/∂x)" : "") + (d.needsSpaceTimeIntegral ? " (ΔZ)" : "")
          + (d.errorEstimate.map { " · adaptive: \($0.rawValue)" } ?? "")
      }
      lines.append(
        d.name.padding(toLength: 26, withPad: " ", startingAt: 0)
          + d.kind.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0)
          + calculus.padding(toLength: 14, withPad: " ", startingAt: 0)
          + orders.padding(toLength: 53, withPad: " ", startingAt: 0)
          + cost)
    }
    return lines.joined(separator: "\n")
  }

  private static func trimmed(_ order: Double) -> String {
    order == order.rounded() ? String(Int(order)) + ".0" : String(order)
  }
}

/// A problem as `list problems --json` prints it.
struct ProblemEntry: Encodable {
  let name: String
  let kind: String
  let noise: String?
  let pathwiseExactSolution: Bool
  let summary: String

  init(_ problem: ProblemName) {
    name = problem.rawValue
    kind = problem.kind.rawValue
    noise = problem.noise?.rawValue
    pathwiseExactSolution = problem.hasPathwiseSolution
    summary = problem.summary
  }
}
