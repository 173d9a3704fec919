import ArgumentParser
import Foundation
import GSLIntegrators
import Samplers
import SampleFiles
import ScoreModels
import SDEKit

extension TargetName: ExpressibleByArgument {}
extension ProcessName: ExpressibleByArgument {}
extension TimeGridKind: ExpressibleByArgument {}
extension PCPredictor: ExpressibleByArgument {}
extension DDPMSchedule.Kind: ExpressibleByArgument {}

extension SamplerName: ExpressibleByArgument {
  public init?(argument: String) { self.init(name: argument) }
  public static var allValueStrings: [String] { allCases.map(\.name) }
  public var defaultValueDescription: String { name }
}

struct SampleCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "sample",
    abstract: "Sample a built-in target with any sampler, write the samples and print their quality.",
    discussion: """
      Runs the sampler from the prior with the target's exact score, writes the samples as a \
      NumPy .npy file (float64, shape (count, d)) when -o is given, and prints the score \
      evaluations per sample (NFE), the wall time and the metrics against the target.
      """)

  @OptionGroup var source: RunOptions

  /// The EDM and flow processes' settings, σ-grids, --initial, the fast samplers' settings.
  @OptionGroup(title: "Fast samplers, grids in sigma and starting points") var fast: FastSamplerOptions

  @Option(help: "The sampler (sdekit list samplers describes each).")
  var sampler: SamplerName = .reverseSDE(.eulerMaruyama)

  @Option(help: ArgumentHelp("Time steps over [ε, T] (fixed-step samplers) or noise levels (Langevin). Adaptive samplers take --rtol/--atol instead. (default: 1000)", valueName: "count"))
  var steps: Int?

  @OptionGroup var stepControl: AdaptiveSolverOptions

  @Option(help: "How steps are spread over [ε, T].")
  var grid: TimeGridKind = .uniform

  @Option(help: ArgumentHelp("Drive SDE samplers (and DDPM-like noise) by one Brownian path per sample fixed on 2^levels fine intervals of [ε, T], which every grid samples, instead of independent increments per step (sdekit compare uses 12).", valueName: "levels"))
  var brownianPath: Int?

  @Option(help: ArgumentHelp("Diffusion time at which the reverse process stops, in the process's time units (T = 1). (default: the process's ε, 1e-3 for the built-in processes)", valueName: "time"))
  var epsilon: Double?

  @Flag(help: "Finish with a Tweedie denoising step at ε.")
  var denoise = false

  @Option(help: "Langevin signal-to-noise ratio r, dimensionless; corrector step 2r²s(t)² (pc-langevin, annealed-langevin).")
  var snr: Double = 0.16

  @Option(help: "Langevin corrector steps per noise level (a count).")
  var correctorSteps: Int = 1

  @Option(help: "The predictor of pc-langevin.")
  var predictor: PCPredictor = .reverseDiffusion

  @Option(help: ArgumentHelp("η, dimensionless: DDIM's in [0, 1] (0 deterministic, 1 DDPM-like noise; default 0); the ancestral and SDE samplers' noise scale ≥ 0 (euler-ancestral, dpm-solver++-2s-ancestral, dpm-solver++-2m-sde; default 1).", valueName: "η"))
  var eta: Double?

  @Option(name: [.short, .customLong("output")], help: "Write the samples to this file (.npy or .csv, by extension or --format).")
  var output: String?

  @Option(help: "The samples file's format, when the extension does not say.")
  var format: SampleFileFormat?

  @Flag(help: "Keep the samples so far when stopped (Ctrl-C, SIGTERM, SIGKILL, a full disk) and continue from them when run again with --resume and the same options; the finished file is the same bytes.")
  var resume = false

  @Option(help: "Replay the configuration of a report written by --report (replaces every sampling option above); a report from another SDEKit version gets a warning, as its samples may differ.")
  var config: String?

  @Option(help: "Also write the JSON report to this file.")
  var report: String?

  @Option(help: "Also draw the samples (first two coordinates) over the target's component centres to this .svg file.")
  var plot: String?

  @Flag(help: "Print one JSON object instead of text.")
  var json = false

  var samplingConfiguration: SamplingConfiguration {
    var c = SamplingConfiguration()
    c.process = source.process
    c.target = source.target
    c.sampler = sampler
    c.steps = steps ?? 1000
    c.grid = grid
    c.brownianPathLevels = brownianPath
    c.count = source.count ?? RunOptions.defaultCount
    c.seed = source.seed
    c.epsilon = epsilon
    c.relativeTolerance = stepControl.rtol
    c.absoluteTolerance = stepControl.atol
    c.errorNorm = stepControl.errorNorm
    c.mode = stepControl.mode
    c.denoise = denoise
    c.diffusionSettings = DiffusionSamplerSettings(eta: eta ?? 0, snr: snr, correctorSteps: correctorSteps,
                                                     predictor: predictor)
    c.threads = source.threads
    c.model = source.model
    fast.apply(to: &c, eta: eta)
    return c
  }

  func validate() throws {
    if steps != nil, config == nil, sampler.descriptor.adaptive {
      throw ValidationError("--steps does not apply to \(sampler), which chooses its own steps; set --rtol and --atol")
    }
    if let output {
      guard format != nil || SampleFileFormat(path: output) != nil else {
        throw ValidationError("-o \(output): give a .npy or .csv file, or --format npy|csv")
      }
      try checkOutputFolder(output, option: "-o")
    }
    if let eta, config == nil {
      switch sampler {
      case .ddim, .fast: break  // a fast sampler's η is checked with its other settings
      default:
        throw ValidationError("--eta \(eta) applies to ddim, euler-ancestral, dpm-solver++-2s-ancestral and dpm-solver++-2m-sde; \(sampler) takes none")
      }
    }
    if resume, output == nil { throw ValidationError("--resume needs -o: it continues an interrupted samples file") }
    if let report { try checkOutputPath(report, extension: "json", option: "--report") }
    if let plot { try checkOutputPath(plot, extension: "svg", option: "--plot") }
    // The options' configuration (whatever its count, which --initial may set); the files
    // (--config, --initial) are read once, by `plan`.
    if config == nil { try usageError { try samplingConfiguration.validate() } }
  }

  /// The run: the configuration of the options or of the --config file, and the --initial
  /// points it names, each file read once and checked. `warn` prints the warning about a
  /// --config file from another version (one rank of an MPI job does).
  func plan(warn: Bool = true) throws -> (configuration: SamplingConfiguration, initial: StateBatch?) {
    var configuration: SamplingConfiguration
    let countSource: String?
    if let config {
      configuration = try loadConfiguration(config, warn: warn)
      guard configuration.count >= 2 else {
        throw ValidationError("--config \(config): count is \(configuration.count); the metrics need at least 2 samples")
      }
      countSource = "the count of \(config)"
    } else {
      configuration = samplingConfiguration
      countSource = source.count == nil ? nil : "--count"
    }
    let initial = try FastSamplerOptions.loadInitialPoints(into: &configuration, countSource: countSource)
    try usageError { try configuration.validate() }
    return (configuration, initial)
  }

  func run() throws {
    Interrupt.install(outputs: [output, plot, report].compactMap { $0 }, resumable: resume ? output : nil)
    let (configuration, initial) = try plan()
    let reference = try source.referenceMixture()
    let target = reference ?? configuration.target.mixture, d = target.dimension
    let fileFormat = format ?? output.flatMap(SampleFileFormat.init(path:)) ?? .npy
    try Preflight.check(output: output, format: fileFormat, count: configuration.count, dimension: d, resuming: resume)
    let file = try output.map {
      try SampleStream(path: $0, format: fileFormat, count: configuration.count, dimension: d,
                       resuming: resume ? ResumeSidecar(run: configuration, format: fileFormat, dimension: d,
                                                        reference: source.reference) : nil)
    }
    let line = ProgressLine.make(quiet: source.quiet)
    defer { line?.finish() }
    var metrics = StreamingMetrics(target: target, seed: configuration.seed)
    var plotted: [Double] = []
    var evaluations = file?.resumedEvaluations ?? 0, seconds = file?.resumedSeconds ?? 0
    let chunks = SampleCommand.chunks(configuration, dimension: d)
    for (index, rows) in chunks.enumerated() {
      // --resume: the rows an interrupted run wrote are read back, for the metrics and the plot.
      if let done = try file?.resumed(rows) {
        try metrics.add(done)
        plotted += done.values.prefix(max(0, SampleCommand.plottedSamples * d - plotted.count))
        continue
      }
      let progress = line.map { SamplingProgressMeter(line: $0, configuration: configuration, chunk: index,
                                                      chunks: chunks.count).report }
      let result = try runSampler(configuration, rows: rows, progress: progress, initial: initial)
      try metrics.add(result.samples)
      plotted += result.samples.values.prefix(max(0, SampleCommand.plottedSamples * d - plotted.count))
      evaluations += result.evaluations
      seconds += result.seconds
      try file?.append(result.samples, rowsDone: rows.upperBound, evaluations: evaluations, seconds: seconds)
    }
    line?.finish()
    let floor = slicedW2Floor(target: target, count: min(configuration.count, StreamingMetrics.slicedW2Count),
                              seed: configuration.seed)
    let measured = try metrics.finish(floor: floor)
    try file?.commit()
    try publish(configuration, measured: measured, evaluations: evaluations, seconds: seconds, plotted: plotted)
  }

  /// The end of a run, in one process or across ranks: builds the report from the merged
  /// numbers, writes it (--report) and the plot of the first rows (--plot), and prints it.
  /// - Parameters:
  ///   - evaluations: score evaluations summed over every sample; `seconds` the sampling time.
  ///   - plotted: the first rows (up to `plottedSamples`), row-major.
  ///   - footer: a last line for the text form.
  func publish(_ configuration: SamplingConfiguration, measured: SampleMetrics, evaluations: Int, seconds: Double,
               plotted: [Double], footer: String? = nil) throws {
    let againstTarget = source.reference == nil
    let summary = SampleReport(version: sdekitVersion, commandLine: CommandLine.arguments, configuration: configuration,
                               sampler: configuration.sampler.name, process: configuration.process.rawValue,
                               target: configuration.target.rawValue, steps: configuration.steps,
                               count: configuration.count, seed: configuration.seed,
                               nfe: evaluations / configuration.count, seconds: seconds,
                               sw2: measured.slicedW2, sw2Floor: measured.slicedW2Floor, meanErr: measured.meanError,
                               covErr: measured.covarianceError, meanLogDensity: measured.meanLogDensity,
                               exactMeanLogDensity: measured.exactMeanLogDensity,
                               modeOccupancy: againstTarget ? measured.modeOccupancy : [], reference: source.reference,
                               output: output, plot: plot, report: report)
    if let report { try writeAtomically(Data(try jsonString(summary).utf8 + [0x0A]), to: report) }
    if let plot {
      let d = configuration.target.mixture.dimension
      let samples = StateBatch(count: plotted.count / d, dimension: d, values: plotted)
      let centres = againstTarget ? configuration.target.mixture.means : []
      try writeAtomically(Data(samplePlot(samples, total: configuration.count, configuration, centres: centres).utf8), to: plot)
    }
    print(json ? try jsonString(summary) : summary.text + (footer.map { "\n" + $0 } ?? ""))
  }

  /// At most this many values (rows × dimension) are held at once: larger runs are sampled in
  /// consecutive row ranges and streamed to the output, in bounded memory. Samples do not depend
  /// on the split, except for adaptive samplers in batch mode, whose one system is the whole run.
  static let valuesPerChunk = 1 << 20

  /// How many samples the plot shows.
  static let plottedSamples = 5_000

  /// Made as they are used: a run of 10¹⁵ samples has 10⁹ chunks.
  static func chunks(_ c: SamplingConfiguration, dimension: Int) -> LazyMapSequence<Range<Int>, Range<Int>> {
    let adaptiveBatch = c.sampler.descriptor.adaptive && c.mode == .batch
    let size = adaptiveBatch ? c.count : max(1, valuesPerChunk / dimension)
    return (0..<(c.count / size + (c.count % size == 0 ? 0 : 1))).lazy.map { $0 * size..<min(c.count, ($0 + 1) * size) }
  }
}

