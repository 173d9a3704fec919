import Foundation
import SDEKit
import Testing
@testable import ScoreModels

@Suite("MLP denoisers: BLAS, gradients, training, safetensors")
struct NetworkTests {
  static let small = MLPArchitecture(dimension: 2, timeFeatures: 4, hidden: [5, 3], parameterisation: .noise)

  /// Random weights in the network's scalar, from a seed.
  static func parameters<S: NetworkScalar>(_ architecture: MLPArchitecture, as: S.Type, seed: UInt64) -> MLPParameters<S> {
    let floats = initialParameters(architecture, seed: seed)
    return MLPParameters(weights: floats.weights.map { $0.map { S($0) } }, biases: floats.biases.map { $0.map { S($0) } })
  }

  @Test("cblas_sgemm is bound to OpenBLAS, not GSL's reference gslcblas")
  func fastBLASIsBound() throws {
    let path = try #require(cblasLibraryPath())
    #expect(path.contains("openblas"), "cblas_sgemm resolved to \(path)")
  }

  @Test("The backward pass matches central finite differences for every parameter tensor")
  func gradients() throws {
    let architecture = Self.small
    let mlp = try MLP(architecture: architecture, parameters: Self.parameters(architecture, as: Double.self, seed: 4))
    let rows = 6
    var x = [Double](repeating: 0, count: rows * 2)
    NormalSource(seed: 9).fill(rows: 0..<rows, stream: .brownian(interval: 0), count: 2, scale: 1, into: &x)
    let input = x.withUnsafeBufferPointer { mlp.joinedInput($0, t: 0.37) }
    var weights = [Double](repeating: 0, count: rows * 2)
    NormalSource(seed: 10).fill(rows: 0..<rows, stream: .brownian(interval: 0), count: 2, scale: 1, into: &weights)
    // f(θ) = Σ ⟨g, output⟩, whose gradient is backward(g).
    func f(_ parameters: MLPParameters<Double>) -> Double {
      var candidate = mlp
      candidate.parameters = parameters
      var out = [Double](repeating: 0, count: rows * 2)
      out.withUnsafeMutableBufferPointer { candidate.forward(input, rows: rows, into: $0.baseAddress!, trace: nil) }
      return zip(out, weights).reduce(0) { $0 + $1.0 * $1.1 }
    }
    var trace = MLP<Double>.Trace()
    var out = [Double](repeating: 0, count: rows * 2)
    out.withUnsafeMutableBufferPointer { mlp.forward(input, rows: rows, into: $0.baseAddress!, trace: &trace) }
    let analytic = mlp.backward(trace, rows: rows, outputGradient: weights).flat
    let flat = mlp.parameters.flat
    let h = 1e-6
    for i in flat.indices {
      var plus = mlp.parameters, minus = mlp.parameters
      var p = flat, m = flat
      p[i] += h
      m[i] -= h
      plus.setFlat(p)
      minus.setFlat(m)
      let numeric = (f(plus) - f(minus)) / (2 * h)
      // Central differences in double: truncation O(h²) ≈ 1e-12 and rounding ≈ 1e-16/h ≈ 1e-10,
      // far inside 1e-4 relative (or 1e-8 absolute for gradients near zero).
      #expect(abs(numeric - analytic[i]) <= 1e-4 * abs(numeric) + 1e-8, "parameter \(i): \(numeric) vs \(analytic[i])")
    }
  }

