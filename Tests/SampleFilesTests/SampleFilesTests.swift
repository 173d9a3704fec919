import Foundation
import Samplers
import SampleFiles
import SDEKit
import Testing

/// A deterministic byte-level mutator: run `k` of a loop gets its own Philox block, so a failure
/// names a run that can be replayed.
struct Mutator {
  let philox = Philox4x32(seed: 2024)

  /// One of: truncation, a few random bytes overwritten, a byte inserted or deleted, a run of
  /// bytes duplicated, a digit changed. `focus` bytes at the start (the header) get most hits.
  func mutate(_ seed: Data, run: Int, focus: Int) -> Data {
    var bytes = [UInt8](seed)
    let words = philox.block(UInt32(run), 1, 0, 0)
    let span = max(1, min(focus, bytes.count))
    func position(_ w: UInt32) -> Int { bytes.isEmpty ? 0 : (w % 4 == 0 ? Int(w >> 2) % bytes.count : Int(w >> 2) % span) }
    switch words.0 % 6 {
    case 0:
      bytes = Array(bytes.prefix(Int(words.1) % (bytes.count + 1)))
    case 1:
      for k in 0..<(1 + Int(words.2 % 4)) where !bytes.isEmpty {
        bytes[position(words.1 &+ UInt32(k) &* 2_654_435_761)] = UInt8(truncatingIfNeeded: words.3 >> (8 * UInt32(k % 4)))
      }
    case 2:
      bytes.insert(UInt8(truncatingIfNeeded: words.2), at: bytes.isEmpty ? 0 : position(words.1) % (bytes.count + 1))
    case 3:
      if !bytes.isEmpty { bytes.remove(at: position(words.1)) }
    case 4:
      if !bytes.isEmpty {
        let start = position(words.1), length = min(bytes.count - start, 1 + Int(words.2 % 16))
        bytes.insert(contentsOf: bytes[start..<(start + length)], at: start)
      }
    default:
      // A digit becomes another digit, or a digit becomes a sign or a letter: shapes and
      // lengths change while the text stays well formed.
      let digits = bytes.indices.filter { (0x30...0x39).contains(bytes[$0]) && $0 < span }
      if !digits.isEmpty {
        let replacements: [UInt8] = Array("0123456789-eE.L ".utf8)
        bytes[digits[Int(words.1) % digits.count]] = replacements[Int(words.2) % replacements.count]
      }
    }
    return Data(bytes)
  }
}

@Suite("Sample files and configurations: bad input is refused with a typed error, never a crash")
struct SampleFilesTests {
  static let batch = StateBatch(count: 7, dimension: 3, values: (0..<21).map { Double($0) * 0.37 - 2.5 })

  /// A .npy file as numpy writes it, from a header dictionary's text and the raw data.
  static func npy(_ dictionary: String, version: UInt8 = 1, data: [UInt8]) -> Data {
    var text = dictionary
    let prefix = version == 1 ? 10 : 12
    text += String(repeating: " ", count: (64 - (prefix + text.utf8.count + 1) % 64) % 64) + "\n"
    var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [version, 0]
    let length = text.utf8.count
    bytes += version == 1 ? [UInt8(length & 0xFF), UInt8(length >> 8)]
                          : [UInt8(length & 0xFF), UInt8(length >> 8 & 0xFF), 0, 0]
    return Data(bytes + Array(text.utf8) + data)
  }

