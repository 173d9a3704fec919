import ArgumentParser
import Foundation
import Samplers
import ScoreModels
import SDEKit

struct CompareCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "compare",
    abstract: "Compare samplers on a target: pathwise error and sample quality against cost.",
    discussion: """
      Every sampler at every step count (fixed-step samplers) or tolerance (adaptive ones), all \
      from the same prior points, every SDE sampler on the same Brownian path per sample. \
      Prints NFE, wall time, the pathwise error against a reference from the same points and \
      path (probability-flow samplers: dopri5 at rtol = atol = 1e-10; SDE samplers: SRA1 at 2^12 \
      steps; diffusion samplers: the same sampler at 16× the steps) with its standard error, the \
      mean log-density's error against the exact value with its standard error, and the \
      covariance error and sliced W2 beside their floors from exact samples. --plot draws the \
      pathwise error and sliced W2 against NFE. The seconds of an SDE sampler include making its \
      share of the Brownian path (2^12 fine intervals or more per sample, whatever its steps): \
      compare cost by NFE.
      """)

  enum Format: String, ExpressibleByArgument, CaseIterable { case table, markdown, csv, json }

  @OptionGroup var source: RunOptions

  @Option(help: ArgumentHelp("Samplers, comma-separated, from: \(SamplerName.validNames).", valueName: "names"))
  var samplers: String = "euler-maruyama,sra1,ddim,ode-heun"

  @Option(help: "Time steps over [ε, T] for fixed-step samplers, comma-separated counts.")
  var steps: String = "10,20,50,100,200"

  @Option(help: "Tolerances rtol = atol for adaptive samplers (relative, and absolute in the state's units): decades 1e-2...1e-6 or a list.")
  var tolerances: String = "1e-2...1e-5"

  @Option(help: "How steps are spread over [ε, T].")
  var grid: TimeGridKind = .uniform

  @Option(help: "Adaptive samplers: the batch as one system or each sample on its own (sdekit-mpi needs per-sample).")
  var mode: SystemMode = .batch

  @OptionGroup(title: "Fast samplers, grids in sigma and starting points") var fast: FastSamplerOptions

  @Option(help: "Output format.")
  var format: Format = .table

  @Option(help: "Also draw the pathwise error and sliced W2 against NFE to this .svg file.")
  var plot: String?

  func validate() throws {
    _ = try stepList()
    _ = try ToleranceSyntax.parse(tolerances)
    _ = try samplerList()
    if let plot { try checkOutputPath(plot, extension: "svg", option: "--plot") }
    // Every run's configuration, checked as sample checks its one (--initial's rows are
    // checked once read, by `plan`; here the runs start from the prior).
    var checked = base
    checked.initial = nil
    try usageError {
      _ = try SamplerComparison(base: checked, samplers: try samplerList(), steps: try stepList(),
                                tolerances: try ToleranceSyntax.parse(tolerances))
    }
  }

  func samplerList() throws -> [SamplerName] {
    try samplers.split(separator: ",").map { name in
      let trimmed = name.trimmingCharacters(in: .whitespaces)
      guard let sampler = SamplerName(name: trimmed) else {
        throw ValidationError("--samplers: unknown sampler '\(trimmed)'; valid samplers: \(SamplerName.validNames)")
      }
      return sampler
    }
  }

  func stepList() throws -> [Int] {
    let values = steps.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
    guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) >= 1 }) else {
      throw ValidationError("--steps '\(steps)' must be a comma-separated list of positive integers")
    }
    return values.map { $0! }
  }

  /// What every run shares: the options above (the count --count's or the default, until
  /// `plan` reads --initial).
  var base: SamplingConfiguration {
    var base = SamplingConfiguration()
    base.process = source.process
    base.target = source.target
    base.count = source.count ?? RunOptions.defaultCount
    base.seed = source.seed
    base.threads = source.threads
    base.model = source.model
    base.grid = grid
    base.mode = mode
    fast.apply(to: &base, eta: nil)
    return base
  }

  /// `base` and the --initial points it names, read once; their rows are the count when
  /// --count is not given.
  func plan() throws -> (base: SamplingConfiguration, initial: StateBatch?) {
    var base = self.base
    let initial = try FastSamplerOptions.loadInitialPoints(into: &base, countSource: source.count == nil ? nil : "--count")
    return (base, initial)
  }

  func run() throws {
    Interrupt.install(outputs: [plot].compactMap { $0 })
    let (base, initial) = try plan()
    let line = ProgressLine.make(quiet: source.quiet)
    defer { line?.finish() }
    let rows = try compareSamplers(base: base, samplers: try samplerList(), steps: try stepList(),
                                   tolerances: try ToleranceSyntax.parse(tolerances),
                                   reference: try source.referenceMixture(), initial: initial) { run, runs, label in
      line?.update(fraction: Double(run) / Double(runs), detail: "run \(run + 1)/\(runs): \(label)")
    }
    line?.finish()
    try publish(rows, count: base.count)
  }

  /// Prints the table and writes the plot (--plot): the end of a comparison of `count` samples
  /// in one process or across ranks.
  func publish(_ rows: [ComparisonRow], count: Int) throws {
    print(CompareCommand.format(rows, as: format))
    if let plot {
      let title = "\(source.process.rawValue) · \(source.target.rawValue) · \(count) samples"
      try writeAtomically(Data(CompareCommand.plot(rows, title: title).utf8), to: plot)
    }
  }

  static func format(_ rows: [ComparisonRow], as format: Format) -> String {
    let header = ["sampler", "setting", "nfe", "seconds", "path_error", "±", "log_p_error", "±", "cov_err",
                  "cov_floor", "sw2", "sw2_floor"]
    let cells = rows.map { r in
      [r.sampler, r.setting, String(r.nfe), String(format: "%.3f", r.seconds),
       String(format: "%.3e", r.pathError), String(format: "%.1e", r.pathErrorStderr),
       String(format: "%+.4f", r.meanLogDensityError), String(format: "%.4f", r.meanLogDensityStderr),
       String(format: "%.4f", r.covarianceError), String(format: "%.4f", r.covarianceErrorFloor),
       String(format: "%.4f", r.sw2), String(format: "%.4f", r.sw2Floor)]
    }
    switch format {
    case .json:
      return (try? jsonString(rows)) ?? "[]"
    case .csv:
      let csvHeader = ["sampler", "setting", "nfe", "seconds", "path_error", "path_error_stderr", "log_p_error",
                       "log_p_error_stderr", "cov_err", "cov_err_floor", "sw2", "sw2_floor"]
      return ([csvHeader] + cells).map { $0.joined(separator: ",") }.joined(separator: "\n")
    case .markdown:
      let lines = ["| " + header.joined(separator: " | ") + " |", "|" + String(repeating: "---|", count: header.count)]
        + cells.map { "| " + $0.joined(separator: " | ") + " |" }
      return lines.joined(separator: "\n")
    case .table:
      let widths = header.indices.map { i in ([header[i]] + cells.map { $0[i] }).map(\.count).max()! + 2 }
      return ([header] + cells).map { row in row.indices.map { pad(row[$0], widths[$0]) }.joined() }.joined(separator: "\n")
    }
  }

  /// Two panels: the pathwise error against NFE (log–log, error bars of one standard error), one
  /// line per sampler, and sliced W2 against NFE with the band of exact sets.
  static func plot(_ rows: [ComparisonRow], title: String) -> String {
    var path = SVGPlot(title: "pathwise error against NFE · " + title, xLabel: "score evaluations per sample (NFE)",
                       yLabel: "RMS ‖x − x_ref‖", xScale: .log, yScale: .log)
    var quality = SVGPlot(title: "sliced W2 against NFE", xLabel: "score evaluations per sample (NFE)",
                          yLabel: "sliced W2", xScale: .log, yScale: .log)
    var order: [String] = []
    for row in rows where !order.contains(row.sampler) { order.append(row.sampler) }
    for name in order {
      let mine = rows.filter { $0.sampler == name }.sorted { $0.nfe < $1.nfe }
      path.add(name, mine.map { (Double($0.nfe), $0.pathError) }, lines: true, errors: mine.map(\.pathErrorStderr))
      quality.add(name, mine.map { (Double($0.nfe), $0.sw2) }, lines: true)
    }
    if let row = rows.first { quality.band = ("floor (exact sets)", row.sw2FloorLow, row.sw2FloorHigh) }
    return SVGPlot.sideBySide([path, quality])
  }
}