/// Turns the time of each score evaluation into the progress line's fraction, steps done and rate.
struct SamplingProgressMeter {
  let line: ProgressLine
  let configuration: SamplingConfiguration
  let chunk: Int
  let chunks: Int

  var report: SamplingProgress {
    let c = configuration, line = self.line, chunk = self.chunk, chunks = self.chunks
    let adaptive = c.sampler.descriptor.adaptive
    let times = c.times
    let T = times[0], span = T - times[times.count - 1]
    let chunkLabel = chunks > 1 ? " · chunk \(chunk + 1)/\(chunks)" : ""
    return { t in
      if adaptive {
        // Per-sample solves restart at T for every sample: only whole chunks count there.
        let inner = c.mode == .batch ? min(1, max(0, (T - t) / span)) : 0
        line.update(fraction: (Double(chunk) + inner) / Double(chunks),
                    detail: String(format: "t = %.4f", t) + chunkLabel)
      } else {
        // Steps done: the grid times already passed (the grid runs from T down to ε).
        var low = 0, high = times.count
        while low < high {
          let mid = (low + high) / 2
          if times[mid] > t { low = mid + 1 } else { high = mid }
        }
        let fraction = (Double(chunk) + Double(low) / Double(c.steps)) / Double(chunks)
        line.update(fraction: fraction, detail: "step \(low)/\(c.steps)" + chunkLabel) { elapsed in
          let rate = fraction * Double(c.count) * Double(c.steps) / max(elapsed, 1e-9)
          return String(format: "%.1f M sample-steps/s", rate / 1e6)
        }
      }
    }
  }
}

