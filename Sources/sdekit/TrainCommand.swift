import ArgumentParser
import Foundation
import SampleFiles
import ScoreModels
import SDEKit

extension Parameterisation: ExpressibleByArgument {}

struct TrainCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "train",
    abstract: "Train an MLP denoiser by denoising score matching and save it as safetensors.",
    discussion: """
      Minimises E‖ε − ε_θ(a(t)x₀ + s(t)ε, t)‖² (or the target of the chosen parameterisation) \
      over t ~ U(ε, T) with Adam, a warm-up and cosine learning-rate schedule and an exponential \
      moving average of the weights (the saved model). Seeded and deterministic. Sample the \
      result with `sdekit sample --model FILE` and any sampler.
      """)

  @Option(help: ArgumentHelp("The data: a built-in set (\(TrainingData.names.joined(separator: ", "))) or a .npy or .csv file of shape (N, d).", valueName: "data"))
  var data: String = "gmm2d8"

  @Option(name: .customLong("sde"), help: "The forward process the network denoises.")
  var process: ProcessName = .vp

  @Option(help: "Optimisation steps (minibatches).")
  var steps: Int = 20_000

  @Option(help: "Samples per minibatch.")
  var batchSize: Int = 256

  @Option(help: "Adam's peak learning rate (per step, dimensionless), after a warm-up, decayed on a cosine to 0.")
  var learningRate: Double = 2e-3

  @Option(help: "Hidden layer widths, comma-separated (neurons).")
  var hidden: String = "128,128,128"

  @Option(help: "Sinusoidal time features (an even count).")
  var timeFeatures: Int = 32

  @Option(help: "What the network predicts.")
  var parameterisation: Parameterisation = .noise

  @Option(help: "Size of a generated data set (samples); ignored for data from a file.")
  var count: Int = 50_000

  @Option(help: "Seed of the data, the initial weights, minibatches, times and noise.")
  var seed: UInt64 = 0

  @Option(help: "Also save the model every this many steps (0: only at the end).")
  var checkpointEvery: Int = 0

  @Option(name: [.short, .customLong("output")], help: "Where to write the model (.safetensors).")
  var output: String

  @Flag(help: "No progress line on stderr (it is shown only when stderr is a terminal).")
  var quiet = false

  func validate() throws {
    guard steps >= 1 else { throw ValidationError("--steps must be at least 1, got \(steps)") }
    guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1, got \(batchSize)") }
    guard learningRate > 0, learningRate.isFinite else { throw ValidationError("--learning-rate must be positive, got \(learningRate)") }
    guard count >= 1 else { throw ValidationError("--count must be at least 1, got \(count)") }
    guard checkpointEvery >= 0 else { throw ValidationError("--checkpoint-every must be at least 0, got \(checkpointEvery)") }
    _ = try widths()
    if SampleFileFormat(path: data) == nil, TrainingData(name: data) == nil {
      throw ValidationError("--data '\(data)': give a .npy or .csv file or one of \(TrainingData.names.joined(separator: ", "))")
    }
    try checkOutputPath(output, extension: "safetensors", option: "-o")
    do { try architecture(dimension: 2).validate() } catch let error as NetworkError { throw ValidationError(error.description) }
  }

  func widths() throws -> [Int] {
    let values = hidden.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
    guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) >= 1 }) else {
      throw ValidationError("--hidden '\(hidden)' must be a comma-separated list of positive widths")
    }
    return values.map { $0! }
  }

  func architecture(dimension: Int) throws -> MLPArchitecture {
    MLPArchitecture(dimension: dimension, timeFeatures: timeFeatures, hidden: try widths(), parameterisation: parameterisation)
  }

  func run() throws {
    Interrupt.install(outputs: [output])
    let set = try loadDataSet(data, option: "--data", count: count, seed: seed)
    let architecture = try architecture(dimension: set.dimension)
    var configuration = TrainingConfiguration()
    configuration.steps = steps
    configuration.batchSize = batchSize
    configuration.learningRate = learningRate
    configuration.warmupSteps = min(500, steps / 10)
    configuration.seed = seed
    let line = ProgressLine.make(quiet: quiet)
    defer { line?.finish() }
    var recent: [Double] = []
    let process = self.process.process
    let start = Date()
    let (model, _) = try trainDenoiser(architecture: architecture, data: set, process: process,
                                       configuration: configuration, checkpointEvery: checkpointEvery,
                                       onCheckpoint: { _, snapshot in try writeAtomically(SafeTensors.encode(snapshot), to: output) }) { step in
      recent.append(step.loss)
      if recent.count > 100 { recent.removeFirst() }
      let mean = recent.reduce(0, +) / Double(recent.count)
      line?.update(fraction: Double(step.step + 1) / Double(steps),
                   detail: String(format: "step %d/%d · loss %.4f", step.step + 1, steps, mean)) { elapsed in
        String(format: "%.0f steps/s", Double(step.step + 1) / max(elapsed, 1e-9))
      }
      return true
    }
    line?.finish()
    try writeAtomically(SafeTensors.encode(model), to: output)
    let seconds = Date().timeIntervalSince(start)
    print(String(format: "trained %@ on %@ (%d samples, d = %d) · %d steps of %d · %.1f s",
                 architecture.hidden.map(String.init).joined(separator: "×"), data, set.count, set.dimension,
                 steps, batchSize, seconds))
    print(String(format: "final loss (mean of the last 100 steps) %.4f", recent.reduce(0, +) / Double(max(1, recent.count))))
    print("wrote \(output)")
  }
}

/// A data set named on the command line: a built-in set (`count` samples from `seed`) or a
/// .npy or .csv file (`readDataFile`) of at least 2 rows.
func loadDataSet(_ spec: String, option: String, count: Int, seed: UInt64) throws -> StateBatch {
  if let builtIn = TrainingData(name: spec) { return builtIn.samples(count: count, seed: seed) }
  return try readDataFile(spec, option: option, minimumRows: 2,
                          otherwise: "one of \(TrainingData.names.joined(separator: ", "))")
}