/// Throws a usage error unless `path` ends in `.ext` and its folder exists.
func checkOutputPath(_ path: String, extension ext: String, option: String) throws {
  guard path.hasSuffix("." + ext) else { throw ValidationError("\(option) \(path): the file must end in .\(ext)") }
  try checkOutputFolder(path, option: option)
}

/// Throws a usage error unless the folder that would hold `path` exists.
func checkOutputFolder(_ path: String, option: String) throws {
  let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
  var isDirectory: ObjCBool = false
  guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
    throw ValidationError("\(option) \(path): the folder \(folder) does not exist")
  }
}

/// What a sampling run is drawn from and how much of it: the options `sample` and `compare` share.
struct RunOptions: ParsableArguments {
  @Option(name: .customLong("sde"), help: "The forward process.")
  var process: ProcessName = .vp

  @Option(help: "The target distribution.")
  var target: TargetName = .gmm2d8

  @Option(help: ArgumentHelp("Samples drawn by each run, at least 2 (the metrics need two). (default: the rows of --initial, else 10000)", valueName: "count"))
  var count: Int?

  /// The samples of a run when neither --count nor --initial says.
  static let defaultCount = 10_000

  @Option(help: "Seed; a sample is a function of (seed, index, configuration).")
  var seed: UInt64 = 0

