import CSIMDMath
import Foundation
import SDEKit

/// The shape of an MLP denoiser: input x (d) joined with sinusoidal features of t, hidden layers
/// with SiLU, output d in a declared parameterisation.
public struct MLPArchitecture: Sendable, Hashable, Codable {
  public var dimension: Int
  /// Number of time features (even): sin(ω_i t) and cos(ω_i t) for ω_i = 1000^(i/(E/2 − 1)), i < E/2.
  public var timeFeatures: Int
  public var hidden: [Int]
  public var parameterisation: Parameterisation

  public init(dimension: Int, timeFeatures: Int = 32, hidden: [Int] = [128, 128, 128],
              parameterisation: Parameterisation = .noise) {
    self.dimension = dimension
    self.timeFeatures = timeFeatures
    self.hidden = hidden
    self.parameterisation = parameterisation
  }

  /// (inputs, outputs) of each linear layer.
  public var layers: [(inputs: Int, outputs: Int)] {
    let widths = [dimension + timeFeatures] + hidden + [dimension]
    return (0..<(widths.count - 1)).map { (widths[$0], widths[$0 + 1]) }
  }

  public var parameterCount: Int { layers.reduce(0) { $0 + $1.inputs * $1.outputs + $1.outputs } }

  /// Throws naming the first bad size.
  public func validate() throws {
    guard dimension >= 1 else { throw NetworkError.invalidArchitecture("dimension must be at least 1, got \(dimension)") }
    guard timeFeatures >= 2, timeFeatures % 2 == 0 else {
      throw NetworkError.invalidArchitecture("time features must be even and at least 2, got \(timeFeatures)")
    }
    guard !hidden.isEmpty, hidden.allSatisfy({ $0 >= 1 }) else {
      throw NetworkError.invalidArchitecture("hidden widths must be at least one positive number, got \(hidden)")
    }
  }

  /// The time features of t, written to `output` (E values).
  func embed<S: NetworkScalar>(_ t: Double, into output: UnsafeMutablePointer<S>) {
    let half = timeFeatures / 2
    for i in 0..<half {
      let omega = half > 1 ? Foundation.pow(1000, Double(i) / Double(half - 1)) : 1
      output[i] = S(Foundation.sin(omega * t))
      output[half + i] = S(Foundation.cos(omega * t))
    }
  }
}

/// A network's failures, each naming what was wrong.
public enum NetworkError: Error, CustomStringConvertible, Equatable {
  case invalidArchitecture(String)
  case invalidWeights(String)
  case invalidFile(String)
  case invalidTraining(String)

  public var description: String {
    switch self {
    case .invalidArchitecture(let m), .invalidWeights(let m), .invalidFile(let m), .invalidTraining(let m): m
    }
  }
}

/// The weights of an MLP: per layer W (outputs × inputs, row-major, as PyTorch's Linear stores
/// it) and b (outputs).
public struct MLPParameters<S: NetworkScalar>: Sendable, Hashable {
  public var weights: [[S]]
  public var biases: [[S]]

  public init(weights: [[S]], biases: [[S]]) {
    self.weights = weights
    self.biases = biases
  }

  /// Zeros of the architecture's shapes.
  public init(zerosFor architecture: MLPArchitecture) {
    weights = architecture.layers.map { [S](repeating: 0, count: $0.inputs * $0.outputs) }
    biases = architecture.layers.map { [S](repeating: 0, count: $0.outputs) }
  }

  /// Throws unless every tensor has the architecture's shape and every value is finite.
  public func validate(for architecture: MLPArchitecture) throws {
    let layers = architecture.layers
    guard weights.count == layers.count, biases.count == layers.count else {
      throw NetworkError.invalidWeights("the architecture has \(layers.count) layers; the weights have \(weights.count) and \(biases.count) biases")
    }
    for (l, layer) in layers.enumerated() {
      guard weights[l].count == layer.inputs * layer.outputs, biases[l].count == layer.outputs else {
        throw NetworkError.invalidWeights("layer \(l) needs a \(layer.outputs)×\(layer.inputs) weight and \(layer.outputs) biases")
      }
      guard weights[l].allSatisfy(\.isFinite), biases[l].allSatisfy(\.isFinite) else {
        throw NetworkError.invalidWeights("layer \(l) holds a value that is not finite")
      }
    }
  }

