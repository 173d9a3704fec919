import ArgumentParser
import Foundation
import GSLIntegrators
import Samplers
import SampleFiles
import ScoreModels
import SDEKit

extension ProbeDistribution: ExpressibleByArgument {}
extension TerminalDensity: ExpressibleByArgument {}
extension DiscreteLevels.Range: ExpressibleByArgument {}
extension DDPMBoundSettings.Variance: ExpressibleByArgument {}

struct LikelihoodCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "likelihood",
    abstract: "Log-likelihood of data under a score model: the probability-flow ODE with its divergence, or the DDPM variational bound.",
    discussion: """
      Probability flow (the default): each data point x is taken as a point at time ε and \
      integrated with the probability-flow ODE dx/dt = f(x, t) − ½g(t)²s(x, t) from ε to T together \
      with the divergence of that drift, so that log p_ε(x) = log p_T(x_T) + ∫_ε^T ∇·f̃(x_t, t) dt \
      (Song et al. 2021, §4.3). The divergence is the model's exact one (the mixtures' closed form; \
      for a network the trace of d Jacobian–vector products) or Hutchinson's estimate v·(Jv) with \
      --probes K vectors per sample, fixed along its path, each integrated on its own, so that a \
      sample's estimate (their mean) has a standard error over probes when K ≥ 2. The run's \
      standard error is over samples (and so includes the probes' error).

      ε defaults to the process's own (1e-3 for the built-in processes), the time down to which \
      the built-in models are trained and sampled; a learned score below it is extrapolated. \
      score_sde evaluates likelihoods from ε = 1e-5, where p_ε is closer to the data density; pass \
      --epsilon 1e-5 to match it (the exact mixture scores are exact at any ε > 0).

      The path ends at the prior N(0, σ²I) (score_sde's choice, what a sampler starts from), or \
      with --terminal marginal at the model's own p_T in closed form, so that the result is exactly \
      the model's p_ε up to the solver's error; that is the default for a target's exact score.

      Units: nats per sample, and bits per dimension −log p/(d ln 2). With --discrete-levels L the \
      data are integers 0 … L − 1 (8-bit images: 256): score_sde's uniform dequantisation \
      y = low + (high − low)(k + u)/L (u from the seeded stream 'dequantisation'; --data-range \
      centered is [−1, 1], unit is [0, 1]) and log P(k) ≥ log p(y) + d·log((high − low)/L), so that \
      bits/dim = −log p(y)/(d ln 2) + log₂ L − log₂(high − low): score_sde's offset of 7 bits for \
      256 levels on [−1, 1].

      --bound ddpm (with --sde ddpm) evaluates Ho et al.'s variational bound L = L_T + Σ L_{n−1} + L_0 \
      on the discrete chain instead, each KL between Gaussians in closed form, over all N terms or \
      an unbiased estimate from --terms K of them; −L is reported as the log-likelihood (a lower \
      bound). With --discrete-levels the decoder is Ho et al.'s discretised Gaussian on the level \
      centres low + (high − low)k/(L − 1).

      -o writes a .npy of shape (count, 2): each sample's log-likelihood (nats; with the bound −L) \
      and its standard error (over probes, or over sampled terms; 0 for the exact divergence with \
      all terms, NaN where one probe or term gives none).
      """)

  @Option(help: ArgumentHelp("The data: a .npy file of shape (count, d) (or a .csv file, one sample a line).", valueName: "file"))
  var data: String?

  @Option(help: ArgumentHelp("A built-in target: its exact score (unless --model), and without --data its exact samples.", valueName: "target"))
  var target: TargetName?

  @Option(help: ArgumentHelp("Exact samples drawn from --target when no --data is given. (default: 10000)", valueName: "count"))
  var count: Int?

  @Option(help: ArgumentHelp("A learned score: an MLP in safetensors format (sdekit train).", valueName: "file"))
  var model: String?

  @Option(name: .customLong("sde"), help: "The forward process.")
  var process: ProcessName = .vp

  /// --schedule, --train-steps, --sigma-min, --sigma-max and --shift, as sample takes them.
  @OptionGroup var processSettings: ProcessSettingsOptions

  @Option(help: ArgumentHelp("The diffusion time the data sit at, in the process's time units. (default: the process's ε, 1e-3 for the built-ins; 1/N on the DDPM chain)", valueName: "time"))
  var epsilon: Double?

  @Option(help: "The ODE solver: dopri5, a GSL stepper (gsl-rkf45, …) or a fixed-step one (euler, heun, midpoint, rk4 with --steps).")
  var solver: SolverChoice = .native(.dopri5)

  /// --rtol, --atol, --error-norm and --mode, as sample takes them.
  @OptionGroup var stepControl: AdaptiveSolverOptions

  @Option(help: ArgumentHelp("Uniform steps from ε to T for a fixed-step solver. (default: 100)", valueName: "count"))
  var steps: Int?

  @Option(help: "The divergence: exact, or hutchinson (the trace estimated with --probes random vectors).")
  var divergence: DivergenceChoice = .exact

  @Option(help: ArgumentHelp("Hutchinson probe vectors per sample (a count). (default: 1)", valueName: "K"))
  var probes: Int?

  @Option(help: ArgumentHelp("Hutchinson probes' distribution. (default: rademacher)", valueName: "distribution"))
  var probeDistribution: ProbeDistribution?

  @Option(help: ArgumentHelp("Where the path ends: prior or the model's closed-form marginal p_T. (default: marginal for a target's exact score, prior for --model)", valueName: "density"))
  var terminal: TerminalDensity?

  @Option(help: ArgumentHelp("The data are integers 0 … L − 1 on this many levels (256 for 8-bit images).", valueName: "L"))
  var discreteLevels: Int?

  @Option(help: "The continuous range discrete data map to: centered [−1, 1] or unit [0, 1].")
  var dataRange: DiscreteLevels.Range = .centered

  @Option(help: "Evaluate a variational bound instead of the probability flow: ddpm (needs --sde ddpm).")
  var bound: BoundChoice?

  @Option(help: ArgumentHelp("The bound's terms: all, or K for an unbiased estimate from K random KL terms per sample. (default: all)", valueName: "all|K"))
  var terms: String?

  @Option(help: ArgumentHelp("The bound's reverse variance σ_n²: beta or posterior (β̃). (default: beta)", valueName: "variance"))
  var boundVariance: DDPMBoundSettings.Variance?

  @Option(help: "Seed of the exact samples, probes, dequantisation and the bound's draws; a sample's result is a function of (seed, index).")
  var seed: UInt64 = 0

  @Option(help: "Worker threads (default: every core). Results do not depend on it.")
  var threads: Int?

  @Option(name: [.short, .customLong("output")], help: "Write each sample's log-likelihood and standard error to this .npy file.")
  var output: String?

  @Flag(help: "Print one JSON object instead of text.")
  var json = false

  @Flag(help: "No progress line on stderr (it is shown only when stderr is a terminal).")
  var quiet = false

  enum DivergenceChoice: String, ExpressibleByArgument, CaseIterable {
    case exact, hutchinson
  }

  enum BoundChoice: String, ExpressibleByArgument, CaseIterable {
    case ddpm
  }

  func validate() throws {
    guard data != nil || target != nil else {
      throw ValidationError("give the data: --data file.npy, or --target NAME to draw exact samples")
    }
    if data != nil, count != nil { throw ValidationError("--count applies to samples drawn from --target; --data gives its own rows") }
    if let count, count < 1 { throw ValidationError("--count must be at least 1, got \(count)") }
    if model == nil, target == nil { throw ValidationError("--data needs a score: --model file.safetensors or --target NAME (its exact score)") }
    if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
    if let output { try checkOutputPath(output, extension: "npy", option: "-o") }
    if let levels = discreteLevels, levels < 2 { throw ValidationError("--discrete-levels must be at least 2, got \(levels)") }
    if discreteLevels == nil, dataRange != .centered {
      throw ValidationError("--data-range applies to --discrete-levels data")
    }
    if discreteLevels != nil, data == nil {
      throw ValidationError("--discrete-levels needs --data with integer levels; a target's exact samples are continuous")
    }
    do { try processOptions.validate(for: process) } catch let error as DiffusionError {
      throw ValidationError(error.description)
    }
    if let model {
      let network: MLP<Float>
      do { network = try SafeTensors.read(model) } catch let error as NetworkError { throw ValidationError("--model \(error.description)") }
      if let target, network.dimension != target.mixture.dimension {
        throw ValidationError("--model \(model) has dimension \(network.dimension); --target \(target.rawValue) has \(target.mixture.dimension)")
      }
    }
    if let bound {
      guard process == .ddpm else {
        throw ValidationError("--bound \(bound.rawValue) is the bound of the discrete DDPM chain; add --sde ddpm (got --sde \(process.rawValue))")
      }
      for (set, name) in [(divergence != .exact, "--divergence"), (probes != nil, "--probes"),
                          (probeDistribution != nil, "--probe-distribution"), (terminal != nil, "--terminal"),
                          (epsilon != nil, "--epsilon"), (steps != nil, "--steps"), (stepControl.errorNorm != nil, "--error-norm")] where set {
        throw ValidationError("\(name) applies to the probability-flow likelihood, not to --bound \(bound.rawValue)")
      }
      _ = try boundTerms()
      return
    }
    if terms != nil { throw ValidationError("--terms applies to --bound ddpm") }
    if boundVariance != nil { throw ValidationError("--bound-variance applies to --bound ddpm") }
    if divergence == .exact, probes != nil || probeDistribution != nil {
      throw ValidationError("--probes and --probe-distribution apply to --divergence hutchinson")
    }
    if let probes, probes < 1 { throw ValidationError("--probes must be at least 1, got \(probes)") }
    if terminal == .marginal, model != nil {
      throw ValidationError("--terminal marginal needs a closed-form p_T (a target's exact score); a --model has none, use prior")
    }
    let descriptor = solver.descriptor
    guard descriptor.kind == .ode else {
      throw ValidationError("--solver \(solver.name) is an SDE solver; the likelihood needs an ODE solver (dopri5, gsl-*, euler, heun, midpoint, rk4)")
    }
    if descriptor.isAdaptive {
      if steps != nil { throw ValidationError("--steps applies to fixed-step solvers; \(solver.name) chooses its own steps (set --rtol and --atol)") }
      let (rtol, atol) = (stepControl.rtol, stepControl.atol)
      guard rtol >= 0, atol >= 0, rtol.isFinite, atol.isFinite, rtol > 0 || atol > 0 else {
        throw ValidationError("--rtol and --atol must be finite, non-negative and not both zero; got \(rtol) and \(atol)")
      }
    } else {
      if let steps, steps < 1 { throw ValidationError("--steps must be at least 1, got \(steps)") }
      if stepControl.errorNorm != nil { throw ValidationError("--error-norm applies to adaptive solvers; \(solver.name) takes fixed steps") }
      if stepControl.mode != .batch { throw ValidationError("--mode applies to adaptive solvers; \(solver.name) takes fixed steps, every sample on its own") }
    }
    do { try processEpsilonCheck() } catch let error as DiffusionError { throw ValidationError(error.description) }
  }

  var processOptions: ProcessOptions { processSettings.processOptions }

  /// ε: the option, or the process's default (on the DDPM chain, whose default ε is its data at
  /// t = 0, the time of its first step, 1/N).
  func resolvedEpsilon(_ process: any DiffusionProcess) -> Double {
    if let epsilon { return epsilon }
    if process.defaultEpsilon == 0, let chain = process as? DDPMChain { return chain.schedule.time(ofStep: 0) }
    return process.defaultEpsilon
  }

  func processEpsilonCheck() throws {
    let process = self.process.makeProcess(processOptions)
    let epsilon = resolvedEpsilon(process)
    try process.validate(epsilon: epsilon)
    guard epsilon > 0 else {
      throw DiffusionError.invalidSetting("--epsilon must be above 0 for the probability flow (the score is singular at t = 0), got \(epsilon)")
    }
  }

  /// `--terms`: nil for all, else K ≥ 1.
  func boundTerms() throws -> Int? {
    guard let terms, terms != "all" else { return nil }
    guard let k = Int(terms), k >= 1 else {
      throw ValidationError("--terms '\(terms)' must be 'all' or a positive count of sampled terms")
    }
    return k
  }

  func run() throws {
    Interrupt.install(outputs: [output].compactMap { $0 })
    let process = self.process.makeProcess(processOptions)
    let network = try model.map { try SafeTensors.read($0) }
    let dimension = network?.dimension ?? target!.mixture.dimension
    let raw = try loadData(dimension: dimension)
    let line = ProgressLine.make(quiet: quiet)
    defer { line?.finish() }
    func run<P: DiffusionProcess>(_ process: P) throws -> LikelihoodReport {
      if let network { return try evaluate(raw, process: process, score: MLPScore(mlp: network, process: process), line: line) }
      return try evaluate(raw, process: process, score: ExactMixtureScore(mixture: target!.mixture, process: process), line: line)
    }
    let report = try run(process)
    line?.finish()
    print(json ? try jsonString(report) : report.text)
  }

  /// The --data file (`readDataFile`), or exact samples of --target; validated.
  func loadData(dimension: Int) throws -> StateBatch {
    guard let data else {
      return target!.mixture.sample(count: count ?? 10_000, seed: seed)
    }
    let batch = try readDataFile(data, option: "--data")
    guard batch.dimension == dimension else {
      throw ValidationError("--data \(data) has dimension \(batch.dimension); the \(model == nil ? "target \(target!.rawValue)" : "model \(model!)") has dimension \(dimension)")
    }
    if let levels = discreteLevels {
      do { try DiscreteLevels(levels: levels, range: dataRange).validate(batch) } catch let error as DiffusionError {
        throw ValidationError("--data \(data): \(error.description)")
      }
    }
    return batch
  }

  /// The likelihood or the bound of `raw` under one process and score model.
  func evaluate<P: DiffusionProcess, S: DivergenceModel>(_ raw: StateBatch, process: P, score: S, line: ProgressLine?) throws
    -> LikelihoodReport {
    let levels = discreteLevels.map { DiscreteLevels(levels: $0, range: dataRange) }
    var report = LikelihoodReport(command: self, count: raw.count, dimension: raw.dimension, levels: levels)
    let d = Double(raw.dimension)
    let perSample: [Double], perSampleError: [Double]
    if bound != nil {
      guard let chain = process as? DDPMChain else { throw CLIError("--bound ddpm needs --sde ddpm") }
      let data = levels.map { $0.centres(raw) } ?? raw
      let settings = DDPMBoundSettings(variance: boundVariance ?? .beta,
                                       terms: try boundTerms().map { .sampled($0) } ?? .all, levels: levels)
      let result = try ddpmBound(data, chain: chain, score: score, settings: settings, seed: seed, threads: threads) { fraction in
        line?.update(fraction: fraction, detail: "bound terms")
      }
      perSample = result.bound.map { -$0 }
      perSampleError = result.standardError ?? Array(repeating: settings.terms == .all ? 0 : .nan, count: raw.count)
      report.meanLogLikelihood = -result.mean
      report.meanLogLikelihoodStderr = finite(result.meanStandardError)
      report.nfe = result.nfe
      report.seconds = result.seconds
      report.bound = BoundReport(variance: settings.variance.rawValue, terms: terms ?? "all", meanNats: result.mean,
                                 stderr: result.meanStandardError, priorTerm: result.termMeans[chain.schedule.steps],
                                 decoderTerm: result.termMeans[0], termMeans: result.termMeans.map(finite))
    } else {
      let epsilon = resolvedEpsilon(process)
      let data = levels.map { $0.dequantised(raw, seed: seed) } ?? raw
      let solverSettings = AdaptiveSettings(relativeTolerance: stepControl.rtol, absoluteTolerance: stepControl.atol,
                                            norm: stepControl.errorNorm ?? .maximum)
      let likelihoodSolver: LikelihoodSolver
      if let adaptive = solver.adaptive(solverSettings) {
        likelihoodSolver = .adaptive(adaptive, mode: stepControl.mode)
      } else if case .native(let name) = solver, case .ode(let fixed) = name.solver {
        likelihoodSolver = .fixed(fixed, steps: steps ?? 100)
      } else {
        throw CLIError("--solver \(solver.name) is not an ODE solver")
      }
      let estimator: DivergenceEstimator = divergence == .exact ? .exact
        : .hutchinson(probes: probes ?? 1, distribution: probeDistribution ?? .rademacher)
      let terminalDensity = terminal ?? (model == nil ? .marginal : .prior)
      let settings = LikelihoodSettings(solver: likelihoodSolver, divergence: estimator, terminal: terminalDensity)
      // One system in batch mode; otherwise rows in chunks, so the progress line can count them
      // (rows are independent there, and the probes are keyed by the row's index in the data).
      let batch = { if case .adaptive(_, .batch) = likelihoodSolver { true } else { false } }()
      let chunk = batch ? raw.count : Self.rowsPerChunk
      var estimates: [Double] = [], errors: [Double] = []
      var nfeTotal = 0, stepTotal = 0, rejectedTotal = 0, seconds = 0.0
      let span = process.T - epsilon
      for first in stride(from: 0, to: data.count, by: chunk) {
        let rows = first..<min(data.count, first + chunk)
        var progress: SamplingProgress?
        if let line {
          let total = Double(data.count), done = Double(rows.lowerBound), size = Double(rows.count)
          let label = "sample \(rows.lowerBound)/\(data.count)"
          progress = { (t: Double) -> Void in
            let inner: Double = batch ? min(1, max(0, (t - epsilon) / span)) : 0
            line.update(fraction: (done + inner * size) / total, detail: batch ? String(format: "t = %.4f", t) : label)
          }
        }
        let result = try logLikelihood(data.rows(rows), process: process, score: score, epsilon: epsilon, settings: settings,
                                       seed: seed, firstSample: first, threads: threads, progress: progress)
        estimates += result.logLikelihood
        errors += result.probeStandardError ?? Array(repeating: divergence == .exact ? 0 : .nan, count: rows.count)
        nfeTotal += result.nfe * rows.count
        stepTotal += result.steps * rows.count
        rejectedTotal += result.rejectedSteps * rows.count
        seconds += result.seconds
      }
      let offset = levels.map { d * $0.logCellWidth } ?? 0
      perSample = estimates.map { $0 + offset }
      perSampleError = errors
      let (mean, stderr) = meanWithError(perSample)
      report.meanLogLikelihood = mean
      report.meanLogLikelihoodStderr = stderr
      report.nfe = (nfeTotal + raw.count / 2) / raw.count
      report.acceptedSteps = (stepTotal + raw.count / 2) / raw.count
      report.rejectedSteps = (rejectedTotal + raw.count / 2) / raw.count
      report.seconds = seconds
      report.epsilon = epsilon
      report.terminal = terminalDensity.rawValue
      // Against the target's closed-form p_ε where the data are continuous points of its space.
      if let target, levels == nil {
        let exactScore = ExactMixtureScore(mixture: target.mixture, process: process)
        var exact = [Double](repeating: 0, count: raw.count)
        raw.withView { view in exact.withUnsafeMutableBufferPointer { exactScore.logDensity(view, t: epsilon, into: $0) } }
        report.exactMeanLogLikelihood = exact.reduce(0, +) / Double(raw.count)
        report.meanAbsError = zip(perSample, exact).reduce(0) { $0 + abs($1.0 - $1.1) } / Double(raw.count)
      }
    }
    report.bitsPerDim = bitsPerDimension(logLikelihood: report.meanLogLikelihood, dimension: raw.dimension)
    report.bitsPerDimStderr = report.meanLogLikelihoodStderr.map { $0 / (d * log(2.0)) }
    if let output {
      var values = [Double](repeating: 0, count: 2 * raw.count)
      for i in 0..<raw.count {
        values[2 * i] = perSample[i]
        values[2 * i + 1] = perSampleError[i]
      }
      try writeAtomically(NPYFile.encode(StateBatch(count: raw.count, dimension: 2, values: values)), to: output)
    }
    return report
  }

  /// Rows per call in per-sample and fixed-step runs (a progress step).
  static let rowsPerChunk = 4096

  /// The mean and its standard error; nil error for a single value.
  func meanWithError(_ values: [Double]) -> (Double, Double?) {
    let mean = values.reduce(0, +) / Double(values.count)
    guard values.count >= 2 else { return (mean, nil) }
    let squares = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
    return (mean, (squares / Double(values.count - 1) / Double(values.count)).squareRoot())
  }
}

