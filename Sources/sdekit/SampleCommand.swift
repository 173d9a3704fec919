import ArgumentParser
import Foundation
import GSLIntegrators
import Samplers
import ScoreModels
import SDEKit

extension TargetName: ExpressibleByArgument {}
extension ProcessName: ExpressibleByArgument {}
extension TimeGridKind: ExpressibleByArgument {}
extension PCPredictor: ExpressibleByArgument {}

struct SampleCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "sample",
    abstract: "Sample a built-in target with any sampler, write the samples and print their quality.",
    discussion: """
      Runs the sampler from the prior with the target's exact score, writes the samples as a \
      NumPy .npy file (float64, shape (count, d)) when -o is given, and prints the score \
      evaluations per sample (NFE), the wall time and the metrics against the target.
      """)

  @Option(name: .customLong("sde"), help: "The forward process.")
  var process: ProcessName = .vp

  @Option(help: "The target distribution.")
  var target: TargetName = .gmm2d8

  @Option(help: "The sampler (sdekit list samplers).")
  var sampler: String = "euler-maruyama"

  @Option(help: "Steps (fixed-step samplers) or noise levels.")
  var steps: Int = 1000

  @Option(help: "Relative tolerance of adaptive ODE samplers.")
  var rtol: Double = 1e-5

  @Option(help: "Absolute tolerance of adaptive ODE samplers.")
  var atol: Double = 1e-5

  @Option(help: "Adaptive ODE samplers: the batch as one system or each sample on its own.")
  var mode: SystemMode = .batch

  @Option(help: "How steps are spread over [ε, T].")
  var grid: TimeGridKind = .uniform

  @Option(help: "Where the reverse process stops (default: the process's ε).")
  var epsilon: Double?

  @Option(help: "Number of samples.")
  var count: Int = 10_000

  @Option(help: "Seed; a sample is a function of (seed, index, configuration).")
  var seed: UInt64 = 0

  @Option(help: "Threads (default: every core). Results do not depend on it.")
  var threads: Int?

  @Flag(help: "Finish with a Tweedie denoising step at ε.")
  var denoise = false

  @Option(help: "Langevin signal-to-noise ratio (pc-langevin, annealed-langevin).")
  var snr: Double = 0.16

  @Option(help: "Langevin corrector steps per noise level.")
  var correctorSteps: Int = 1

  @Option(help: "The predictor of pc-langevin.")
  var predictor: PCPredictor = .reverseDiffusion

  @Option(help: "DDIM's η in [0, 1].")
  var eta: Double = 0

  @Option(name: [.short, .customLong("output")], help: "Write the samples to this .npy file.")
  var output: String?

  @Option(help: "Also write the JSON report to this file.")
  var report: String?

  @Option(help: "Also draw the samples (first two coordinates) over the target's component centres to this .svg file.")
  var plot: String?

  @Flag(help: "Print one JSON object instead of text.")
  var json = false

  var samplingConfiguration: SamplingConfiguration {
    var c = SamplingConfiguration()
    c.process = process
    c.target = target
    c.sampler = sampler
    c.steps = steps
    c.grid = grid
    c.count = count
    c.seed = seed
    c.epsilon = epsilon
    c.relativeTolerance = rtol
    c.absoluteTolerance = atol
    c.mode = mode
    c.denoise = denoise
    c.diffusionSettings = DiffusionSamplerSettings(eta: eta, snr: snr, correctorSteps: correctorSteps,
                                                     predictor: predictor)
    c.threads = threads
    return c
  }

  func validate() throws {
    guard count >= 2 else { throw ValidationError("--count must be at least 2 (the metrics need two samples), got \(count)") }
    if let output { try checkOutputPath(output, extension: "npy", option: "-o") }
    if let report { try checkOutputPath(report, extension: "json", option: "--report") }
    if let plot { try checkOutputPath(plot, extension: "svg", option: "--plot") }
    do {
      try samplingConfiguration.validate()
    } catch let error as DiffusionError {
      throw ValidationError(error.description)
    }
  }

  func run() throws {
    let result = try runSampler(samplingConfiguration)
    let metrics = try evaluateSamples(result.samples, target: target.mixture, seed: seed)
    if let output { try writeAtomically(NPYFile.encode(result.samples), to: output) }
    let summary = SampleReport(sampler: sampler, process: process.rawValue, target: target.rawValue, steps: steps,
                              count: count, seed: seed, nfe: result.nfe, seconds: result.seconds,
                              sw2: metrics.slicedW2, sw2Floor: metrics.slicedW2Floor, meanErr: metrics.meanError,
                              covErr: metrics.covarianceError, meanLogDensity: metrics.meanLogDensity,
                              exactMeanLogDensity: metrics.exactMeanLogDensity, modeOccupancy: metrics.modeOccupancy,
                              output: output, plot: plot, report: report)
    if let report { try writeAtomically(Data(try jsonString(summary).utf8 + [0x0A]), to: report) }
    if let plot { try writeAtomically(Data(samplePlot(result.samples).utf8), to: plot) }
    print(json ? try jsonString(summary) : summary.text)
  }
}

extension SampleCommand {
  /// A scatter of up to 5,000 samples (first two coordinates) over the component centres.
  func samplePlot(_ samples: StateBatch) -> String {
    let shown = min(samples.count, 5_000)
    let y = samples.dimension > 1 ? 1 : 0
    var svg = SVGPlot(title: "\(sampler) · \(process.rawValue) · \(target.rawValue) · \(shown) of \(samples.count) samples",
                      xLabel: "x₁", yLabel: samples.dimension > 1 ? "x₂" : "x₁")
    svg.add("samples", (0..<shown).map { (samples[$0, 0], samples[$0, y]) }, lines: false)
    svg.add("component centres", target.mixture.means.map { ($0[0], $0[y]) }, lines: false, radius: 4)
    return svg.render()
  }
}

/// What `sdekit sample` prints.
struct SampleReport: Encodable {
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
  let output: String?
  let plot: String?
  let report: String?

  var text: String {
    var lines = ["\(sampler) · \(process) · \(target) · \(count) samples · seed \(seed)"]
    lines.append(String(format: "NFE %d · %.2f s", nfe, seconds))
    lines.append(String(format: "sliced W2 %.4f (floor %.4f) · mean error %.4f · covariance error %.4f", sw2, sw2Floor, meanErr, covErr))
    lines.append(String(format: "mean log-density %.4f (exact %.4f)", meanLogDensity, exactMeanLogDensity))
    if modeOccupancy.count <= 25 {
      lines.append("mode occupancy " + modeOccupancy.map { String(format: "%.3f", $0) }.joined(separator: " "))
    }
    if let output { lines.append("wrote \(output)") }
    if let plot { lines.append("wrote \(plot)") }
    if let report { lines.append("wrote \(report)") }
    return lines.joined(separator: "\n")
  }
}