  @Test("Float (sgemm) and Double (dgemm) forward passes agree to float precision")
  func floatMatchesDouble() throws {
    let architecture = MLPArchitecture(dimension: 2)  // the REFERENCE W5 shape: 2 + 32 → 128³ → 2
    let float = try MLP(architecture: architecture, parameters: Self.parameters(architecture, as: Float.self, seed: 1))
    let double = try MLP(architecture: architecture, parameters: Self.parameters(architecture, as: Double.self, seed: 1))
    var x = [Double](repeating: 0, count: 300 * 2)
    NormalSource(seed: 2).fill(rows: 0..<300, stream: .brownian(interval: 0), count: 2, scale: 2, into: &x)
    var a = [Double](repeating: 0, count: 600), b = a
    x.withUnsafeBufferPointer { xp in
      let view = BatchView(xp, dimension: 2)
      a.withUnsafeMutableBufferPointer { float.predict(view, t: 0.5, into: MutableBatchView($0, dimension: 2)) }
      b.withUnsafeMutableBufferPointer { double.predict(view, t: 0.5, into: MutableBatchView($0, dimension: 2)) }
    }
    let scale = b.map(abs).max()!
    // Float32 through four layers of width ≤ 128: a few 1e-7 per product, well under 1e-5.
    for i in a.indices { #expect(abs(a[i] - b[i]) <= 1e-5 * scale, "\(i): \(a[i]) vs \(b[i])") }
  }

  @Test("Float bias and SiLU: whole and padded vectors give each value the same bits, near libm")
  func floatSiLU() {
    // One row of 57 values runs through the 16-lane loop (48) and a zero-padded last vector (9);
    // as rows of width 8 every value takes the padded vector. The vector exp works lane by lane,
    // so both ways must agree bit for bit; against libm the degree-7 polynomial is within a few
    // ulp (1e-6 relative is a wide margin).
    let width = 57
    let values = (0..<width).map { Float($0) * 0.37 - 10 }
    let zeros = [Float](repeating: 0, count: width)
    func apply(rowWidth: Int) -> [Float] {
      var rows = values
      let bias = [Float](repeating: 0.25, count: rowWidth)
      bias.withUnsafeBufferPointer { b in
        rows.withUnsafeMutableBufferPointer { r in
          let whole = width / rowWidth * rowWidth
          Float.addBias(b, to: UnsafeMutableBufferPointer(rebasing: r[..<whole]), silu: true)
          for e in whole..<width {
            Float.addBias(UnsafeBufferPointer(rebasing: b[..<1]), to: UnsafeMutableBufferPointer(rebasing: r[e...e]), silu: true)
          }
        }
      }
      return rows
    }
    let wide = apply(rowWidth: width)
    #expect(wide[..<56] == apply(rowWidth: 8)[..<56])
    #expect(wide != zeros)
    for (z, y) in zip(values, wide) {
      let x = z + 0.25, exact = x / (1 + Foundation.exp(-x))
      #expect(abs(y - exact) <= 1e-6 * abs(exact) + 1e-30, "silu(\(x)) = \(y), libm \(exact)")
    }
  }

  @Test("Training is deterministic: the same seed gives the same weights, bit for bit; another seed does not")
  func deterministicTraining() throws {
    var configuration = TrainingConfiguration()
    configuration.steps = 40
    configuration.batchSize = 32
    configuration.seed = 5
    let data = TargetName.gmm2d8.mixture.sample(count: 500, seed: 1)
    let architecture = MLPArchitecture(dimension: 2, timeFeatures: 8, hidden: [16, 16])
    let one = try trainDenoiser(architecture: architecture, data: data, process: VPSDE(), configuration: configuration)
    let two = try trainDenoiser(architecture: architecture, data: data, process: VPSDE(), configuration: configuration)
    #expect(one.average.parameters == two.average.parameters && one.raw.parameters == two.raw.parameters)
    configuration.seed = 6
    let other = try trainDenoiser(architecture: architecture, data: data, process: VPSDE(), configuration: configuration)
    #expect(other.raw.parameters != one.raw.parameters)
  }

  @Test("Training lowers the denoising loss")
  func trainingLearns() throws {
    var configuration = TrainingConfiguration()
    configuration.steps = 600
    configuration.batchSize = 128
    configuration.warmupSteps = 50
    let data = TargetName.gmm2d8.mixture.sample(count: 5_000, seed: 1)
    var losses: [Double] = []
    _ = try trainDenoiser(architecture: MLPArchitecture(dimension: 2, hidden: [64, 64]), data: data, process: VPSDE(),
                          configuration: configuration, onStep: { losses.append($0.loss); return true })
    let first = losses.prefix(50).reduce(0, +) / 50, last = losses.suffix(100).reduce(0, +) / 100
    // ε-prediction starts near E‖ε‖² = d = 2; a network that learned anything is well below.
    #expect(first > 1.2 && last < 0.8 * first, "first \(first), last \(last)")
  }

  @Test("safetensors: writing and reading gives the same network")
  func roundTrip() throws {
    let architecture = MLPArchitecture(dimension: 2, timeFeatures: 8, hidden: [7, 5], parameterisation: .data)
    let mlp = try MLP(architecture: architecture, parameters: initialParameters(architecture, seed: 3))
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("sdekit-\(UUID().uuidString).safetensors").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    try SafeTensors.encode(mlp).write(to: URL(fileURLWithPath: path))
    let read = try SafeTensors.read(path)
    #expect(read == mlp)
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    let headerLength = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
    #expect((8 + headerLength) % 8 == 0)
  }

  /// A valid file's bytes, its header as a dictionary, and a function re-encoding a changed header.
  static func validFile() throws -> (Data, [String: Any], ([String: Any]) throws -> Data) {
    let mlp = try MLP(architecture: small, parameters: initialParameters(small, seed: 3))
    let data = try SafeTensors.encode(mlp)
    let length = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
    let header = try #require(try JSONSerialization.jsonObject(with: data[8..<(8 + length)]) as? [String: Any])
    let body = data[(8 + length)...]
    return (data, header, { changed in
      let json = try JSONSerialization.data(withJSONObject: changed)
      var out = Data()
      withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
      return out + json + body
    })
  }

  @Test("Malformed safetensors files each get their own error", arguments: [
    "truncated", "length past the end", "bad JSON", "wrong dtype", "wrong shape", "overlap", "out of range",
    "missing tensor", "no architecture",
  ])
  func malformed(_ kind: String) throws {
    let (data, header, encode) = try Self.validFile()
    func tensor(_ name: String, _ change: (inout [String: Any]) -> Void) throws -> Data {
      var copy = header
      var entry = copy[name] as! [String: Any]
      change(&entry)
      copy[name] = entry
      return try encode(copy)
    }
    let (bytes, expected): (Data, String)
    switch kind {
    case "truncated": (bytes, expected) = (data.prefix(5), "truncated")
    case "length past the end":
      var d = data
      d[0] = 0xFF; d[1] = 0xFF; d[2] = 0xFF
      (bytes, expected) = (d, "runs past the end")
    case "bad JSON":
      var d = data
      d[8] = UInt8(ascii: "[")
      d[9] = UInt8(ascii: "!")
      (bytes, expected) = (d, "not a valid JSON")
    case "wrong dtype": (bytes, expected) = (try tensor("layers.0.weight") { $0["dtype"] = "F16"; $0["data_offsets"] = [0, 60] }, "needs")
    case "wrong shape": (bytes, expected) = (try tensor("layers.1.weight") { $0["shape"] = [5, 3] }, "shape")
    case "overlap":
      // Shifted by one value, the first weight runs into the tensor stored after it.
      let own = (header["layers.0.weight"] as! [String: Any])["data_offsets"] as! [Int]
      (bytes, expected) = (try tensor("layers.0.weight") { $0["data_offsets"] = [own[0] + 4, own[1] + 4] }, "overlap")
    case "out of range": (bytes, expected) = (try tensor("layers.2.bias") { $0["data_offsets"] = [1_000_000, 1_000_008] }, "outside the data section")
    case "missing tensor":
      var copy = header
      copy["layers.1.bias"] = nil
      (bytes, expected) = (try encode(copy), "'layers.1.bias' is missing")
    default:
      var copy = header
      copy["__metadata__"] = ["format": "pt"]
      (bytes, expected) = (try encode(copy), "sdekit_architecture")
    }
    do {
      _ = try SafeTensors.decode(bytes)
      Issue.record("\(kind): decoded without an error")
    } catch let error as NetworkError {
      #expect(error.description.contains(expected), "\(kind): \(error)")
    }
  }

  @Test("Mutated files never crash the reader (a fixed-count fuzz loop)")
  func fuzz() throws {
    let (data, _, _) = try Self.validFile()
    let philox = Philox4x32(seed: 77)
    var accepted = 0
    for run in 0..<3_000 {
      var bytes = data
      let words = philox.block(UInt32(run), 0, 0, 0)
      switch words.0 % 4 {
      case 0: bytes = bytes.prefix(Int(words.1) % bytes.count)
      case 1: for k in 0..<(1 + Int(words.2 % 8)) { bytes[Int(words.1 &+ UInt32(k) &* 2654435761) % bytes.count] = UInt8(truncatingIfNeeded: words.3 >> (k % 4 * 8)) }
      case 2: bytes[Int(words.1) % 8] = UInt8(truncatingIfNeeded: words.2)  // the length field
      default: bytes[8 + Int(words.1) % 100] = UInt8(truncatingIfNeeded: words.2)  // the JSON header
      }
      do {
        _ = try SafeTensors.decode(bytes)
        accepted += 1
      } catch is NetworkError {
        // Expected for almost every mutation.
      }
    }
    #expect(accepted < 3_000)
  }

  static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

  @Test("A network trained and exported by PyTorch (tools/pytorch_mlp.py) gives PyTorch's outputs")
  func pytorchInteroperability() throws {
    let mlp = try SafeTensors.read(Self.fixtures.appendingPathComponent("pytorch_mlp.safetensors").path)
    let data = try Data(contentsOf: Self.fixtures.appendingPathComponent("pytorch_mlp.json"))
    let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    let cases = try #require(root["cases"] as? [[String: Any]])
    #expect(cases.count == 4 && mlp.architecture.hidden == [32, 32])
    for c in cases {
      let t = try #require(c["t"] as? Double)
      let x = try #require(c["x"] as? [[Double]]).flatMap { $0 }
      let expected = try #require(c["output"] as? [[Double]]).flatMap { $0 }
      var output = [Double](repeating: 0, count: expected.count)
      let d = mlp.dimension
      x.withUnsafeBufferPointer { xp in
        output.withUnsafeMutableBufferPointer {
          mlp.predict(BatchView(xp, dimension: d), t: t, into: MutableBatchView($0, dimension: d))
        }
      }
      let scale = expected.map(abs).max()!
      // Both run float32 (PyTorch's kernels and OpenBLAS sum in different orders): 1e-5 relative.
      for i in expected.indices {
        #expect(abs(output[i] - expected[i]) <= 1e-5 * scale, "t = \(t), value \(i): \(output[i]) vs \(expected[i])")
      }
    }
  }
}

extension MLP {
  /// Rows of x joined with the time features of t, in the network's scalar: `forward`'s input.
  func joinedInput(_ x: UnsafeBufferPointer<Double>, t: Double) -> [S] {
    let rows = x.count / architecture.dimension
    var input = [S](repeating: 0, count: rows * (architecture.dimension + architecture.timeFeatures))
    input.withUnsafeMutableBufferPointer { join(x, t: t, into: $0) }
    return input
  }
}