  @Option(help: "Worker threads (default: every core). Results do not depend on it.")
  var threads: Int?

  @Flag(help: "No progress line on stderr (it is shown only when stderr is a terminal).")
  var quiet = false

  @Option(help: ArgumentHelp("A learned score: an MLP in safetensors format (sdekit train) instead of the target's exact score; the target then only serves the metrics.", valueName: "file"))
  var model: String?

  @Option(help: ArgumentHelp("Measure against this data set instead of --target: a built-in set (\(TrainingData.names.joined(separator: ", "))) or a .npy or .csv file, as a kernel density estimate of 2,000 of its points (for models trained on data with no closed form; no mode occupancy).", valueName: "data"))
  var reference: String?

  /// What the metrics compare with: the --reference data's kernel density estimate, or nil for the target.
  func referenceMixture() throws -> GaussianMixture? {
    guard let reference else { return nil }
    let data = try loadDataSet(reference, option: "--reference", count: 20_000, seed: seed &+ 0xBEEF)
    guard data.dimension == target.mixture.dimension else {
      throw ValidationError("--reference \(reference) has dimension \(data.dimension); --target \(target.rawValue) has \(target.mixture.dimension)")
    }
    return GaussianMixture(kernelDensityOf: data)
  }

  func validate() throws {
    if let count, count < 2 { throw ValidationError("--count must be at least 2 (the metrics need two samples), got \(count)") }
    _ = try referenceMixture()
    if let model {
      do {
        let mlp = try SafeTensors.read(model)
        guard mlp.dimension == target.mixture.dimension else {
          throw ValidationError("--model \(model) has dimension \(mlp.dimension); --target \(target.rawValue) has \(target.mixture.dimension)")
        }
      } catch let error as NetworkError {
        throw ValidationError("--model \(error.description)")
      }
    }
  }
}
