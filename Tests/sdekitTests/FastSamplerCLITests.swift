import Foundation
import Testing
@testable import sdekit
import SampleFiles
import Samplers
import SDEKit

/// `sdekit sample` with issue 21's options: --initial, the EDM/flow processes and σ-grids, the fast
/// samplers' settings, and the errors they give.
@Suite("sdekit sample: fast samplers, σ-grids, --initial")
struct FastSamplerCLITests {
  func sdekit(_ arguments: [String]) throws -> CLITests.Run { try CLITests().sdekit(arguments) }

  /// A scratch folder with the k-diffusion fixture's 64 starting points, and bad .npy files.
  final class Folder {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("sdekit-fast-\(UUID().uuidString)")

    init() throws { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) }
    deinit { try? FileManager.default.removeItem(at: url) }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    func write(_ batch: StateBatch, _ name: String) throws -> String {
      try NPYFile.encode(batch).write(to: URL(fileURLWithPath: path(name)))
      return path(name)
    }
  }

  static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("SamplersTests/Fixtures/parity/edm.json")

  /// The fixture's starting points and k-diffusion's sample_dpmpp_2m output from them in 10 steps.
  static func edmFixture() throws -> (initial: StateBatch, output: StateBatch) {
    let root = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: fixture)) as? [String: Any])
    func batch(_ rows: [[Double]]) -> StateBatch { StateBatch(count: rows.count, dimension: 2, values: rows.flatMap { $0 }) }
    let cases = try #require(root["cases"] as? [[String: Any]])
    let dpm = try #require(cases.first { $0["name"] as? String == "edm/sample_dpmpp_2m/10" })
    return (batch(try #require(root["initial"] as? [[Double]])), batch(try #require(dpm["output"] as? [[Double]])))
  }

  @Test("--initial reproduces k-diffusion's sample_dpmpp_2m through the command line; --count comes from the file; --config replays it")
  func initialParity() throws {
    let folder = try Folder()
    let (initial, expected) = try Self.edmFixture()
    let start = try folder.write(initial, "initial.npy")
    let output = folder.path("out.npy"), report = folder.path("run.json")
    let run = try sdekit(["sample", "--sde", "edm", "--grid", "karras", "--final-step", "zero", "--sampler", "dpm-solver++-2m",
                          "--steps", "10", "--initial", start, "-o", output, "--report", report])
    #expect(run.status == 0, "\(run.stderr)")
    let samples = try #require(NPYFile.decode(try Data(contentsOf: URL(fileURLWithPath: output))))
    #expect(samples.count == 64, "the count is the file's")
    // The library's parity test holds these to 1e-9 relative per sample (measured 1.7e-15).
    for r in 0..<64 {
      let difference = ((samples[r, 0] - expected[r, 0]) * (samples[r, 0] - expected[r, 0])
        + (samples[r, 1] - expected[r, 1]) * (samples[r, 1] - expected[r, 1])).squareRoot()
      let norm = (expected[r, 0] * expected[r, 0] + expected[r, 1] * expected[r, 1]).squareRoot()
      #expect(difference <= 1e-9 * norm, "row \(r)")
    }
    let replayed = folder.path("replayed.npy")
    let again = try sdekit(["sample", "--config", report, "-o", replayed])
    #expect(again.status == 0, "\(again.stderr)")
    #expect(try Data(contentsOf: URL(fileURLWithPath: replayed)) == Data(contentsOf: URL(fileURLWithPath: output)))
  }

  @Test("A stochastic fast sampler gives the same bits for any thread count")
  func threads() throws {
    let folder = try Folder()
    var outputs: [Data] = []
    for threads in ["1", "2"] {
      let path = folder.path("x\(threads).npy")
      let run = try sdekit(["sample", "--sde", "edm", "--grid", "karras", "--final-step", "zero",
                            "--sampler", "dpm-solver++-2m-sde", "--steps", "15", "--count", "3000", "--seed", "5",
                            "--threads", threads, "-o", path])
      #expect(run.status == 0, "\(run.stderr)")
      outputs.append(try Data(contentsOf: URL(fileURLWithPath: path)))
    }
    #expect(outputs[0] == outputs[1])
  }

  /// Bad input files, written per run.
  enum BadFile: String, CaseIterable, Sendable {
    case threeColumns, notFinite, integers, oneDimensional
  }

  static func write(_ file: BadFile, in folder: Folder) throws -> String {
    switch file {
    case .threeColumns:
      return try folder.write(StateBatch(count: 4, dimension: 3), "three.npy")
    case .notFinite:
      var batch = StateBatch(count: 4, dimension: 2)
      batch[2, 1] = .nan
      return try folder.write(batch, "nan.npy")
    case .integers, .oneDimensional:
      // The .npy header of an int64 (4, 2) or float64 (8,) array, padded to a multiple of 64 bytes, then data.
      let header = file == .integers ? "{'descr': '<i8', 'fortran_order': False, 'shape': (4, 2), }"
                                    : "{'descr': '<f8', 'fortran_order': False, 'shape': (8,), }"
      let padded = header + String(repeating: " ", count: (64 - (10 + header.utf8.count + 1) % 64) % 64) + "\n"
      var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(padded.utf8.count), 0])
      data.append(contentsOf: Array(padded.utf8))
      data.append(Data(count: 64))
      let path = folder.path("\(file.rawValue).npy")
      try data.write(to: URL(fileURLWithPath: path))
      return path
    }
  }

  @Test("Bad --initial files: one line naming the file and the problem, exit 64, no output file",
        arguments: [(BadFile.threeColumns, ["(4, 3)", "(N, 2)"]), (.notFinite, ["row 2", "nan", "finite"]),
                    (.integers, ["'<i8'", "float64"]), (.oneDimensional, ["(8, 1)", "(N, 2)"])])
  func badInitial(_ file: BadFile, mentions: [String]) throws {
    let folder = try Folder()
    let path = try Self.write(file, in: folder)
    let output = folder.path("out.npy")
    let run = try sdekit(["sample", "--sde", "edm", "--sampler", "edm-euler", "--initial", path, "-o", output])
    #expect(run.status == 64)
    #expect(run.stdout.isEmpty)
    #expect(run.stderr.split(separator: "\n").count == 1, "\(run.stderr)")
    for word in [path] + mentions { #expect(run.stderr.contains(word), "\(word) missing from: \(run.stderr)") }
    #expect(!FileManager.default.fileExists(atPath: output))
  }

  @Test("Bad settings: one line naming the value and what is allowed, exit 64, no output file",
        arguments: [
          (["--sde", "flow", "--sampler", "edm-heun"], ["edm-heun", "flow", "σ", "flow-heun"]),
          (["--sampler", "unipc", "--order", "4"], ["--order", "1...3", "4"]),
          (["--sampler", "dpm-solver++-2m", "--order", "2"], ["--order", "unipc", "dpm-solver++-2m"]),
          (["--grid", "karras", "--rho", "0"], ["--rho", "positive", "0"]),
          (["--grid", "karras", "--rho=-2"], ["--rho", "-2"]),
          (["--sde", "edm", "--sigma-min", "100"], ["σ_min", "100", "80"]),
          (["--sde", "ve", "--sigma-min", "20", "--sigma-max", "10"], ["σ_min", "20", "10"]),
          (["--sde", "vp", "--sigma-max", "3"], ["--sigma-max", "ve", "edm", "vp"]),
          (["--sde", "vp", "--shift", "3"], ["--shift", "flow", "vp"]),
          (["--sde", "vp", "--timestep-spacing", "leading"], ["--timestep-spacing", "ddpm", "vp"]),
          (["--sde", "ve", "--final-step", "zero"], ["--final-step zero", "ve", "σ(0)"]),
          (["--sampler", "euler-ancestral", "--eta=-1"], ["--eta", "-1"]),
          (["--sampler", "edm-heun", "--churn", "5", "--sde", "ddpm"], ["--churn", "ddpm"]),
          (["--sampler", "dpm-solver-2", "--churn", "5"], ["--churn", "edm-heun", "dpm-solver-2"]),
          (["--rho", "5"], ["--rho", "karras", "uniform"]),
          (["--sde", "ddpm", "--grid", "karras"], ["--grid karras", "σ(ε)", "ddpm", "--epsilon"]),
          (["--sampler", "ddim", "--diffusers-ddim-stride"], ["--diffusers-ddim-stride", "ddpm", "vp"]),
          (["--initial", "/no/such/points.npy"], ["--initial", "/no/such/points.npy"]),
          (["--sampler", "dpm-solver-3", "--sde", "edm", "--initial", "FIXTURE", "--count", "100"],
           ["64 rows", "--count is 100"]),
        ])
  func badSettings(_ arguments: [String], mentions: [String]) throws {
    let folder = try Folder()
    let start = try folder.write(try Self.edmFixture().initial, "initial.npy")
    let output = folder.path("out.npy")
    let run = try sdekit(["sample"] + arguments.map { $0 == "FIXTURE" ? start : $0 } + ["-o", output])
    #expect(run.status == 64)
    #expect(run.stdout.isEmpty)
    #expect(run.stderr.split(separator: "\n").count == 1, "\(run.stderr)")
    for word in mentions { #expect(run.stderr.contains(word), "\(word) missing from: \(run.stderr)") }
    #expect(!FileManager.default.fileExists(atPath: output))
  }
}