  /// Every tensor flattened in layer order (W₀, b₀, W₁, b₁, …): the optimiser's view.
  var flat: [S] { zip(weights, biases).flatMap { $0 + $1 } }

  mutating func setFlat(_ values: [S]) {
    var offset = 0
    for l in weights.indices {
      for i in weights[l].indices { weights[l][i] = values[offset + i] }
      offset += weights[l].count
      for i in biases[l].indices { biases[l][i] = values[offset + i] }
      offset += biases[l].count
    }
  }
}

/// An MLP denoiser: batched forward and backward passes through BLAS gemm.
public struct MLP<S: NetworkScalar>: Sendable, Hashable {
  public let architecture: MLPArchitecture
  public var parameters: MLPParameters<S>

  /// - Throws: `NetworkError` for a bad architecture or weights of the wrong shape.
  public init(architecture: MLPArchitecture, parameters: MLPParameters<S>) throws {
    try architecture.validate()
    try parameters.validate(for: architecture)
    _ = openBLASSingleThreaded
    self.architecture = architecture
    self.parameters = parameters
  }

  /// What a forward pass keeps for the backward pass: each layer's input and pre-activation.
  struct Trace {
    var inputs: [[S]] = []
    var preActivations: [[S]] = []
  }

  /// The network's output for `rows` inputs (row-major, width d + E already joined), into
  /// `output` (rows × d); with `trace`, what the backward pass needs.
  func forward(_ input: [S], rows: Int, into output: UnsafeMutablePointer<S>, trace: UnsafeMutablePointer<Trace>?) {
    var scratch = Scratch(architecture, rows: rows)
    input.withUnsafeBufferPointer { x in
      let result = forward(x.baseAddress!, rows: rows, scratch: &scratch, trace: trace)
      output.update(from: result, count: rows * architecture.dimension)
    }
  }

  /// Two buffers of `rows` × the widest layer: each layer reads one and writes the other. Also
  /// the layers' shapes, which `MLPArchitecture.layers` builds anew at every call.
  struct Scratch {
    var buffers: ([S], [S])
    let layers: [(inputs: Int, outputs: Int)]

    init(_ architecture: MLPArchitecture, rows: Int) {
      layers = architecture.layers
      let widest = layers.map(\.outputs).max()!
      buffers = ([S](repeating: 0, count: rows * widest), [S](repeating: 0, count: rows * widest))
    }
  }

  /// The forward pass over `rows` inputs at `input`, through `scratch` (made for at least
  /// `rows`); returns the output's first element (rows × d), which lives in `scratch`.
  @_specialize(exported: true, where S == Float)
  @_specialize(exported: true, where S == Double)
  func forward(_ input: UnsafePointer<S>, rows: Int, scratch: inout Scratch,
               trace: UnsafeMutablePointer<Trace>?) -> UnsafePointer<S> {
    let layers = scratch.layers
    var x = input
    return scratch.buffers.0.withUnsafeMutableBufferPointer { first in
      scratch.buffers.1.withUnsafeMutableBufferPointer { second in
        for (l, layer) in layers.enumerated() {
          let y = UnsafeMutableBufferPointer(rebasing: (l % 2 == 0 ? first : second)[0..<(rows * layer.outputs)])
          parameters.weights[l].withUnsafeBufferPointer { w in
            S.gemm(transposeA: false, transposeB: true, m: rows, n: layer.outputs, k: layer.inputs, alpha: 1,
                   a: x, lda: layer.inputs, b: w.baseAddress!, ldb: layer.inputs, beta: 0,
                   c: y.baseAddress!, ldc: layer.outputs)
          }
          // The bias is added after the product (β = 0 above): the same sum, one pass less than
          // filling C with it first. Hidden layers apply SiLU in the same pass unless a trace
          // needs the pre-activation.
          let activate = l < layers.count - 1
          parameters.biases[l].withUnsafeBufferPointer { S.addBias($0, to: y, silu: activate && trace == nil) }
          if let trace {
            trace.pointee.inputs.append(Array(UnsafeBufferPointer(start: x, count: rows * layer.inputs)))
            trace.pointee.preActivations.append(Array(y))
            if activate { S.silu(y) }
          }
          x = UnsafePointer(y.baseAddress!)
        }
        return x
      }
    }
  }

