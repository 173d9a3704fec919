import Foundation
import SDEKit

/// How a denoiser is trained by denoising score matching.
public struct TrainingConfiguration: Sendable, Hashable, Codable {
  public var steps: Int = 20_000
  public var batchSize: Int = 256
  /// Adam's peak learning rate, reached after `warmupSteps` and decayed to 0 on a cosine.
  public var learningRate: Double = 2e-3
  public var warmupSteps: Int = 500
  /// Decay of the exponential moving average of the weights (the model returned).
  public var emaDecay: Double = 0.999
  public var seed: UInt64 = 0
  /// Smallest training time: t ~ U(ε, T).
  public var epsilon: Double = 1e-3

  public init() {}

  public func validate() throws {
    func bad(_ m: String) -> NetworkError { .invalidTraining(m) }
    guard steps >= 1 else { throw bad("steps must be at least 1, got \(steps)") }
    guard batchSize >= 1 else { throw bad("the batch size must be at least 1, got \(batchSize)") }
    guard learningRate > 0, learningRate.isFinite else { throw bad("the learning rate must be positive, got \(learningRate)") }
    guard warmupSteps >= 0 else { throw bad("warm-up steps must be at least 0, got \(warmupSteps)") }
    guard (0..<1).contains(emaDecay) else { throw bad("the EMA decay must lie in [0, 1), got \(emaDecay)") }
  }

  /// Linear warm-up, then a cosine from the peak to 0 at the last step.
  public func learningRate(at step: Int) -> Double {
    if step < warmupSteps { return learningRate * Double(step + 1) / Double(warmupSteps) }
    let progress = Double(step - warmupSteps) / Double(max(1, steps - warmupSteps))
    return learningRate * 0.5 * (1 + Foundation.cos(Double.pi * progress))
  }
}

/// Initial weights as PyTorch's Linear draws them, U(−1/√inputs, 1/√inputs) for weights and
/// biases, from Philox words keyed by (seed, layer, index).
public func initialParameters(_ architecture: MLPArchitecture, seed: UInt64) -> MLPParameters<Float> {
  let philox = NoiseStream.initialWeights.generator(seed: seed)
  var parameters = MLPParameters<Float>(zerosFor: architecture)
  for (l, layer) in architecture.layers.enumerated() {
    let bound = 1 / Double(layer.inputs).squareRoot()
    func uniform(_ index: Int, _ kind: UInt32) -> Float {
      let word = philox.block(UInt32(index), UInt32(l), kind, 0x1717).0
      return Float(bound * (2 * (Double(word) + 0.5) * 0x1p-32 - 1))
    }
    for i in parameters.weights[l].indices { parameters.weights[l][i] = uniform(i, 0) }
    for i in parameters.biases[l].indices { parameters.biases[l][i] = uniform(i, 1) }
  }
  return parameters
}

/// What one training step saw.
public struct TrainingStep: Sendable {
  public var step: Int
  public var loss: Double
  public var learningRate: Double
}

