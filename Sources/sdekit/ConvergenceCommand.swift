import ArgumentParser
import Foundation
import GSLIntegrators
import SDEKit

struct ConvergenceCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "convergence",
    abstract: "Measure a solver's order, or an adaptive solver's error against cost.",
    discussion: """
      SDE problems: solves at dt = 2^-k for each level k, every level driven by the same Brownian \
      path per sample, and prints the error with its Monte-Carlo standard error and the fitted \
      log-log slope beside the order the solver declares. ODE problems with a fixed-step solver: \
      the same with the global error. Adaptive solvers (dopri5, gsl-*): error, evaluations and \
      steps per tolerance (--tolerances), or with --fixed the fixed-step order over --levels. \
      SDE problems with --adaptive: the SDE solver chooses its steps (an embedded error estimate \
      for sra1 and sriw1, step doubling for the others) on a Brownian tree; per tolerance the \
      strong error at T against the exact solution on the tree's own W(T) (or a fine reference \
      on the same tree), the mean of X(T) with its standard error beside the exact mean, and the \
      evaluations, steps and rejected steps per path.
      """)

  @Option(help: "The problem.")
  var problem: ProblemName = .gbm

  @Option(help: ArgumentHelp("The solver.", valueName: "solver"))
  var solver: SolverChoice = .native(.eulerMaruyama)

  @Option(help: "Sample paths, each with its own Brownian path (at least 2).")
  var paths: Int = 10_000

  @Option(help: "Levels k, step dt = 2^-k time units over [0, T]: a range 3...10 or a list 3,5,7, coarse to fine, within 0...20.")
  var levels: String = "3...10"

  @Option(help: ArgumentHelp("Adaptive solvers: tolerances rtol = atol (relative, and absolute in the state's units), decades 1e-3...1e-10 or a list 1e-4,1e-6. (default: 1e-3...1e-8; with --adaptive 1e-2...1e-5)", valueName: "tolerances"))
  var tolerances: String?

  @Flag(help: "Adaptive solvers: measure the fixed-step order over --levels instead.")
  var fixed = false

  @Flag(help: "SDE problems: let the SDE solver choose its steps per tolerance (--tolerances) on a Brownian tree.")
  var adaptive = false

  @Option(help: ArgumentHelp("With --adaptive: how the local error is estimated. (default: the solver's own — embedded for sra1 and sriw1, else step-doubling)", valueName: "estimate"))
  var errorEstimate: SDEErrorEstimate?

  @Option(help: ArgumentHelp("With --adaptive: levels of the Brownian tree, 1...\(BrownianTree.maximumDepth); its leaves, |T − t0|/2^depth, are the smallest step. (default: \(adaptiveStudyTreeDepth))", valueName: "depth"))
  var treeDepth: Int?

  @Option(help: ArgumentHelp("Adaptive solvers: the batch as one system or each sample on its own. (default: batch for ODE solvers, per-sample with --adaptive)", valueName: "mode"))
  var mode: SystemMode?

  @Flag(help: "Measure the weak error |E[X_N − X(T)]| instead of the strong error E|X_N − X(T)|.")
  var weak = false

  @Option(help: "Seed of the Brownian paths.")
  var seed: UInt64 = 0

  @Option(help: "Worker threads (default: every core). Results do not depend on it.")
  var threads: Int?

  @Flag(help: "Print one JSON object instead of a table.")
  var json = false

  @Option(help: "Also draw the errors on log–log axes to this .svg file (against dt, or NFE for tolerance studies).")
  var plot: String?

  func validate() throws {
    guard paths >= 2 else {
      throw ValidationError("--paths must be at least 2 to estimate a standard error, got \(paths)")
    }
    let parsed = try LevelSyntax.parse(levels)
    guard parsed.allSatisfy({ (0...20).contains($0) }) else {
      throw ValidationError("--levels must lie within 0...20, got \(levels)")
    }
    _ = try ToleranceSyntax.parse(toleranceText)
    if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
    let kind = solver.descriptor.kind
    if problem.kind != kind {
      throw ValidationError("\(solver.name) is an \(kind == .ode ? "ODE" : "SDE") solver; problem \(problem.rawValue) is an \(problem.kind == .ode ? "ODE" : "SDE")")
    }
    if weak && problem.kind == .ode {
      throw ValidationError("--weak applies to SDE problems; \(problem.rawValue) is an ODE")
    }
    if fixed && !solver.descriptor.isAdaptive {
      throw ValidationError("--fixed applies to adaptive solvers; \(solver.name) always takes fixed steps")
    }
    if adaptive && (problem.kind != .sde || kind != .sde) {
      throw ValidationError("--adaptive applies to SDE problems and SDE solvers; got \(problem.rawValue) with \(solver.name)")
    }
    if (errorEstimate != nil || treeDepth != nil) && !adaptive {
      throw ValidationError("--error-estimate and --tree-depth apply with --adaptive")
    }
    if !isToleranceStudy {
      for (given, name) in [(tolerances != nil, "--tolerances"), (mode != nil, "--mode")] where given {
        throw ValidationError("\(name) applies to tolerance studies (an adaptive ODE solver, or --adaptive on an SDE problem); \(problem.rawValue) with \(solver.name)\(fixed ? " --fixed" : "") takes fixed steps over --levels")
      }
    }
    if adaptive {
      if weak { throw ValidationError("--weak does not apply with --adaptive, which prints the mean beside the exact mean") }
      // Depth 0 is one interval with no midpoint to refine to: no step could be rejected.
      if let treeDepth, !(1...BrownianTree.maximumDepth).contains(treeDepth) {
        throw ValidationError("--tree-depth must lie in 1...\(BrownianTree.maximumDepth), got \(treeDepth)")
      }
      if errorEstimate == .embedded, solver.descriptor.errorEstimate != .embedded {
        throw ValidationError("\(solver.name) has no embedded error estimate (sra1 and sriw1 have one); use --error-estimate step-doubling")
      }
    }
    if let plot { try checkOutputPath(plot, extension: "svg", option: "--plot") }
  }

  func run() throws {
    Interrupt.install(outputs: [plot].compactMap { $0 })
    let levelList = try LevelSyntax.parse(levels)
    if adaptive, case .native(let name) = solver, case .sde(let method) = name.solver {
      let study = try problem.adaptiveConvergence(
        solver: method, tolerances: try ToleranceSyntax.parse(toleranceText), paths: paths, seed: seed,
        mode: mode ?? .perSample, errorEstimate: errorEstimate, treeDepth: treeDepth ?? adaptiveStudyTreeDepth,
        threads: threads)
      print(json ? try jsonString(study) : ConvergenceCommand.table(study))
      if let plot {
        var svg = SVGPlot(title: "\(study.problem) · \(study.solver) adaptive · strong error against cost",
                          xLabel: "drift evaluations per path", yLabel: "strong error", xScale: .log, yScale: .log)
        svg.add(study.solver, study.points.map { ($0.nfe, $0.error) }, lines: true)
        try writeAtomically(Data(svg.render().utf8), to: plot)
      }
      return
    }
    guard let ode = problem.odeProblem, let adaptive = solver.adaptive(AdaptiveSettings()) else {
      guard case .native(let name) = solver else { return }
      let study = try problem.convergence(solver: name, kind: weak ? .weak : .strong, paths: paths,
                                          levels: levelList, seed: seed, threads: threads)
      try show(study)
      return
    }
    if fixed {
      try show(try fixedStudy(ode, adaptive, levels: levelList))
    } else {
      let study = try toleranceStudy(ode, tolerances: try ToleranceSyntax.parse(toleranceText))
      print(json ? try jsonString(study) : ConvergenceCommand.table(study))
      if let plot {
        var svg = SVGPlot(title: "\(study.problem) · \(study.solver) · error against cost", xLabel: "vector-field evaluations",
                          yLabel: "error", xScale: .log, yScale: .log)
        svg.add(study.solver, study.points.map { (Double($0.evaluations), $0.error) }, lines: true)
        svg.add("tolerance", study.points.map { (Double($0.evaluations), $0.tolerance) }, lines: true, radius: 1.5)
        try writeAtomically(Data(svg.render().utf8), to: plot)
      }
    }
  }

  /// Prints a study and, with --plot, draws its errors against dt with the fitted line and a
  /// line of the declared order through the finest point.
  func show(_ study: ConvergenceStudy) throws {
    print(json ? try jsonString(study) : ConvergenceCommand.table(study))
    guard let plot else { return }
    var svg = SVGPlot(title: "\(study.problem) · \(study.solver) · \(study.kind.rawValue) error", xLabel: "dt",
                      yLabel: "error", xScale: .log, yScale: .log)
    let points = study.levels.filter { $0.error > 0 }.map { ($0.dt, $0.error) }
    svg.add("measured", points, lines: true)
    if let fitted = study.fittedOrder, let last = points.last {
      svg.add(String(format: "fitted slope %.2f", fitted), points.map { ($0.0, last.1 * pow($0.0 / last.0, fitted)) }, lines: true, radius: 0)
    }
    if let declared = study.declaredOrder, let last = points.last {
      svg.add(String(format: "order %.1f", declared), points.map { ($0.0, last.1 * pow($0.0 / last.0, declared)) }, lines: true, radius: 0)
    }
    try writeAtomically(Data(svg.render().utf8), to: plot)
  }

  private func fixedStudy<P: ODETestProblem>(_ ode: P, _ adaptive: any AdaptiveODESolver, levels: [Int]) throws
    -> ConvergenceStudy {
    let reference = try gslReferenceFinalState(ode)
    return try convergenceStudy(problem: ode, named: problem.rawValue, fixedStepsOf: adaptive, levels: levels,
                                reference: reference.state, referenceName: reference.name)
  }

  private func toleranceStudy<P: ODETestProblem>(_ ode: P, tolerances: [Double]) throws -> WorkPrecisionStudy {
    let reference = try gslReferenceFinalState(ode)
    let choice = solver
    return try workPrecisionStudy(problem: ode, named: problem.rawValue, tolerances: tolerances, mode: mode ?? .batch,
                                  reference: reference.state, referenceName: reference.name) { settings in
      AnyAdaptiveSolver(base: choice.adaptive(settings)!)
    }
  }

  static func table(_ study: ConvergenceStudy) -> String {
    var lines: [String] = []
    let isSDE = ProblemName(rawValue: study.problem)?.kind == .sde
    let header = isSDE
      ? "\(study.problem) · \(study.solver) · \(study.kind.rawValue) error against the \(study.reference) · \(study.paths) paths · seed \(study.seed)"
      : "\(study.problem) · \(study.solver) · global error against the \(study.reference)"
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

  /// Whether the study is over tolerances (which --tolerances and --mode set), as `run` chooses:
  /// --adaptive on an SDE problem, or an ODE problem under an adaptive solver (dopri5, GSL's
  /// steppers) without --fixed. The others take fixed steps over --levels.
  var isToleranceStudy: Bool {
    adaptive || (problem.kind == .ode && solver.adaptive(AdaptiveSettings()) != nil && !fixed)
  }

  /// The tolerances as given, or the default for the kind of study.
  private var toleranceText: String { tolerances ?? (adaptive ? "1e-2...1e-5" : "1e-3...1e-8") }

  static func table(_ study: AdaptiveConvergenceStudy) -> String {
    var lines = ["\(study.problem) · \(study.solver) adaptive (\(study.errorEstimate), \(study.mode.rawValue)) · strong error against the \(study.reference) · \(study.paths) paths · seed \(study.seed) · tree depth \(study.treeDepth)"]
    let exact = study.exactMean.map { String(format: "%.5f", $0) } ?? "unknown"
    lines.append(pad("tolerance", 10) + pad("error", 12) + pad("stderr", 11) + pad("mean X(T)", 12) + pad("± SE", 10)
                 + pad("NFE/path", 10) + pad("steps", 9) + pad("rejected", 10) + pad("rej %", 7))
    for p in study.points {
      lines.append(pad(String(format: "%.0e", p.tolerance), 10) + pad(scientific(p.error), 12)
                   + pad(String(format: "%.2e", p.errorStderr), 11) + pad(String(format: "%.5f", p.mean), 12)
                   + pad(String(format: "%.5f", p.meanStderr), 10) + pad(String(format: "%.1f", p.nfe), 10)
                   + pad(String(format: "%.1f", p.steps), 9) + pad(String(format: "%.1f", p.rejectedSteps), 10)
                   + pad(String(format: "%.1f", 100 * p.rejectedFraction), 7))
    }
    let slope = study.fittedSlope.map { String(format: "%.3f", $0) } ?? "n/a"
    lines.append("exact mean \(exact) · fitted slope of log error on log tolerance \(slope)")
    return lines.joined(separator: "\n")
  }

  static func table(_ study: WorkPrecisionStudy) -> String {
    var lines = ["\(study.problem) · \(study.solver) · \(study.mode.rawValue) · error (max |y − y*|/(1 + |y*|)) against the \(study.reference)"]
    lines.append(pad("tolerance", 10) + pad("error", 12) + pad("error/tol", 10) + pad("evaluations", 12)
                 + pad("steps", 8) + pad("rejected", 9))
    for p in study.points {
      lines.append(pad(String(format: "%.0e", p.tolerance), 10) + pad(scientific(p.error), 12)
                   + pad(String(format: "%.2f", p.error / p.tolerance), 10) + pad(String(p.evaluations), 12)
                   + pad(String(p.steps), 8) + pad(String(p.rejectedSteps), 9))
    }
    return lines.joined(separator: "\n")
  }
}

/// An adaptive solver chosen at run time, as a concrete type for the generic study.
struct AnyAdaptiveSolver: AdaptiveODESolver {
  let base: any AdaptiveODESolver
  var descriptor: SolverDescriptor { base.descriptor }
  var settings: AdaptiveSettings { base.settings }

  func integrate<F: VectorField>(_ problem: ODEProblem<F>, through times: [Double]) throws
    -> (states: [StateBatch], statistics: SolveStatistics) {
    try base.integrate(problem, through: times)
  }

  func integrateFixed<F: VectorField>(_ problem: ODEProblem<F>, steps: Int) throws -> StateBatch {
    try base.integrateFixed(problem, steps: steps)
  }
}

func scientific(_ value: Double) -> String { String(format: "%.3e", value) }

func pad(_ text: String, _ width: Int) -> String {
  String(repeating: " ", count: max(0, width - text.count)) + text
}

extension SDEErrorEstimate: ExpressibleByArgument {}
