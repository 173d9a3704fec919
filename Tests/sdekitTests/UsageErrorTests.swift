import Foundation
import Testing
import SampleFiles
import ScoreModels
import SDEKit

/// Bad input given on the command line is a usage error: one line naming the value and what is
/// allowed, exit 64, before anything is sampled or written.
@Suite("sdekit usage errors: exit 64, one line, nothing written")
struct UsageErrorTests {
  func sdekit(_ arguments: [String]) throws -> CLITests.Run { try CLITests().sdekit(arguments) }

  final class Folder {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("sdekit-usage-\(UUID().uuidString)")
    init() throws { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) }
    deinit { try? FileManager.default.removeItem(at: url) }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
    var contents: [String] { ((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []).sorted() }

    /// `rows` starting points in d = 2 (gmm2d8's) as a .npy file.
    func points(_ rows: Int, _ name: String) throws -> String {
      try NPYFile.encode(TargetName.gmm2d8.mixture.sample(count: rows, seed: 3)).write(to: url.appendingPathComponent(name))
      return path(name)
    }
  }

  func expectUsageError(_ run: CLITests.Run, mentions: [String], _ context: String = "") {
    #expect(run.status == 64, "\(context): status \(run.status): \(run.stderr)")
    #expect(run.stdout.isEmpty, "\(context)")
    #expect(run.stderr.split(separator: "\n").count == 1, "\(context): \(run.stderr)")
    for word in mentions { #expect(run.stderr.contains(word), "\(context): \(word) missing from: \(run.stderr)") }
  }

  @Test("--count given as 10000 (its default) is checked against --initial's rows; a one-row --initial is refused up front")
  func countAgainstInitial() throws {
    let folder = try Folder()
    let five = try folder.points(5, "five.npy"), one = try folder.points(1, "one.npy")
    let output = folder.path("out.npy")
    for command in ["sample", "compare"] {
      let explicit = try sdekit([command, "--initial", five, "--count", "10000"] + (command == "sample" ? ["-o", output] : []))
      expectUsageError(explicit, mentions: ["--initial \(five) has 5 rows but --count is 10000"], command)
      let single = try sdekit([command, "--initial", one] + (command == "sample" ? ["-o", output] : []))
      expectUsageError(single, mentions: ["--initial \(one) has 1 row; it needs at least 2"], command)
    }
    #expect(folder.contents == ["five.npy", "one.npy"])
  }

  @Test("compare refuses settings no run can take with exit 64, as sample does", arguments: [
    (["--threads", "0"], ["threads must be at least 1, got 0"]),
    (["--rho", "5"], ["--rho applies to --grid karras; got --grid uniform"]),
    (["--samplers", "ddim", "--churn", "1"], ["--churn", "edm-heun", "ddim"]),
  ])
  func compareSettings(_ arguments: [String], mentions: [String]) throws {
    let folder = try Folder()
    let plot = folder.path("c.svg")
    expectUsageError(try sdekit(["compare", "--count", "100", "--plot", plot] + arguments), mentions: mentions, "compare")
    expectUsageError(try sdekit(["sample", "--count", "100"] + arguments.map { $0 == "--samplers" ? "--sampler" : $0 }),
                     mentions: mentions, "sample")
    #expect(folder.contents.isEmpty)
  }

  @Test("compare's plot title counts the rows --initial gave")
  func compareTitle() throws {
    let folder = try Folder()
    let start = try folder.points(64, "start.npy")
    let plot = folder.path("c.svg")
    let run = try sdekit(["compare", "--samplers", "ddim", "--steps", "5", "--initial", start, "--plot", plot])
    #expect(run.status == 0, "\(run.stderr)")
    let svg = try String(contentsOfFile: plot, encoding: .utf8)
    #expect(svg.contains("vp · gmm2d8 · 64 samples") && !svg.contains("10000 samples"))
  }

  @Test("One reader for data files: sample --initial, likelihood --data and train --data say the same of the same file, exit 64")
  func oneDataReader() throws {
    let folder = try Folder()
    var bad = StateBatch(count: 4, dimension: 2, repeating: 0.5)
    bad[3, 0] = .nan
    let nan = folder.path("nan.npy")
    try NPYFile.encode(bad).write(to: URL(fileURLWithPath: nan))
    let runs = [
      ("--initial", ["sample", "--initial", nan, "-o", folder.path("out.npy")]),
      ("--data", ["likelihood", "--target", "gmm2d8", "--data", nan, "-o", folder.path("ll.npy")]),
      ("--data", ["train", "--data", nan, "--steps", "1", "-o", folder.path("m.safetensors")]),
      ("--reference", ["sample", "--count", "10", "--reference", nan]),
    ]
    for (option, arguments) in runs {
      expectUsageError(try sdekit(arguments), mentions: ["\(option) \(nan): row 3, coordinate 0 is nan (counting from 0); every value must be finite"],
                       arguments[0])
    }
    // The extension in any case: a .CSV file is read as CSV by each.
    let csv = folder.path("points.CSV")
    try CSVFile.encode(TargetName.gmm2d8.mixture.sample(count: 64, seed: 1)).write(to: URL(fileURLWithPath: csv))
    let trained = try sdekit(["train", "--data", csv, "--steps", "2", "--hidden", "4", "-o", folder.path("m.safetensors")])
    #expect(trained.status == 0 && trained.stdout.contains("(64 samples, d = 2)"), "\(trained.stderr)")
    let sampled = try sdekit(["sample", "--sampler", "ddim", "--steps", "5", "--initial", csv, "--json"])
    #expect(sampled.status == 0 && sampled.stdout.contains("\"count\" : 64"), "\(sampled.stderr)")
    #expect(folder.contents == ["m.safetensors", "nan.npy", "points.CSV"])
  }

  @Test("likelihood: a --model of another dimension than --target, and --data of the wrong shape, are usage errors")
  func likelihoodData() throws {
    let folder = try Folder()
    let model = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent("../../Models/gmm2d8.safetensors").standardized.path
    expectUsageError(try sdekit(["likelihood", "--model", model, "--target", "gmm64d16", "--count", "10"]),
                     mentions: ["--model \(model) has dimension 2; --target gmm64d16 has 64"])
    let wide = folder.path("wide.npy")
    try NPYFile.encode(StateBatch(count: 4, dimension: 3, repeating: 0.5)).write(to: URL(fileURLWithPath: wide))
    expectUsageError(try sdekit(["likelihood", "--target", "gmm2d8", "--data", wide]),
                     mentions: ["--data \(wide) has dimension 3; the target gmm2d8 has dimension 2"])
    expectUsageError(try sdekit(["likelihood", "--target", "gmm2d8", "--data", folder.path("missing.npy")]),
                     mentions: ["--data \(folder.path("missing.npy")): cannot read the file"])
  }

  @Test("convergence: options a study does not use are refused, not ignored", arguments: [
    (["--tree-depth", "20"], ["--error-estimate and --tree-depth apply with --adaptive"]),
    (["--mode", "per-sample"], ["--mode applies to tolerance studies", "gbm with euler-maruyama takes fixed steps"]),
    (["--tolerances", "1e-3"], ["--tolerances applies to tolerance studies"]),
    (["--problem", "linear-ode", "--solver", "rk4", "--mode", "batch"], ["--mode applies to tolerance studies", "linear-ode with rk4"]),
    (["--problem", "arenstorf", "--solver", "dopri5", "--fixed", "--tolerances", "1e-4"], ["--tolerances", "dopri5 --fixed"]),
    (["--solver", "sriw1", "--adaptive", "--tree-depth", "0"], ["--tree-depth must lie in 1...30, got 0"]),
  ])
  func convergenceOptions(_ arguments: [String], mentions: [String]) throws {
    expectUsageError(try sdekit(["convergence", "--paths", "100"] + arguments), mentions: mentions)
  }

  @Test("sample's --eta on a sampler without an η is refused, not silently dropped")
  func etaWithoutTaker() throws {
    let folder = try Folder()
    let output = folder.path("out.npy")
    for sampler in ["euler-maruyama", "ode-heun", "pc-langevin"] {
      expectUsageError(try sdekit(["sample", "--count", "100", "--sampler", sampler, "--eta", "0.5", "-o", output]),
                       mentions: ["--eta 0.5", sampler], sampler)
    }
    #expect(folder.contents.isEmpty)
  }
}