  static func littleEndian(_ values: [Double]) -> [UInt8] { values.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) } }

  @Test("Round trips: .npy as written, float32, big-endian, Fortran order, (N,), versions 2 and 3; .csv with and without a header")
  func roundTrips() throws {
    let b = Self.batch
    #expect(try NPYFile.decode(NPYFile.encode(b)) == b)
    #expect(try CSVFile.decode(CSVFile.encode(b)) == b)
    let rows = b.values
    // Fortran order holds column after column.
    let columns = (0..<3).flatMap { j in (0..<7).map { rows[$0 * 3 + j] } }
    #expect(try NPYFile.decode(Self.npy("{'descr': '<f8', 'fortran_order': True, 'shape': (7, 3), }",
                                        data: Self.littleEndian(columns))) == b)
    let big = rows.flatMap { withUnsafeBytes(of: $0.bitPattern.bigEndian, Array.init) }
    #expect(try NPYFile.decode(Self.npy("{'descr': '>f8', 'fortran_order': False, 'shape': (7, 3), }", version: 2, data: big)) == b)
    // float32: the values above are not all exact in float32, so compare with their float32 rounding.
    let single = rows.flatMap { withUnsafeBytes(of: Float($0).bitPattern.littleEndian, Array.init) }
    let decoded = try NPYFile.decode(Self.npy("{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (7, 3)}", version: 3, data: single))
    #expect(decoded.values == rows.map { Double(Float($0)) })
    let column = try NPYFile.decode(Self.npy("{'descr': '<f8', 'fortran_order': False, 'shape': (5,), }", data: Self.littleEndian([1, 2, 3, 4, 5])))
    #expect(column.count == 5 && column.dimension == 1 && column.values == [1, 2, 3, 4, 5])
    let noHeader = try CSVFile.decode(Data("1.5,2\r\n-3,4e-3\n\n".utf8))
    #expect(noHeader == StateBatch(count: 2, dimension: 2, values: [1.5, 2, -3, 4e-3]))
  }

  @Test("Each kind of bad .npy or .csv gets its own message", arguments: [
    ("npy", "not numpy at all", "\\x93NUMPY"),
    ("npy", "version 4", "version 4.0"),
    ("npy", "header past the end", "runs past the end"),
    ("npy", "{'descr': '<i8', 'fortran_order': False, 'shape': (7, 3), }", "dtype '<i8'"),
    ("npy", "{'descr': '<f8', 'shape': (7, 3), }", "'fortran_order'"),
    ("npy", "{'descr': '<f8', 'fortran_order': 0, 'shape': (7, 3), }", "'fortran_order'"),
    ("npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (7, 3), 'extra': 1}", "unknown key 'extra'"),
    ("npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (7, 3, 1), }", "(7, 3, 1)"),
    ("npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (7, -3), }", "non-negative"),
    ("npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (7, 0), }", "at least one coordinate"),
    ("npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904, 4), }", "too large"),
    ("npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (7, 4), }", "holds 168 bytes; shape (7, 4) of float64 needs 224"),
    ("npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999, 4), }", "not an integer in range"),
    ("npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (7, 3), ", "ends inside"),
    ("csv", "x1,x2\n1,2\n3\n", "line 3 has 1 fields; the first line has 2"),
    ("csv", "x1,x2\n1,2\n3,four\n", "line 3, field 2: 'four' is not a number"),
    ("csv", "", "no lines"),
  ])
  func badFiles(kind: String, text: String, expected: String) {
    let data: Data
    switch (kind, text) {
    case ("csv", _): data = Data(text.utf8)
    case (_, "not numpy at all"): data = Data(text.utf8)
    case (_, "version 4"): data = Data([0x93] + Array("NUMPY".utf8) + [4, 0, 0, 0])
    case (_, "header past the end"): data = Data([0x93] + Array("NUMPY".utf8) + [1, 0, 0xFF, 0x7F, 0x7B])
    default: data = Self.npy(text, data: Self.littleEndian(Self.batch.values))
    }
    do {
      _ = kind == "csv" ? try CSVFile.decode(data) : try NPYFile.decode(data)
      Issue.record("\(text): read without an error")
    } catch let error as SampleFileError {
      #expect(error.description.contains(expected), "\(text): \(error)")
    } catch {
      Issue.record("\(text): untyped error \(error)")
    }
  }

  /// Mutates `seed` `runs` times and reads each result: it must decode or throw `E`.
  func mutationLoop<E: Error>(_ seed: Data, focus: Int, runs: Int, error: E.Type, read: (Data) throws -> Void) -> (accepted: Int, refused: Int) {
    let mutator = Mutator()
    var accepted = 0, refused = 0
    for run in 0..<runs {
      let input = mutator.mutate(seed, run: run, focus: focus)
      do {
        try read(input)
        accepted += 1
      } catch is E {
        refused += 1
      } catch {
        Issue.record("run \(run): an error of type \(type(of: error)): \(error)")
      }
    }
    return (accepted, refused)
  }

  // Each loop below would crash the test process (a trap on an out-of-range index or an
  // overflowing multiplication) if a reader used a length, offset or shape before checking it.
  // Both outcomes must occur, so the mutations reach past the first check: a loop that only
  // ever hit the magic test would prove nothing.

  @Test("4,000 mutated .npy files: each decodes or throws SampleFileError")
  func mutatedNPY() {
    let (accepted, refused) = mutationLoop(NPYFile.encode(Self.batch), focus: 64, runs: 4_000, error: SampleFileError.self) {
      let batch = try NPYFile.decode($0)
      // Unsafe reads are not bounds-checked in release builds: an accepted file must hold
      // exactly the bytes its header promises, or values came from past its end.
      let header = try NPYFile.readHeader($0)
      #expect($0.count == header.dataOffset + header.dataLength && batch.values.count == header.count * header.dimension)
    }
    #expect(accepted > 20 && refused > 1_000, "accepted \(accepted), refused \(refused)")
  }

  @Test("4,000 mutated .csv files: each decodes or throws SampleFileError")
  func mutatedCSV() {
    let (accepted, refused) = mutationLoop(CSVFile.encode(Self.batch), focus: 400, runs: 4_000, error: SampleFileError.self) {
      let batch = try CSVFile.decode($0)
      #expect(batch.values.count == batch.count * batch.dimension)
    }
    #expect(accepted > 100 && refused > 500, "accepted \(accepted), refused \(refused)")
  }

  static var report: Data {
    var c = SamplingConfiguration()
    c.sampler = .reverseSDE(.sra1)
    c.steps = 50
    c.epsilon = 0.002
    let encoder = JSONEncoder()
    encoder.keyEncodingStrategy = .convertToSnakeCase
    let configuration = try! JSONSerialization.jsonObject(with: encoder.encode(c))
    return try! JSONSerialization.data(withJSONObject: ["version": "0.5.2", "configuration": configuration], options: [.sortedKeys])
  }

  @Test("4,000 mutated configuration files: each decodes or throws ConfigurationFileError")
  func mutatedConfiguration() {
    let (accepted, refused) = mutationLoop(Self.report, focus: 1_000, runs: 4_000, error: ConfigurationFileError.self) {
      _ = try ConfigurationFile.decode($0)
    }
    #expect(accepted > 100 && refused > 1_000, "accepted \(accepted), refused \(refused)")
  }

  /// Every field of the configuration, as (JSON path, a valid value).
  static func fields(_ object: [String: Any], prefix: [String] = []) -> [[String]] {
    object.keys.sorted().flatMap { key -> [[String]] in
      if let nested = object[key] as? [String: Any] { return fields(nested, prefix: prefix + [key]) }
      return [prefix + [key]]
    }
  }

  @Test("A field removed or given a value of another type is named, with the type it needs")
  func fieldErrors() throws {
    let root = try #require(try JSONSerialization.jsonObject(with: Self.report) as? [String: Any])
    let configuration = try #require(root["configuration"] as? [String: Any])
    let optional: Set = ["epsilon", "error_norm", "threads", "model"]
    let expectedType: [String: String] = [
      "steps": "an integer", "count": "an integer", "seed": "a non-negative integer", "sampler": "one of ode-euler,",
      "process": "one of vp,", "grid": "one of uniform,", "denoise": "true or false", "relative_tolerance": "a number",
      "diffusion_settings.eta": "a number", "diffusion_settings.predictor": "one of euler-maruyama,",
      "diffusion_settings.ancestral_uses_beta": "true or false", "epsilon": "a number or null",
    ]
    func replaced(_ path: [String], with value: Any?) throws -> Data {
      func edit(_ object: [String: Any], _ path: ArraySlice<String>) -> [String: Any] {
        var copy = object
        if path.count == 1 { copy[path.first!] = value } else {
          copy[path.first!] = edit(object[path.first!] as! [String: Any], path.dropFirst())
        }
        return copy
      }
      return try JSONSerialization.data(withJSONObject: ["configuration": edit(configuration, path[...])])
    }
    var checked = 0
    for path in Self.fields(configuration) {
      let name = path.joined(separator: ".")
      for wrong: Any in ["text", 3.5, true, [1], NSNull()] {
        do {
          _ = try ConfigurationFile.decode(replaced(path, with: wrong))
          // A string is a valid sampler or model name; 3.5 a valid number; null an absent optional.
        } catch let error as ConfigurationFileError {
          #expect(error.description.hasPrefix("field '\(name)' is "), "\(name) = \(wrong): \(error)")
          if let type = expectedType[name] { #expect(error.description.contains("expected " + type), "\(error)") }
          checked += 1
        }
      }
      do {
        _ = try ConfigurationFile.decode(replaced(path, with: nil))
        #expect(optional.contains(name), "\(name) removed: accepted")
      } catch let error as ConfigurationFileError {
        #expect(!optional.contains(name) && error.description.hasPrefix("missing field '\(name)'; expected "), "\(error)")
      }
    }
    #expect(checked >= 60)
    #expect(throws: ConfigurationFileError("unknown field 'diffusion_settings.etta'; known fields of 'diffusion_settings': ancestral_uses_beta, corrector_steps, eta, predictor, snr")) {
      _ = try ConfigurationFile.decode(replaced(["diffusion_settings", "etta"], with: 1))
    }
    #expect(try ConfigurationFile.decode(Self.report).version == "0.5.2")
    #expect(try ConfigurationFile.decode(Self.report).configuration.steps == 50)
  }

  @Test("fast_samplers, nil by default, is checked field by field: an unknown key is named; every setting round-trips")
  func fastSamplerFields() throws {
    // The encoder's own spelling of names with runs of capitals and digits.
    #expect(snakeCase("diffusersDDIMStride") == "diffusers_ddim_stride")
    #expect(snakeCase("kDiffusion3M") == "k_diffusion3_m")
    #expect(snakeCase("brownianPathLevels") == "brownian_path_levels")
    let root = try #require(try JSONSerialization.jsonObject(with: Self.report) as? [String: Any])
    func with(fastSamplers: [String: Any]) throws -> Data {
      var configuration = try #require(root["configuration"] as? [String: Any])
      configuration["fast_samplers"] = fastSamplers
      return try JSONSerialization.data(withJSONObject: ["configuration": configuration])
    }
    #expect(throws: ConfigurationFileError("unknown field 'fast_samplers.churnn'; known fields of 'fast_samplers': churn, churn_maximum, churn_minimum, corrector, diffusers_ddim_stride, eta, k_diffusion3_m, lower_order_final, noise_scale, order, solver_type, variant")) {
      _ = try ConfigurationFile.decode(with(fastSamplers: ["churn": 1, "churnn": 5]))
    }
    #expect(throws: ConfigurationFileError("field 'fast_samplers.order' is the string 'two'; expected an integer or null")) {
      _ = try ConfigurationFile.decode(with(fastSamplers: ["order": "two"]))
    }
    #expect(try ConfigurationFile.decode(with(fastSamplers: ["k_diffusion3_m": true])).configuration.fastSamplers?.kDiffusion3M == true)
    // Every setting set, written as sdekit writes reports (snake_case keys), reads back the same.
    var c = SamplingConfiguration()
    var settings = FastSamplerSettings()
    settings.churn = 1
    settings.churnMinimum = 0.1
    settings.churnMaximum = 9
    settings.noiseScale = 1.003
    settings.eta = 0.5
    settings.lowerOrderFinal = false
    settings.kDiffusion3M = true
    settings.solverType = .heun
    settings.order = 3
    settings.variant = .bh1
    settings.corrector = false
    settings.diffusersDDIMStride = true
    c.fastSamplers = settings
    let encoder = JSONEncoder()
    encoder.keyEncodingStrategy = .convertToSnakeCase
    let written = try encoder.encode(c)
    let keys = try #require(try JSONSerialization.jsonObject(with: written) as? [String: Any])
    #expect((keys["fast_samplers"] as? [String: Any])?.count == 12)
    #expect(try ConfigurationFile.decode(written).configuration == c)
  }
}
