import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import sdekit
import Samplers
import SampleFiles
import ScoreModels
import SDEKit

/// Runs the built `sdekit` binary as a user would, and checks its output and exit status.
@Suite("sdekit command line")
struct CLITests {
  struct Run {
    let status: Int32
    let stdout: String
    let stderr: String
  }

  /// The sdekit executable beside this test bundle in the build products folder.
  static var executable: URL {
    var url = Bundle.main.bundleURL
    for _ in 0..<4 {
      let candidate = url.appendingPathComponent("sdekit")
      if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
      url = url.deletingLastPathComponent()
    }
    return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("sdekit")
  }

  func sdekit(_ arguments: String...) throws -> Run { try sdekit(arguments) }

  func sdekit(_ arguments: [String]) throws -> Run {
    let process = Process()
    process.executableURL = CLITests.executable
    process.arguments = arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return Run(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
               stderr: String(decoding: errData, as: UTF8.self))
  }

  @Test("convergence --json has the documented keys and a fitted order near the declared one")
  func convergenceJSON() throws {
    let run = try sdekit("convergence", "--problem", "gbm", "--solver", "milstein", "--paths", "2000",
                         "--levels", "3...8", "--json")
    #expect(run.status == 0, "\(run.stderr)")
    let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    #expect(object["problem"] as? String == "gbm")
    #expect(object["solver"] as? String == "milstein")
    #expect(object["declared_order"] as? Double == 1.0)
    let fitted = try #require(object["fitted_order"] as? Double)
    #expect(abs(fitted - 1.0) <= 0.2)
    let levels = try #require(object["levels"] as? [[String: Any]])
    #expect(levels.count == 6)
    for level in levels {
      #expect(level["dt"] is Double && level["error"] is Double && level["stderr"] is Double)
    }
    #expect(levels.first?["dt"] as? Double == 0.125)
  }

  @Test("convergence prints a table whose fitted order is the measured slope, near the declared one")
  func convergenceTable() throws {
    let run = try sdekit("convergence", "--problem", "linear-ode", "--solver", "rk4", "--levels", "3,4,5")
    #expect(run.status == 0)
    let lines = run.stdout.split(separator: "\n")
    #expect(lines.count == 6)
    #expect(lines.last?.hasSuffix("declared 4.0") == true)
    // The printed slope is the least-squares fit of the printed errors, and RK4's (±0.2).
    let fitted = try #require(Self.fittedOrder(String(lines.last!)))
    let errors = lines[2..<5].map { Double($0.split(separator: " ", omittingEmptySubsequences: true)[2])! }
    let slope = leastSquaresSlope(x: [3, 4, 5].map { -Double($0) * log(2) }, y: errors.map { log($0) })
    #expect(abs(fitted - slope) < 0.01, "printed \(fitted), fit of the printed errors \(slope)")
    #expect(abs(fitted - 4) <= 0.2, "fitted \(fitted)")
  }

  /// The number after "fitted order" in a convergence summary line.
  static func fittedOrder(_ line: String) -> Double? {
    guard let range = line.range(of: "fitted order ") else { return nil }
    return Double(line[range.upperBound...].split(separator: " ").first ?? "")
  }

  @Test("A work–precision study per tolerance, and the fixed-step order of an adaptive solver")
  func adaptiveStudies() throws {
    let run = try sdekit("convergence", "--problem", "lotka-volterra", "--solver", "gsl-rk8pd",
                         "--tolerances", "1e-3...1e-6", "--json")
    #expect(run.status == 0, "\(run.stderr)")
    let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    let points = try #require(object["points"] as? [[String: Any]])
    #expect(points.map { $0["tolerance"] as? Double } == [1e-3, 1e-4, 1e-5, 1e-6])
    let errors = points.compactMap { $0["error"] as? Double }
    #expect(errors.count == 4 && errors.last! < errors.first!)
    #expect(points.allSatisfy { ($0["evaluations"] as? Int ?? 0) > 0 && ($0["steps"] as? Int ?? 0) > 0 })
    let fixed = try sdekit("convergence", "--problem", "linear-ode", "--solver", "dopri5", "--fixed", "--levels", "3...7")
    #expect(fixed.status == 0)
    let summary = String(fixed.stdout.split(separator: "\n").last ?? "")
    #expect(summary.hasSuffix("declared 5.0"))
    // Dormand–Prince's fixed-step slope on y' = Ay: 5 (±0.3, five levels).
    let fitted = try #require(Self.fittedOrder(summary))
    #expect(abs(fitted - 5) <= 0.3, "fitted \(fitted)")
  }