  /// Gradients of Σ_rows ⟨gOut, output⟩ with respect to every parameter, from a forward trace.
  @_specialize(exported: true, where S == Float)
  @_specialize(exported: true, where S == Double)
  func backward(_ trace: Trace, rows: Int, outputGradient: [S]) -> MLPParameters<S> {
    var gradients = MLPParameters<S>(zerosFor: architecture)
    var delta = outputGradient  // ∂/∂(pre-activation) of the current layer
    let layers = architecture.layers
    for l in stride(from: layers.count - 1, through: 0, by: -1) {
      let layer = layers[l]
      // ∂W = δᵀ X (outputs × inputs), ∂b = Σ_rows δ.
      delta.withUnsafeBufferPointer { d in
        trace.inputs[l].withUnsafeBufferPointer { x in
          gradients.weights[l].withUnsafeMutableBufferPointer { g in
            S.gemm(transposeA: true, transposeB: false, m: layer.outputs, n: layer.inputs, k: rows, alpha: 1,
                   a: d.baseAddress!, lda: layer.outputs, b: x.baseAddress!, ldb: layer.inputs, beta: 0,
                   c: g.baseAddress!, ldc: layer.inputs)
          }
        }
      }
      for r in 0..<rows { for o in 0..<layer.outputs { gradients.biases[l][o] += delta[r * layer.outputs + o] } }
      guard l > 0 else { break }
      // ∂X = δ W (rows × inputs), then through the previous layer's SiLU:
      // silu′(z) = σ(z)(1 + z(1 − σ(z))).
      var previous = [S](repeating: 0, count: rows * layer.inputs)
      delta.withUnsafeBufferPointer { d in
        parameters.weights[l].withUnsafeBufferPointer { w in
          previous.withUnsafeMutableBufferPointer { p in
            S.gemm(transposeA: false, transposeB: false, m: rows, n: layer.inputs, k: layer.outputs, alpha: 1,
                   a: d.baseAddress!, lda: layer.outputs, b: w.baseAddress!, ldb: layer.inputs, beta: 0,
                   c: p.baseAddress!, ldc: layer.inputs)
          }
        }
      }
      previous.withUnsafeMutableBufferPointer { delta in
        trace.preActivations[l - 1].withUnsafeBufferPointer { S.siluBackward(delta, preActivation: $0) }
      }
      delta = previous
    }
    return gradients
  }

  /// Writes rows of x joined with the time features of t to `input` (rows × (d + E)).
  @_specialize(exported: true, where S == Float)
  @_specialize(exported: true, where S == Double)
  func join(_ x: UnsafeBufferPointer<Double>, t: Double, into buffer: UnsafeMutableBufferPointer<S>) {
    let d = architecture.dimension, width = d + architecture.timeFeatures, rows = x.count / d
    guard rows > 0, let input = buffer.baseAddress else { return }
    architecture.embed(t, into: input + d)
    for r in 0..<rows {
      for j in 0..<d { input[r * width + j] = S(x[r * d + j]) }
      if r > 0 { (input + r * width + d).update(from: input + d, count: width - d) }
    }
  }
}

extension MLP: DenoisingNetwork {
  public var dimension: Int { architecture.dimension }

  /// The network's prediction (in its parameterisation) for every row of x at time t.
  @_specialize(exported: true, where S == Float)
  @_specialize(exported: true, where S == Double)
  public func predict(_ x: BatchView, t: Double, into output: MutableBatchView) {
    let d = architecture.dimension, rows = x.rows
    guard rows > 0 else { return }
    if let network = self as? MLP<Float> {
      network.predictFused(x.values, t: t, into: output.values)
      return
    }
    // Tiles of rows keep every layer's activations in cache (a whole 20,000-row batch at width
    // 128 is 10 MB per layer, and ran at a third of the speed). Rows are independent, so the
    // tiling does not change any row's result. The buffers are made once per call, not per tile.
    let tileRows = min(Self.tileRows, rows)
    var input = [S](repeating: 0, count: tileRows * (d + architecture.timeFeatures))
    var scratch = Scratch(architecture, rows: tileRows)
    input.withUnsafeMutableBufferPointer { input in
      var first = 0
      while first < rows {
        let count = min(tileRows, rows - first)
        join(UnsafeBufferPointer(rebasing: x.values[(first * d)..<((first + count) * d)]), t: t, into: input)
        let result = forward(input.baseAddress!, rows: count, scratch: &scratch, trace: nil)
        for e in 0..<(count * d) { output[first * d + e] = Double(result[e]) }
        first += count
      }
    }
  }