/// JSON cannot hold NaN: a term no sample drew is null.
private func finite(_ value: Double) -> Double? { value.isFinite ? value : nil }

/// What `sdekit likelihood` prints.
struct LikelihoodReport: Encodable {
  let version = sdekitVersion
  let method: String
  let process: String
  let target: String?
  let model: String?
  let data: String?
  let count: Int
  let dimension: Int
  let seed: UInt64
  var epsilon: Double?
  let solver: String?
  let mode: String?
  let rtol: Double?
  let atol: Double?
  let errorNorm: String?
  let fixedSteps: Int?
  let divergence: String?
  let probes: Int?
  let probeDistribution: String?
  var terminal: String?
  let discreteLevels: Int?
  let dataRange: String?
  var meanLogLikelihood = 0.0
  var meanLogLikelihoodStderr: Double?
  var bitsPerDim = 0.0
  var bitsPerDimStderr: Double?
  var nfe = 0
  var acceptedSteps: Int?
  var rejectedSteps: Int?
  var seconds = 0.0
  var exactMeanLogLikelihood: Double?
  var meanAbsError: Double?
  var bound: BoundReport?
  let output: String?

  init(command c: LikelihoodCommand, count: Int, dimension: Int, levels: DiscreteLevels?) {
    let flow = c.bound == nil
    method = flow ? "probability-flow" : "ddpm-bound"
    process = c.process.rawValue
    target = c.target?.rawValue
    model = c.model
    data = c.data
    self.count = count
    self.dimension = dimension
    seed = c.seed
    let adaptive = c.solver.descriptor.isAdaptive
    solver = flow ? c.solver.name : nil
    mode = flow && adaptive ? c.stepControl.mode.rawValue : nil
    rtol = flow && adaptive ? c.stepControl.rtol : nil
    atol = flow && adaptive ? c.stepControl.atol : nil
    errorNorm = flow && adaptive ? (c.stepControl.errorNorm ?? .maximum).rawValue : nil
    fixedSteps = flow && !adaptive ? (c.steps ?? 100) : nil
    divergence = flow ? c.divergence.rawValue : nil
    probes = flow && c.divergence == .hutchinson ? (c.probes ?? 1) : nil
    probeDistribution = flow && c.divergence == .hutchinson ? (c.probeDistribution ?? .rademacher).rawValue : nil
    discreteLevels = levels?.levels
    dataRange = levels?.range.rawValue
    output = c.output
  }