/// Trains an MLP denoiser by denoising score matching on `data` (rows of x₀): each step draws a
/// minibatch, t ~ U(ε, T) and ε ~ N(0, I), forms x_t = a(t)x₀ + s(t)ε, and takes an Adam step on
/// the mean squared error between the network's output and its parameterisation's target (ε for
/// noise prediction: L = E‖ε − ε_θ(x_t, t)‖²). Everything random is addressed by (seed, step, row),
/// so the same seed gives the same weights bit for bit.
///
/// - Parameters:
///   - onStep: told every step's loss (for a progress line); return false to stop early.
///   - checkpointEvery: how often (in steps) `onCheckpoint` receives the averaged weights; 0 never.
/// - Returns: the exponential moving average of the weights, and the raw weights.
public func trainDenoiser<P: DiffusionProcess>(
  architecture: MLPArchitecture, data: StateBatch, process: P, configuration: TrainingConfiguration,
  initial: MLPParameters<Float>? = nil, checkpointEvery: Int = 0,
  onCheckpoint: (_ step: Int, _ average: MLP<Float>) throws -> Void = { _, _ in },
  onStep: (TrainingStep) -> Bool = { _ in true }
) throws -> (average: MLP<Float>, raw: MLP<Float>) {
  try architecture.validate()
  try configuration.validate()
  try process.validate(epsilon: configuration.epsilon)
  guard data.dimension == architecture.dimension else {
    throw NetworkError.invalidTraining("the data have dimension \(data.dimension); the network expects \(architecture.dimension)")
  }
  guard data.count >= 1 else { throw NetworkError.invalidTraining("the data set is empty") }
  var mlp = try MLP(architecture: architecture,
                    parameters: initial ?? initialParameters(architecture, seed: configuration.seed))
  let d = architecture.dimension, e = architecture.timeFeatures, width = d + e
  let B = configuration.batchSize, philox = NoiseStream.trainingBatch.generator(seed: configuration.seed)
  let normals = NormalSource(seed: configuration.seed)
  var theta = mlp.parameters.flat
  var average = theta, m = [Float](repeating: 0, count: theta.count), v = m
  var input = [Float](repeating: 0, count: B * width), target = [Float](repeating: 0, count: B * d)
  var noise = [Double](repeating: 0, count: B * d)
  var features = [Float](repeating: 0, count: e)
  var output = [Float](repeating: 0, count: B * d)
  let (beta1, beta2): (Float, Float) = (0.9, 0.999)

  for step in 0..<configuration.steps {
    noise.withUnsafeMutableBufferPointer {
      normals.fill(rows: 0..<B, stream: .trainingNoise(step: step), count: d, scale: 1, into: $0.baseAddress!)
    }
    for b in 0..<B {
      let words = philox.block(UInt32(truncatingIfNeeded: step), UInt32(truncatingIfNeeded: step >> 32), UInt32(b), 0)
      let row = min(data.count - 1, Int((Double(words.0) + 0.5) * 0x1p-32 * Double(data.count)))
      let t = configuration.epsilon + (process.T - configuration.epsilon) * (Double(words.1) + 0.5) * 0x1p-32
      let a = process.meanCoefficient(t), s = process.standardDeviation(t)
      features.withUnsafeMutableBufferPointer { architecture.embed(process.networkTime(t), into: $0.baseAddress!) }
      for j in 0..<d {
        let x0 = data[row, j], epsilon = noise[b * d + j]
        input[b * width + j] = Float(a * x0 + s * epsilon)
        let goal: Double
        switch architecture.parameterisation {
        case .noise: goal = epsilon
        case .score: goal = -epsilon / s
        case .data: goal = x0
        case .velocity: goal = a * epsilon - s * x0
        case .flowVelocity: goal = epsilon - x0
        }
        target[b * d + j] = Float(goal)
      }
      for i in 0..<e { input[b * width + d + i] = features[i] }
    }
    var trace = MLP<Float>.Trace()
    output.withUnsafeMutableBufferPointer { mlp.forward(input, rows: B, into: $0.baseAddress!, trace: &trace) }
    var loss = 0.0
    var outputGradient = [Float](repeating: 0, count: B * d)
    for i in 0..<(B * d) {
      let r = output[i] - target[i]
      loss += Double(r * r)
      outputGradient[i] = 2 * r / Float(B)
    }
    loss /= Double(B)
    guard loss.isFinite else {
      throw NetworkError.invalidTraining("the loss is not finite at step \(step); lower the learning rate")
    }
    let gradient = mlp.backward(trace, rows: B, outputGradient: outputGradient).flat
    let rate = configuration.learningRate(at: step)
    let correction1 = 1 - Foundation.pow(Double(beta1), Double(step + 1))
    let correction2 = 1 - Foundation.pow(Double(beta2), Double(step + 1))
    let stepSize = Float(rate * correction2.squareRoot() / correction1)
    // The average warms up as (1 + n)/(10 + n), so short runs are not dominated by the start.
    let decay = Float(min(configuration.emaDecay, Double(1 + step) / Double(10 + step)))
    for i in theta.indices {
      m[i] = beta1 * m[i] + (1 - beta1) * gradient[i]
      v[i] = beta2 * v[i] + (1 - beta2) * gradient[i] * gradient[i]
      theta[i] -= stepSize * m[i] / (v[i].squareRoot() + 1e-8)
      average[i] = decay * average[i] + (1 - decay) * theta[i]
    }
    mlp.parameters.setFlat(theta)
    if checkpointEvery > 0, (step + 1) % checkpointEvery == 0 {
      var snapshot = mlp
      snapshot.parameters.setFlat(average)
      try onCheckpoint(step + 1, snapshot)
    }
    if !onStep(TrainingStep(step: step, loss: loss, learningRate: rate)) { break }
  }
  var averaged = mlp
  averaged.parameters.setFlat(average)
  return (averaged, mlp)
}