extension SampleCommand {
  /// A scatter of the first samples (first two coordinates) over the target's component centres
  /// (none when the metrics use a --reference data set).
  func samplePlot(_ samples: StateBatch, total: Int, _ c: SamplingConfiguration, centres: [[Double]]) -> String {
    let shown = samples.count
    let y = samples.dimension > 1 ? 1 : 0
    var svg = SVGPlot(title: "\(c.sampler) · \(c.process.rawValue) · \(c.target.rawValue) · \(shown) of \(total) samples",
                      xLabel: "x₁", yLabel: samples.dimension > 1 ? "x₂" : "x₁")
    svg.add("samples", (0..<shown).map { (samples[$0, 0], samples[$0, y]) }, lines: false)
    if !centres.isEmpty { svg.add("component centres", centres.map { ($0[0], $0[y]) }, lines: false, radius: 4) }
    return svg.render()
  }
}

/// What `sdekit sample` prints, and writes with --report: enough to replay the run.
struct SampleReport: Encodable {
  let version: String
  let commandLine: [String]
  let configuration: SamplingConfiguration
  let sampler: String
  let process: String
  let target: String
  let steps: Int
  let count: Int
  let seed: UInt64
  let nfe: Int
  let seconds: Double
  let sw2: Double
  let sw2Floor: Double
  let meanErr: Double
  let covErr: Double
  let meanLogDensity: Double
  let exactMeanLogDensity: Double
  let modeOccupancy: [Double]
  /// The data set the metrics were taken against instead of the target, if any.
  let reference: String?
  let output: String?
  let plot: String?
  let report: String?

