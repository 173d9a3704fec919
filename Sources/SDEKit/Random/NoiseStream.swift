/// Every random stream SDEKit draws, by name: the one table that maps each to its Philox address.
///
/// A stream's numbers come from Philox4x32-10 keyed by the run's seed XOR the stream's
/// `keyTweak`, with the stream's `step` word in the counter (`NormalSource` lays out the rest:
/// the number's index and the sample row). Two streams of one seed never share an address, so
/// no draw of one stream can repeat or correlate with another's, and every number stays a pure
/// function of (seed, stream, row, index): the same for any batch split, thread count or
/// number of processes.
///
/// The Brownian, prior and training streams keep the addresses they had before streams were
/// named (key tweak 0, the prior at the last step word; the training tweaks), so samples and
/// trained weights are unchanged by the naming.
public enum NoiseStream: Hashable, Sendable {
  /// Brownian increments of step (or fine interval) `interval`: ΔW from numbers 0 ..< width,
  /// the second normal of ΔZ from numbers width ..< 2·width.
  case brownian(interval: Int)
  /// The normals that place a Brownian path at a time inside fine interval `interval`
  /// (the Brownian bridge, `BrownianGrid`).
  case brownianBridge(interval: Int)
  /// The reverse process's starting points x_T ~ N(0, σ_prior² I).
  case prior
  /// Langevin corrector iteration `iteration` (of `iterationsPerStep`) at step `step`.
  case corrector(step: Int, iteration: Int, iterationsPerStep: Int)
  /// The normals of exact target samples, independent set `set` (metrics draw several).
  case targetSample(set: Int)
  /// The uniform words choosing each exact target sample's mixture component, set `set`.
  case targetComponent(set: Int)
  /// The random directions of the sliced Wasserstein distance (row = projection).
  case projections
  /// Probe vectors for Hutchinson's trace estimator, fixed along each sample's path.
  case probes
  /// Uniform dequantisation noise for data on discrete levels.
  case dequantisation
  /// Training: the noise added at optimiser step `step`.
  case trainingNoise(step: Int)
  /// Training: the uniform words that pick minibatch rows and times.
  case trainingBatch
  /// The built-in 2-D data sets (`moons`, `swiss-roll`, `checkerboard`).
  case dataSet
  /// A network's initial weights, U(−1/√inputs, 1/√inputs), uniform words at counter
  /// (index, layer, weight or bias, 0x1717).
  case initialWeights

  // MARK: The DDPM variational bound
  /// The normals that draw x_n ~ q(x_n | x₀) for term n of the bound (n = 1 … N).
  case boundNoise(term: Int)
  /// The uniform words that choose each sample's random terms when the bound is estimated from
  /// K of its N terms.
  case boundTerms
  // MARK: The Brownian tree

  /// A `BrownianTree`'s node `node` in heap order: node 0 holds the numbers of the whole
  /// interval's (ΔW, ΔZ) (0 ..< width and width ..< 2·width, as `.brownian`), node 2ᵏ + i
  /// (k ≥ 0, 0 ≤ i < 2ᵏ) the bridge normals ζ₁, ζ₂ that split node i of depth k at its midpoint,
  /// or place the path inside it when it is a leaf. Its own key tweak; the node in the step word,
  /// so a tree is at most `BrownianTree.maximumDepth` = 30 levels deep. Its numbers are laid out
  /// per row, not per quad of rows: number i of row r is word i mod 4 of the block at counter
  /// (⌊i/4⌋, node, r mod 2³², ⌊r/2³²⌋) (`BrownianTree.nodeNormals`), so a row's split takes one
  /// block, not two to four.
  case brownianTree(node: Int)

  /// The stream's place in Philox's key and counter space.
  public struct Address: Hashable, Sendable {
    /// XOR-ed into the seed to make the Philox key.
    public let keyTweak: UInt64
    /// The counter's step word.
    public let step: UInt32

    public init(keyTweak: UInt64, step: UInt32) {
      self.keyTweak = keyTweak
      self.step = step
    }
  }

  /// The one table from names to addresses. Tags in the key's high word are four ASCII letters
  /// naming the stream, far from any seed a person types and from each other.
  public var address: Address {
    switch self {
    case .brownian(let interval):
      return Address(keyTweak: 0, step: Self.word(interval, below: Self.priorStep, what: "Brownian interval"))
    case .prior:
      // The last step word, which no Brownian interval reaches.
      return Address(keyTweak: 0, step: Self.priorStep)
    case .brownianBridge(let interval):
      return Address(keyTweak: Self.tag("BRDG"), step: Self.word(interval, what: "Brownian bridge interval"))
    case .corrector(let step, let iteration, let perStep):
      precondition(iteration >= 0 && iteration < perStep, "corrector iteration \(iteration) outside 0..<\(perStep)")
      let (index, overflow) = step.multipliedReportingOverflow(by: perStep)
      precondition(!overflow, "corrector step \(step) × \(perStep) iterations overflows")
      return Address(keyTweak: Self.tag("CORR"), step: Self.word(index + iteration, what: "corrector draw"))
    case .targetSample(let set):
      return Address(keyTweak: Self.tag("TSMP"), step: Self.word(set, what: "target sample set"))
    case .targetComponent(let set):
      return Address(keyTweak: Self.tag("TCMP"), step: Self.word(set, what: "target sample set"))
    case .projections:
      return Address(keyTweak: Self.tag("PROJ"), step: 0)
    case .probes:
      return Address(keyTweak: Self.tag("PROB"), step: 0)
    case .dequantisation:
      return Address(keyTweak: Self.tag("DEQU"), step: 0)
    case .trainingNoise(let step):
      return Address(keyTweak: 0x7A12, step: Self.word(step, what: "training step"))
    case .trainingBatch:
      return Address(keyTweak: 0x7A11, step: 0)
    case .dataSet:
      return Address(keyTweak: 0xDA7A, step: 0)
    case .initialWeights:
      return Address(keyTweak: 0, step: 0)
    case .boundNoise(let term):
      return Address(keyTweak: Self.tag("BNDN"), step: Self.word(term, what: "bound term"))
    case .boundTerms:
      return Address(keyTweak: Self.tag("BNDT"), step: 0)
    case .brownianTree(let node):
      return Address(keyTweak: Self.tag("BTRE"), step: Self.word(node, what: "Brownian tree node"))
    }
  }

  /// The generator for this stream under `seed`.
  @inlinable
  public func generator(seed: UInt64) -> Philox4x32 { Philox4x32(seed: seed ^ address.keyTweak) }

  /// The prior's step word: the largest, so that Brownian intervals 0 ..< 2³² − 1 stay apart from it.
  static let priorStep = UInt32.max

  static func word(_ value: Int, below limit: UInt32 = .max, what: String) -> UInt32 {
    precondition(value >= 0 && value < Int(limit), "\(what) \(value) outside 0..<\(limit)")
    return UInt32(value)
  }

  static func tag(_ letters: StaticString) -> UInt64 {
    var value: UInt64 = 0
    letters.withUTF8Buffer { for byte in $0 { value = value << 8 | UInt64(byte) } }
    return value << 32
  }
}