  static var tileRows: Int { 256 }
}

extension MLP where S == Float {
  /// The weights by input (w[k·width + o] = W_ok) and the biases, each layer's outputs padded
  /// with zeros to `width`, a multiple of 16: the layout `sdekit_dense_f32` reads. Made per call
  /// (40,000 values for REFERENCE W5's network, a fraction of a percent of a 10,000-row call).
  struct PackedLayers {
    let weights: [[Float]]
    let biases: [[Float]]
    let widths: [Int]

    init(_ network: MLP<Float>) {
      let layers = network.architecture.layers
      widths = layers.map { ($0.outputs + 15) / 16 * 16 }
      var weights: [[Float]] = [], biases: [[Float]] = []
      for (l, layer) in layers.enumerated() {
        let width = widths[l]
        var packed = [Float](repeating: 0, count: layer.inputs * width)
        let w = network.parameters.weights[l]
        for o in 0..<layer.outputs {
          for k in 0..<layer.inputs { packed[k * width + o] = w[o * layer.inputs + k] }
        }
        weights.append(packed)
        biases.append(network.parameters.biases[l] + [Float](repeating: 0, count: width - layer.outputs))
      }
      (self.weights, self.biases) = (weights, biases)
    }
  }

  /// `predict` in single precision through CSIMDMath's dense layers: each tile of rows runs
  /// through every layer — the product, the bias and SiLU in one pass per layer, in registers —
  /// at the process's SIMD level. Each output sums its inputs in order by fused multiply–adds, so
  /// the bits are the same on every level and machine (a BLAS's kernels sum in orders that differ
  /// between CPUs), and within float rounding of the BLAS path (`forward`, kept for training).
  func predictFused(_ x: UnsafeBufferPointer<Double>, t: Double, into output: UnsafeMutableBufferPointer<Double>) {
    let d = architecture.dimension, rows = x.count / d, inputWidth = d + architecture.timeFeatures
    let layers = architecture.layers, packed = PackedLayers(self)
    let tileRows = min(Self.fusedTileRows, rows), widest = packed.widths.max()!
    var input = [Float](repeating: 0, count: tileRows * inputWidth)
    var buffers = ([Float](repeating: 0, count: tileRows * widest), [Float](repeating: 0, count: tileRows * widest))
    input.withUnsafeMutableBufferPointer { input in
      buffers.0.withUnsafeMutableBufferPointer { first in
        buffers.1.withUnsafeMutableBufferPointer { second in
          var start = 0
          while start < rows {
            let count = min(tileRows, rows - start)
            join(UnsafeBufferPointer(rebasing: x[(start * d)..<((start + count) * d)]), t: t, into: input)
            var source = UnsafePointer(input.baseAddress!), stride = inputWidth
            for (l, layer) in layers.enumerated() {
              let out = (l % 2 == 0 ? first : second).baseAddress!
              packed.weights[l].withUnsafeBufferPointer { w in
                packed.biases[l].withUnsafeBufferPointer { b in
                  sdekit_dense_f32(count, layer.inputs, packed.widths[l], source, stride, w.baseAddress!, packed.widths[l],
                                   b.baseAddress!, l < layers.count - 1 ? 1 : 0, out, packed.widths[l])
                }
              }
              (source, stride) = (UnsafePointer(out), packed.widths[l])
            }
            for r in 0..<count {
              for j in 0..<d { output[(start + r) * d + j] = Double(source[r * stride + j]) }
            }
            start += count
          }
        }
      }
    }
  }

  static var fusedTileRows: Int { 256 }
}

/// A learned score: an MLP's prediction turned into ∇log p_t by its parameterisation.
public typealias MLPScore<S: NetworkScalar, P: DiffusionProcess> = ParameterisedScore<MLP<S>, P>

extension ParameterisedScore {
  /// The score of `network` under `process`, converted from the architecture's parameterisation.
  public init<S: NetworkScalar>(mlp network: MLP<S>, process: P) where N == MLP<S> {
    self.init(network: network, process: process, parameterisation: network.architecture.parameterisation)
  }
}