  var text: String {
    var lines = ["\(sampler) · \(process) · \(target) · \(steps) steps · \(count) samples · seed \(seed)"]
    lines.append(String(format: "NFE %d · %.2f s", nfe, seconds))
    lines.append(String(format: "sliced W2 %.4f (floor %.4f) · mean error %.4f · covariance error %.4f", sw2, sw2Floor, meanErr, covErr))
    if let reference { lines.append("metrics against \(reference) (kernel density estimate of 2,000 points)") }
    lines.append(String(format: "mean log-density %.4f (exact %.4f)", meanLogDensity, exactMeanLogDensity))
    if !modeOccupancy.isEmpty, modeOccupancy.count <= 25 {
      lines.append("mode occupancy " + modeOccupancy.map { String(format: "%.3f", $0) }.joined(separator: " "))
    }
    if let output { lines.append("wrote \(output)") }
    if let plot { lines.append("wrote \(plot)") }
    if let report { lines.append("wrote \(report)") }
    return lines.joined(separator: "\n")
  }
}

extension SampleFileFormat: ExpressibleByArgument {}

/// The sampling configuration in a report (its "configuration" object) or a bare configuration
/// file (see `ConfigurationFile`); errors name the file and the field at fault. `warn`: say so
/// on stderr when another SDEKit version wrote the file.
func loadConfiguration(_ path: String, warn: Bool) throws -> SamplingConfiguration {
  guard let data = FileManager.default.contents(atPath: path) else {
    throw ValidationError("--config \(path): cannot read the file")
  }
  let contents: ConfigurationFile.Contents
  do {
    contents = try ConfigurationFile.decode(data)
  } catch let error as ConfigurationFileError {
    throw ValidationError("--config \(path): \(error.description)")
  }
  // A report from another version replays its configuration, but the samples match bit for
  // bit only where the random stream and the numerics are the same.
  if warn, let version = contents.version, version != sdekitVersion {
    let warning = "sdekit: warning: \(path) was written by SDEKit \(version), this is \(sdekitVersion): "
      + "its configuration is replayed, but its samples may not be reproduced bit for bit\n"
    FileHandle.standardError.write(Data(warning.utf8))
  }
  return contents.configuration
}
