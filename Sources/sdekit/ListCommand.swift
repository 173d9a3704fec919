import ArgumentParser
import Foundation
import SDEKit

struct ListCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "list", abstract: "List the built-in solvers or problems.")

  enum Topic: String, ExpressibleByArgument, CaseIterable {
    case solvers
    case problems
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
      let width = ProblemName.allCases.map(\.rawValue.count).max()! + 2
      for problem in ProblemName.allCases {
        print(problem.rawValue.padding(toLength: width, withPad: " ", startingAt: 0) + problem.summary)
      }
    }
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
