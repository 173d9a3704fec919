import SDEKit

/// A model of the score ∇log p_t(x), evaluated on a batch of rows (a view of rows × dimension,
/// row-major) into a caller-owned view of the same shape. A learned network is one; the exact
/// mixture score is another.
public protocol ScoreModel: Sendable {
  var dimension: Int { get }
  func score(_ x: BatchView, t: Double, into output: MutableBatchView)

  /// c·x + b·∇log p_t(x) for each element: the drift of a reverse SDE (b = −g²) and the field of
  /// the probability-flow ODE (b = −½g²) have this form. The default evaluates the score and
  /// combines in a second pass over the batch; a model that finishes its score in registers
  /// combines there (the same bits) and saves the pass.
  func combination(_ x: BatchView, t: Double, xCoefficient c: Double, scoreCoefficient b: Double,
                   into output: MutableBatchView)

  /// The data prediction E[x₀ | x_t = x] under a process with x_t = a x₀ + s n. The default is
  /// Tweedie's formula (x + s²∇log p_t(x))/a through `combination`, which needs a > 0; a model
  /// that predicts x₀ more directly (a mixture's posterior means, a data or velocity network)
  /// overrides it, and so also serves a = 0 (flow matching at τ = 1).
  func dataPrediction(_ x: BatchView, t: Double, a: Double, s: Double, into output: MutableBatchView)
}

extension ScoreModel {
  public func combination(_ x: BatchView, t: Double, xCoefficient c: Double,
                          scoreCoefficient b: Double, into output: MutableBatchView) {
    score(x, t: t, into: output)
    for e in 0..<output.count { output[e] = c * x[e] + b * output[e] }
  }

  public func dataPrediction(_ x: BatchView, t: Double, a: Double, s: Double, into output: MutableBatchView) {
    combination(x, t: t, xCoefficient: 1 / a, scoreCoefficient: s * s / a, into: output)
  }
}

/// The exact score of a Gaussian mixture under a diffusion process.
public struct ExactMixtureScore<P: DiffusionProcess>: ScoreModel {
  public let mixture: GaussianMixture
  public let process: P

  public init(mixture: GaussianMixture, process: P) {
    self.mixture = mixture
    self.process = process
  }

  public var dimension: Int { mixture.dimension }

  public func score(_ x: BatchView, t: Double, into output: MutableBatchView) {
    mixture.evaluate(x.values, a: process.meanCoefficient(t), s: process.standardDeviation(t),
                     logDensity: nil, score: output.values)
  }

  public func combination(_ x: BatchView, t: Double, xCoefficient c: Double,
                          scoreCoefficient b: Double, into output: MutableBatchView) {
    mixture.evaluate(x.values, a: process.meanCoefficient(t), s: process.standardDeviation(t),
                     logDensity: nil, score: output.values, combinedWith: (c, b))
  }

  /// Tweedie's formula, except at a = 0 where p_t no longer depends on x₀: every component's
  /// posterior mean is then its own mean, so E[x₀ | x] is the mixture's mean whatever x is.
  public func dataPrediction(_ x: BatchView, t: Double, a: Double, s: Double, into output: MutableBatchView) {
    guard a == 0 else {
      return combination(x, t: t, xCoefficient: 1 / a, scoreCoefficient: s * s / a, into: output)
    }
    let mean = mixture.mean, d = mixture.dimension
    for e in 0..<output.count { output[e] = mean[e % d] }
  }

  /// log p_t for each row (`output` holds one value per row).
  public func logDensity(_ x: BatchView, t: Double, into output: UnsafeMutableBufferPointer<Double>) {
    mixture.evaluate(x.values, a: process.meanCoefficient(t), s: process.standardDeviation(t),
                     logDensity: output, score: nil)
  }
}

/// What a network predicts, in the usual parameterisations of diffusion models.
public enum Parameterisation: String, Sendable, Codable, CaseIterable {
  /// ∇log p_t(x) itself.
  case score
  /// The noise ε̂ in x = a x₀ + s ε: score = −ε̂/s.
  case noise
  /// The clean sample x̂₀: score = (a x̂₀ − x)/s².
  case data
  /// The velocity v = a ε − s x₀ (Salimans & Ho 2022): ε̂ = (s x + a v)/(a² + s²), then as noise.
  case velocity
  // MARK: Flow matching
  /// The flow-matching velocity v = ε − x₀ (rectified flow, `FlowMatchingProcess`): from
  /// x = a x₀ + s ε, x̂₀ = (x − s v)/(a + s) and ε̂ = (x + a v)/(a + s).
  case flowVelocity = "flow-velocity"
}

/// A network's prediction on a batch, in some parameterisation.
public protocol DenoisingNetwork: Sendable {
  var dimension: Int { get }
  func predict(_ x: BatchView, t: Double, into output: MutableBatchView)
}

extension Parameterisation {
  /// Converts a network's prediction p at x into the score, in place (a, s of x = a x₀ + s n at
  /// the evaluation's time):
  ///
  /// ```
  /// score: p;   noise: −p/s;   data: (a p − x)/s²;   velocity: −(s x + a p)/((a² + s²) s);
  /// flow-velocity: −(x + a p)/((a + s) s)
  /// ```
  ///
  /// Each is affine in (p, x) with no constant term, so the same map takes a Jacobian–vector
  /// product J_p v with the tangent v in place of x to J_s v (`DivergenceModel`).
  func convertToScore(_ p: MutableBatchView, at x: BatchView, a: Double, s: Double) {
    switch self {
    case .score:
      break
    case .noise:
      for e in 0..<p.count { p[e] = -p[e] / s }
    case .data:
      for e in 0..<p.count { p[e] = (a * p[e] - x[e]) / (s * s) }
    case .velocity:
      let norm = a * a + s * s
      for e in 0..<p.count { p[e] = -((s * x[e] + a * p[e]) / norm) / s }
    case .flowVelocity:
      let norm = a + s
      for e in 0..<p.count { p[e] = -((x[e] + a * p[e]) / norm) / s }
    }
  }
}

/// A score model from a network of any parameterisation, converting in place.
public struct ParameterisedScore<N: DenoisingNetwork, P: DiffusionProcess>: ScoreModel {
  public let network: N
  public let process: P
  public let parameterisation: Parameterisation

  public init(network: N, process: P, parameterisation: Parameterisation) {
    self.network = network
    self.process = process
    self.parameterisation = parameterisation
  }

  public var dimension: Int { network.dimension }

  public func score(_ x: BatchView, t: Double, into output: MutableBatchView) {
    network.predict(x, t: process.networkTime(t), into: output)
    parameterisation.convertToScore(output, at: x, a: process.meanCoefficient(t), s: process.standardDeviation(t))
  }

  /// x̂₀ straight from a data, velocity or flow-velocity prediction (no division by a, so a = 0
  /// works for the last two); Tweedie's formula for a score or noise prediction.
  public func dataPrediction(_ x: BatchView, t: Double, a: Double, s: Double, into output: MutableBatchView) {
    switch parameterisation {
    case .score, .noise:
      combination(x, t: t, xCoefficient: 1 / a, scoreCoefficient: s * s / a, into: output)
    case .data:
      network.predict(x, t: process.networkTime(t), into: output)
    case .velocity:
      network.predict(x, t: process.networkTime(t), into: output)
      let norm = a * a + s * s
      for e in 0..<output.count { output[e] = (a * x[e] - s * output[e]) / norm }
    case .flowVelocity:
      network.predict(x, t: process.networkTime(t), into: output)
      let norm = a + s
      for e in 0..<output.count { output[e] = (x[e] - s * output[e]) / norm }
    }
  }
}