  @Test("sample writes a float64 .npy of shape (count, d) and reports the metrics as JSON")
  func sample() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sdekit-cli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let path = folder.appendingPathComponent("samples.npy").path
    let run = try sdekit("sample", "--sampler", "sra1", "--steps", "100", "--count", "500", "--seed", "3",
                         "-o", path, "--json")
    #expect(run.status == 0, "\(run.stderr)")
    let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    for key in ["nfe", "seconds", "sw2", "sw2_floor", "mean_err", "cov_err", "mode_occupancy"] {
      #expect(object[key] != nil, "missing \(key)")
    }
    #expect(object["nfe"] as? Int == 200)
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    #expect(data.prefix(8) == Data([0x93] + Array("NUMPY".utf8) + [1, 0]))
    let headerLength = Int(data[8]) | Int(data[9]) << 8
    let header = String(decoding: data[10..<(10 + headerLength)], as: UTF8.self)
    #expect(header.contains("'descr': '<f8'") && header.contains("'fortran_order': False") && header.contains("(500, 2)"))
    #expect((10 + headerLength) % 64 == 0)
    #expect(data.count == 10 + headerLength + 500 * 2 * 8)
    // The same run again gives the same bits.
    let again = try sdekit("sample", "--sampler", "sra1", "--steps", "100", "--count", "500", "--seed", "3",
                           "-o", path, "--threads", "1")
    #expect(again.status == 0)
    #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == data)
    // A failing run leaves the existing file alone and no partial file behind.
    let failing = try sdekit("sample", "--sampler", "ddpm", "--sde", "ve", "-o", path)
    #expect(failing.status != 0)
    #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == data)
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["samples.npy"])
  }

  @Test("--config replays a report byte for byte; .npy and .csv round-trip; unknown config fields are refused")
  func replay() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sdekit-replay-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let first = folder.appendingPathComponent("a.npy").path, second = folder.appendingPathComponent("b.npy").path
    let report = folder.appendingPathComponent("run.json").path
    let run = try sdekit("sample", "--sde", "ve", "--sampler", "pc-langevin", "--steps", "30", "--count", "200",
                         "--seed", "9", "--snr", "0.2", "--corrector-steps", "2", "-o", first, "--report", report)
    #expect(run.status == 0, "\(run.stderr)")
    let replayed = try sdekit("sample", "--config", report, "-o", second)
    #expect(replayed.status == 0, "\(replayed.stderr)")
    let a = try Data(contentsOf: URL(fileURLWithPath: first)), b = try Data(contentsOf: URL(fileURLWithPath: second))
    #expect(a == b)
    let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any])
    #expect(object["version"] as? String == sdekitVersion)
    #expect((object["command_line"] as? [String])?.contains("pc-langevin") == true)
    // The .npy reads back to the same doubles, and so does a .csv of the same run.
    let batch = try NPYFile.decode(a)
    #expect(batch.count == 200 && batch.dimension == 2)
    let csv = folder.appendingPathComponent("a.csv").path
    #expect(try sdekit("sample", "--config", report, "-o", csv).status == 0)
    #expect(try CSVFile.decode(try Data(contentsOf: URL(fileURLWithPath: csv))) == batch)
    // numpy reads the file too, when it is installed.
    let check = Process()
    check.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    check.arguments = ["python3", "-c", "import sys\ntry:\n import numpy\nexcept ImportError:\n sys.exit(3)\na = numpy.load(sys.argv[1]); sys.exit(0 if a.shape == (200, 2) and a.dtype == numpy.float64 and float(a[5, 1]) == \(batch[5, 1]) else 1)", first]
    try check.run()
    check.waitUntilExit()
    switch check.terminationStatus {
    case 127: print("python3 is not installed: skipped reading the .npy with numpy")
    case 3: print("numpy is not installed: skipped reading the .npy with numpy")
    default: #expect(check.terminationStatus == 0, "numpy read a different array")
    }
    // A report from another version still replays, with a warning that the bits may differ.
    var older = object
    older["version"] = "0.1.0"
    let olderReport = folder.appendingPathComponent("older.json").path
    try JSONSerialization.data(withJSONObject: older).write(to: URL(fileURLWithPath: olderReport))
    let fromOlder = try sdekit("sample", "--config", olderReport, "-o", second)
    #expect(fromOlder.status == 0 && fromOlder.stderr.contains("SDEKit 0.1.0"), "\(fromOlder.stderr)")
    // Once: the file is read once.
    #expect(fromOlder.stderr.split(separator: "\n").count == 1, "\(fromOlder.stderr)")
    #expect(!replayed.stderr.contains("warning"), "\(replayed.stderr)")
    // A config with an unknown field or broken JSON is refused, with one line and exit 64.
    let bad = folder.appendingPathComponent("bad.json").path
    try Data(#"{"sampler": "sra1", "stepz": 10}"#.utf8).write(to: URL(fileURLWithPath: bad))
    let unknown = try sdekit("sample", "--config", bad)
    #expect(unknown.status == 64 && unknown.stderr.contains("stepz"), "\(unknown.stderr)")
    // A field missing or of the wrong type is named, with the type it needs (Foundation's own
    // message was "The data is missing.").
    var missing = try #require(object["configuration"] as? [String: Any])
    missing["steps"] = nil
    try JSONSerialization.data(withJSONObject: ["configuration": missing]).write(to: URL(fileURLWithPath: bad))
    let noSteps = try sdekit("sample", "--config", bad)
    #expect(noSteps.status == 64 && noSteps.stderr.contains("missing field 'steps'; expected an integer"), "\(noSteps.stderr)")
    missing["steps"] = 30
    missing["diffusion_settings"] = ["eta": "0.5", "snr": 0.2, "corrector_steps": 2, "predictor": "reverse-diffusion", "ancestral_uses_beta": true]
    try JSONSerialization.data(withJSONObject: missing).write(to: URL(fileURLWithPath: bad))
    let stringEta = try sdekit("sample", "--config", bad)
    #expect(stringEta.status == 64 && stringEta.stderr.contains("field 'diffusion_settings.eta' is the string '0.5'; expected a number"), "\(stringEta.stderr)")
    try Data("{not json".utf8).write(to: URL(fileURLWithPath: bad))
    let broken = try sdekit("sample", "--config", bad)
    #expect(broken.status == 64 && broken.stderr.contains("JSON"), "\(broken.stderr)")
  }

  @Test("Ctrl-C stops a long sample within a second, says what was not written, and leaves no file")
  func interrupt() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sdekit-sigint-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let path = folder.appendingPathComponent("long.npy").path
    let process = Process()
    process.executableURL = CLITests.executable
    process.arguments = ["sample", "--steps", "1000000", "--count", "20000", "-o", path]
    let err = Pipe()
    process.standardError = err
    process.standardOutput = Pipe()
    try process.run()
    Thread.sleep(forTimeInterval: 1.5)
    let sent = Date()
    process.interrupt()
    process.waitUntilExit()
    let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    #expect(Date().timeIntervalSince(sent) < 1.0)
    #expect(process.terminationStatus == 130)
    #expect(stderr.contains("not written") && stderr.contains("long.npy"), "\(stderr)")
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
  }

  @Test("A run larger than one chunk streams to the file: the library's bits, nothing on stderr off a terminal")
  func streaming() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sdekit-stream-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let path = folder.appendingPathComponent("big.npy").path
    var c = SamplingConfiguration()
    c.target = .gmm64d16
    c.steps = 4
    c.count = 40_000
    c.seed = 9
    #expect(SampleCommand.chunks(c, dimension: 64).count == 3)  // 2²⁰ values per chunk: 16,384 rows
    let run = try sdekit("sample", "--target", "gmm64d16", "--steps", "4", "--count", "40000", "--seed", "9", "-o", path)
    #expect(run.status == 0 && run.stderr.isEmpty, "\(run.stderr)")
    let library = try runSampler(c).samples
    #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == NPYFile.encode(library))
  }

  @Test("On a terminal a progress line shows steps, rate and time left; --quiet silences it")
  func progress() throws {
    let script = "/usr/bin/script"
    guard FileManager.default.isExecutableFile(atPath: script) else {
      print("skipped: \(script) (util-linux) is not installed, so no terminal can be emulated")
      return
    }
    func underTerminal(_ extra: String) throws -> String {
      let process = Process()
      process.executableURL = URL(fileURLWithPath: script)
      process.arguments = ["-qec", "\(CLITests.executable.path) sample --count 2000 --steps 300 \(extra)", "/dev/null"]
      let out = Pipe()
      process.standardOutput = out
      process.standardError = Pipe()
      process.standardInput = Pipe()
      try process.run()
      let data = out.fileHandleForReading.readDataToEndOfFile()
      process.waitUntilExit()
      #expect(process.terminationStatus == 0)
      return String(decoding: data, as: UTF8.self)
    }
    let shown = try underTerminal("")
    #expect(shown.contains("step ") && shown.contains("/300") && shown.contains("sample-steps/s"), "\(shown)")
    #expect(shown.contains("sliced W2"))
    let quiet = try underTerminal("--quiet")
    #expect(!quiet.contains("sample-steps/s") && quiet.contains("sliced W2"), "\(quiet)")
  }

  @Test("train writes a model that sample --model and compare --model use; --config replays it")
  func trainAndSample() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sdekit-train-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let model = folder.appendingPathComponent("m.safetensors").path
    let train = try sdekit("train", "--data", "checkerboard", "--steps", "30", "--batch-size", "16", "--hidden", "16,16",
                           "--time-features", "8", "-o", model)
    #expect(train.status == 0 && train.stdout.contains("wrote \(model)"), "\(train.stderr)")
    let mlp = try SafeTensors.read(model)
    #expect(mlp.architecture.hidden == [16, 16] && mlp.architecture.timeFeatures == 8)
    let samples = folder.appendingPathComponent("s.npy").path, report = folder.appendingPathComponent("r.json").path
    let run = try sdekit("sample", "--model", model, "--sampler", "ddim", "--steps", "10", "--count", "300",
                         "-o", samples, "--report", report, "--json")
    #expect(run.status == 0, "\(run.stderr)")
    // The samples are the library's for the same configuration and model.
    var c = SamplingConfiguration()
    c.model = model
    c.sampler = SamplerName(name: "ddim")!
    c.steps = 10
    c.count = 300
    #expect(try Data(contentsOf: URL(fileURLWithPath: samples)) == NPYFile.encode(try runSampler(c).samples))
    let replayed = folder.appendingPathComponent("again.npy").path
    #expect(try sdekit("sample", "--config", report, "-o", replayed).status == 0)
    #expect(try Data(contentsOf: URL(fileURLWithPath: replayed)) == Data(contentsOf: URL(fileURLWithPath: samples)))
    let compare = try sdekit("compare", "--model", model, "--samplers", "euler-maruyama,ddim", "--steps", "5,10",
                             "--count", "200", "--format", "csv")
    #expect(compare.status == 0 && compare.stdout.split(separator: "\n").count == 5, "\(compare.stderr)")
  }

  @Test("--reference measures a learned model against its training data when there is no closed form")
  func referenceMetrics() throws {
    let models = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("Models")
    let moons = try sdekit("sample", "--model", models.appendingPathComponent("moons.safetensors").path,
                           "--reference", "moons", "--steps", "200", "--count", "3000", "--json")
    #expect(moons.status == 0, "\(moons.stderr)")
    let object = try #require(try JSONSerialization.jsonObject(with: Data(moons.stdout.utf8)) as? [String: Any])
    let sw2 = try #require(object["sw2"] as? Double), floor = try #require(object["sw2_floor"] as? Double)
    // The shipped moons model lands within a few floors of its data; the exact gmm2d8 score (a
    // different distribution) is two orders of magnitude away, so the metric tells them apart.
    #expect(sw2 < 5 * floor, "sw2 \(sw2), floor \(floor)")
    #expect((object["mode_occupancy"] as? [Double])?.isEmpty == true && object["reference"] as? String == "moons")
    let wrong = try sdekit("sample", "--reference", "moons", "--steps", "50", "--count", "3000", "--json")
    let wrongObject = try #require(try JSONSerialization.jsonObject(with: Data(wrong.stdout.utf8)) as? [String: Any])
    #expect(try #require(wrongObject["sw2"] as? Double) > 20 * sw2)
  }

  @Test("The numbers sample prints are the library's for the same configuration")
  func matchesLibrary() throws {
    let run = try sdekit("sample", "--sampler", "ddim", "--steps", "25", "--count", "300", "--seed", "4", "--json")
    #expect(run.status == 0)
    let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    var configuration = SamplingConfiguration()
    configuration.sampler = SamplerName(name: "ddim")!
    configuration.steps = 25
    configuration.count = 300
    configuration.seed = 4
    let result = try runSampler(configuration)
    let metrics = try evaluateSamples(result.samples, target: TargetName.gmm2d8.mixture, seed: 4)
    // Same computation, so the same doubles; Foundation's JSON text on Linux can lose the last
    // ulp on the way through, hence 4 ulp (1e-15 relative).
    func same(_ printed: Any?, _ value: Double) -> Bool {
      guard let printed = printed as? Double else { return false }
      return abs(printed - value) <= 1e-15 * abs(value)
    }
    #expect(object["nfe"] as? Int == result.nfe)
    #expect(same(object["sw2"], metrics.slicedW2))
    #expect(same(object["sw2_floor"], metrics.slicedW2Floor))
    #expect(same(object["cov_err"], metrics.covarianceError))
    #expect(same(object["mean_err"], metrics.meanError))
    let occupancy = try #require(object["mode_occupancy"] as? [Double])
    #expect(occupancy.count == 8 && zip(occupancy, metrics.modeOccupancy).allSatisfy { same($0, $1) })
  }

  @Test("convergence --plot draws the measured errors, the fitted slope and the declared order")
  func convergencePlot() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sdekit-cplot-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let plot = folder.appendingPathComponent("order.svg").path
    let run = try sdekit("convergence", "--problem", "gbm", "--solver", "milstein", "--paths", "500", "--levels", "3...7",
                         "--plot", plot)
    #expect(run.status == 0, "\(run.stderr)")
    let svg = try #require(try SeriesCounter.parse(plot))
    #expect(svg.series.count == 3 && svg.series[0] == "measured" && svg.series[2] == "order 1.0", "\(svg.series)")
  }

  @Test("list samplers, targets and processes")
  func listDiffusion() throws {
    let samplers = try sdekit("list", "samplers").stdout
    for name in ["euler-maruyama", "sra1", "ode-rk4", "ode-dopri5", "ode-gsl-rkf45", "ddpm", "ddim", "pc-langevin",
                 "annealed-langevin"] {
      #expect(samplers.split(separator: "\n").contains { $0.hasPrefix(name + " ") }, "\(name)")
    }
    let targets = try sdekit("list", "targets").stdout
    for name in ["gmm2d8", "gmm64d16", "gaussian", "grid25"] { #expect(targets.contains(name)) }
    let processes = try sdekit("list", "processes").stdout
    for name in ["vp", "subvp", "ve", "ddpm"] { #expect(processes.split(separator: "\n").contains { $0.hasPrefix(name + " ") }) }
  }

  @Test("list solvers and problems, as text and JSON")
  func list() throws {
    let text = try sdekit("list", "solvers")
    for name in ["euler", "heun", "midpoint", "rk4", "dopri5", "euler-maruyama", "milstein",
                 "milstein-derivative-free", "stochastic-heun", "sra1", "sriw1", "gsl-rk2", "gsl-rk4",
                 "gsl-rkf45", "gsl-rkck", "gsl-rk8pd", "gsl-rk1imp", "gsl-rk2imp", "gsl-rk4imp", "gsl-bsimp",
                 "gsl-msadams", "gsl-msbdf"] {
      #expect(text.stdout.split(separator: "\n").contains { $0.hasPrefix(name + " ") }, "\(name)")
    }
    let json = try sdekit("list", "solvers", "--json")
    let array = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
    #expect(array.count == 22)
    #expect(array.contains { $0["name"] as? String == "sra1" && $0["needs_space_time_integral"] as? Bool == true })
    #expect(array.contains { $0["name"] as? String == "gsl-bsimp" && $0["needs_jacobian"] as? Bool == true })
    #expect(array.contains { $0["name"] as? String == "gsl-rk8pd" && $0["needs_jacobian"] as? Bool == false })
    let problems = try sdekit("list", "problems")
    for name in ["gbm", "gbm-diagonal", "additive", "ou", "double-well", "linear-ode", "lotka-volterra",
                 "arenstorf", "van-der-pol"] {
      #expect(problems.stdout.split(separator: "\n").contains { $0.hasPrefix(name + " ") }, "\(name)")
    }
  }

  @Test("Bad input: one line on stderr naming the value, non-zero exit, nothing on stdout",
        arguments: [
          (["convergence", "--problem", "nope"], ["nope", "gbm", "linear-ode"]),
          (["convergence", "--solver", "nope"], ["nope", "euler-maruyama", "sriw1"]),
          (["convergence", "--levels", "10...3"], ["10...3", "reversed"]),
          (["convergence", "--levels", ""], ["empty"]),
          (["convergence", "--paths", "1"], ["--paths", "1"]),
          (["convergence", "--problem", "gbm", "--solver", "sra1", "--paths", "10", "--levels", "2...3"],
           ["sra1", "diagonal"]),
          (["convergence", "--problem", "gbm", "--solver", "rk4"], ["rk4", "ODE"]),
          (["convergence", "--problem", "linear-ode", "--solver", "rk4", "--weak"], ["--weak", "ODE"]),
          (["convergence", "--problem", "arenstorf", "--solver", "gsl-rk4", "--tolerances", "1e-8...1e-3"],
           ["--tolerances", "reversed"]),
          (["convergence", "--problem", "arenstorf", "--solver", "gsl-rk4", "--tolerances", "0"], ["--tolerances", "0"]),
          (["convergence", "--problem", "linear-ode", "--solver", "rk4", "--fixed"], ["--fixed", "rk4"]),
          (["sample", "--sampler", "nope"], ["nope", "euler-maruyama", "annealed-langevin"]),
          (["sample", "--sampler", "ddim", "--sde", "ve"], ["ddim", "ve"]),
          (["sample", "--epsilon", "1"], ["ε", "1"]),
          (["sample", "--steps", "0"], ["steps", "0"]),
          (["sample", "--count", "10", "-o", "/no/such/folder/x.npy"], ["/no/such/folder"]),
          (["sample", "--count", "10", "-o", "x.txt"], ["x.txt", ".npy", ".csv"]),
          (["sample", "--config", "/no/such/report.json"], ["--config", "/no/such/report.json"]),
          (["sample", "--target", "nope"], ["nope", "gmm2d8", "grid25"]),
          (["sample", "--sampler", "ode-dopri5", "--steps", "50"], ["--steps", "ode-dopri5", "--rtol"]),
          (["sample", "--error-norm", "rms"], ["error norm", "euler-maruyama"]),
          (["sample", "--sampler", "ode-dopri5", "--error-norm", "l2"], ["l2", "max", "rms"]),
          (["sample", "--rtol", "0", "--sampler", "ode-dopri5"], ["rtol", "0"]),
          (["sample", "--count", "0"], ["--count", "0"]),
          (["sample", "--count", "10", "-o", "/proc/sdekit-cannot-write.npy"], ["cannot write", "/proc/sdekit-cannot-write.npy"]),
          (["sample", "--model", "/no/such/model.safetensors"], ["--model", "/no/such/model.safetensors"]),
          (["sample", "--model", "/etc/hostname"], ["--model", "/etc/hostname"]),
          (["train", "--data", "nope", "-o", "m.safetensors"], ["nope", "moons", "checkerboard", ".npy"]),
          (["train", "--hidden", "128,0", "-o", "m.safetensors"], ["--hidden", "128,0"]),
          (["train", "--time-features", "7", "-o", "m.safetensors"], ["time features", "7"]),
          (["train", "--steps", "0", "-o", "m.safetensors"], ["--steps", "0"]),
          (["train", "-o", "model.npy"], ["model.npy", ".safetensors"]),
          (["sample", "--reference", "nope"], ["--reference", "nope", "moons", ".npy"]),
          (["train", "--data", "/no/such/data.npy", "--steps", "1", "-o", "/tmp/sdekit-never.safetensors"], ["/no/such/data.npy"]),
        ])
  func badInput(arguments: [String], mentions: [String]) throws {
    let run = try sdekit(arguments)
    #expect(run.status != 0)
    #expect(run.stdout.isEmpty)
    #expect(run.stderr.split(separator: "\n").count == 1, "\(run.stderr)")
    for word in mentions { #expect(run.stderr.contains(word), "\(word) missing from: \(run.stderr)") }
  }
}

/// Counts the `<g class="series">` groups of an SVG file, failing if it is not well-formed XML.
final class SeriesCounter: NSObject, XMLParserDelegate {
  var series: [String] = []
  var hasBand = false

  func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
              attributes: [String: String] = [:]) {
    if name == "g", attributes["class"] == "series" { series.append(attributes["data-name"] ?? "") }
    if name == "g", attributes["class"] == "band" { hasBand = true }
  }

  static func parse(_ path: String) throws -> SeriesCounter? {
    let counter = SeriesCounter()
    let parser = try #require(XMLParser(contentsOf: URL(fileURLWithPath: path)))
    parser.delegate = counter
    return parser.parse() ? counter : nil
  }
}

@Suite("sdekit compare and plots")
struct ComparePlotTests {
  func sdekit(_ arguments: [String]) throws -> CLITests.Run { try CLITests().sdekit(arguments) }

  @Test("compare prints one row per sampler and setting and draws one series per sampler")
  func compare() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sdekit-compare-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let plot = folder.appendingPathComponent("compare.svg").path
    let run = try sdekit(["compare", "--samplers", "euler-maruyama,ode-gsl-rkf45", "--steps", "10,40",
                          "--tolerances", "1e-2,1e-3", "--count", "500", "--format", "csv", "--plot", plot])
    #expect(run.status == 0, "\(run.stderr)")
    let lines = run.stdout.split(separator: "\n")
    #expect(lines.count == 5)
    #expect(lines.first == "sampler,setting,nfe,seconds,path_error,path_error_stderr,log_p_error,log_p_error_stderr,cov_err,cov_err_floor,sw2,sw2_floor")
    #expect(lines[1].hasPrefix("euler-maruyama,10 steps,10,"))
    #expect(lines[3].hasPrefix("ode-gsl-rkf45,tol 1e-02,"))
    // Two panels (pathwise error, sliced W2), one series per sampler in each.
    let svg = try #require(try SeriesCounter.parse(plot), "compare.svg is not well-formed XML")
    #expect(svg.series == ["euler-maruyama", "ode-gsl-rkf45", "euler-maruyama", "ode-gsl-rkf45"])
    #expect(svg.hasBand)
    // JSON rows carry the documented keys; the pathwise error falls from 10 to 40 steps.
    let json = try sdekit(["compare", "--samplers", "euler-maruyama", "--steps", "10,40", "--count", "300",
                           "--format", "json"])
    let rows = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
    for key in ["sampler", "setting", "nfe", "seconds", "path_error", "path_error_stderr", "mean_log_density",
                "mean_log_density_stderr", "sw2", "sw2_floor"] {
      #expect(rows.allSatisfy { $0[key] != nil }, "\(key)")
    }
    let errors = rows.compactMap { $0["path_error"] as? Double }
    #expect(errors.count == 2 && errors[1] < errors[0], "\(errors)")
  }

  @Test("sample --plot draws the samples and the component centres")
  func samplePlot() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sdekit-plot-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let plot = folder.appendingPathComponent("samples.svg").path
    let run = try sdekit(["sample", "--sampler", "ddim", "--steps", "20", "--count", "300", "--plot", plot])
    #expect(run.status == 0, "\(run.stderr)")
    let svg = try #require(try SeriesCounter.parse(plot), "samples.svg is not well-formed XML")
    #expect(svg.series == ["samples", "component centres"])
  }

  @Test("compare rejects bad input with one line and no plot", arguments: [
    (["compare", "--samplers", "euler-maruyama,nope"], "nope"),
    (["compare", "--steps", "10,0"], "--steps"),
    (["compare", "--tolerances", "0"], "--tolerances"),
    (["compare", "--count", "0"], "--count"),
    (["compare", "--plot", "/no/such/folder/c.svg"], "/no/such/folder"),
    (["compare", "--samplers", "ddim", "--sde", "ve", "--count", "10"], "ddim"),
  ])
  func badCompare(arguments: [String], mention: String) throws {
    let run = try sdekit(arguments)
    #expect(run.status != 0)
    #expect(run.stderr.split(separator: "\n").count == 1 && run.stderr.contains(mention), "\(run.stderr)")
  }
}