  var text: String {
    var lines: [String] = []
    let source = model.map { "model \($0)" } ?? "\(target ?? "?") exact score"
    let what = data ?? "\(count) exact samples of \(target ?? "?")"
    if let bound {
      lines.append("DDPM bound · \(source) · \(what) · σ² = \(bound.variance) · terms \(bound.terms)")
      lines.append(String(format: "bound %.4f ± %.4f nats (prior term %.3g, decoder term %.4f)", bound.meanNats,
                          bound.stderr ?? .nan, bound.priorTerm ?? .nan, bound.decoderTerm ?? .nan))
    } else {
      var solverText = solver ?? ""
      if let rtol, let atol { solverText += " rtol \(rtol) atol \(atol)" + (mode == "per-sample" ? " per sample" : "") }
      if let fixedSteps { solverText += " \(fixedSteps) steps" }
      let divergenceText = divergence == "hutchinson"
        ? "Hutchinson, \(probes ?? 1) \(probeDistribution ?? "") probe\(probes == 1 ? "" : "s")" : "exact divergence"
      lines.append("probability flow · \(process) · \(source) · \(what) · ε = \(epsilon ?? 0) · \(solverText) · \(divergenceText) · ends at the \(terminal ?? "")")
    }
    lines.append(String(format: "mean log-likelihood %.6f ± %.6f nats · %.6f ± %.6f bits/dim", meanLogLikelihood,
                        meanLogLikelihoodStderr ?? .nan, bitsPerDim, bitsPerDimStderr ?? .nan))
    if let discreteLevels { lines.append("discrete data on \(discreteLevels) levels, range \(dataRange ?? "")") }
    if let exact = exactMeanLogLikelihood, let error = meanAbsError {
      lines.append(String(format: "closed-form log p_ε of the target %.6f · mean |error| %.3g nats", exact, error))
    }
    var cost = "NFE \(nfe)"
    if let acceptedSteps { cost += " · \(acceptedSteps) steps (\(rejectedSteps ?? 0) rejected)" }
    lines.append(cost + String(format: " · %.3f s", seconds))
    if let output { lines.append("wrote \(output)") }
    return lines.joined(separator: "\n")
  }
}

/// The DDPM bound's part of the report.
struct BoundReport: Encodable {
  let variance: String
  let terms: String
  let meanNats: Double
  let stderr: Double?
  let priorTerm: Double?
  let decoderTerm: Double?
  /// Mean of each term over samples: L_0 (decoder), L_1 … L_{N−1} (KL), L_T (prior).
  let termMeans: [Double?]

  init(variance: String, terms: String, meanNats: Double, stderr: Double, priorTerm: Double, decoderTerm: Double,
       termMeans: [Double?]) {
    self.variance = variance
    self.terms = terms
    self.meanNats = meanNats
    self.stderr = finite(stderr)
    self.priorTerm = finite(priorTerm)
    self.decoderTerm = finite(decoderTerm)
    self.termMeans = termMeans
  }
}
