import Foundation
import Testing
@testable import sdekit
import Samplers
import SampleFiles
import ScoreModels
import SDEKit

/// `sdekit likelihood` run as a user would (issue 22).
@Suite("sdekit likelihood")
struct LikelihoodCLITests {
  let cli = CLITests()

  func json(_ run: CLITests.Run) throws -> [String: Any] {
    #expect(run.status == 0, "\(run.stderr)")
    return try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
  }

  /// A fresh folder, removed by the caller.
  func folder() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("sdekit-likelihood-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
  }

  @Test("--target draws exact samples; the JSON has the documented keys; the error against the closed form is small")
  func targetJSON() throws {
    let object = try json(cli.sdekit("likelihood", "--target", "gmm2d8", "--count", "400", "--rtol", "1e-7", "--atol", "1e-7", "--json"))
    for key in ["mean_log_likelihood", "mean_log_likelihood_stderr", "bits_per_dim", "bits_per_dim_stderr", "nfe",
                "accepted_steps", "rejected_steps", "seconds", "exact_mean_log_likelihood", "mean_abs_error", "epsilon",
                "terminal", "solver", "divergence"] {
      #expect(object[key] != nil, "missing \(key)")
    }
    let mean = try #require(object["mean_log_likelihood"] as? Double)
    let bits = try #require(object["bits_per_dim"] as? Double)
    #expect(abs(bits + mean / (2 * log(2.0))) < 1e-12)
    // The exact score ends at its own p_T by default: the result is the closed form's, to the solver's error.
    #expect(object["terminal"] as? String == "marginal")
    #expect(try #require(object["mean_abs_error"] as? Double) < 1e-5)
    #expect(object["epsilon"] as? Double == 1e-3)
    // gmm2d8's entropy is log 8 + log(2πe·0.25) = 3.53 nats: the mean of 400 samples within 4 of its errors.
    let error = try #require(object["mean_log_likelihood_stderr"] as? Double)
    #expect(abs(mean + 3.5305) < 4 * error)
  }

  @Test("--data: the per-sample file has (count, 2) rows; Hutchinson's probe errors are in it; every solver kind runs")
  func dataFileAndOutput() throws {
    let folder = try folder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let data = folder.appendingPathComponent("data.npy").path, out = folder.appendingPathComponent("ll.npy").path
    let samples = TargetName.gmm2d8.mixture.sample(count: 300, seed: 5)
    try NPYFile.encode(samples).write(to: URL(fileURLWithPath: data))
    let probed = try json(cli.sdekit("likelihood", "--data", data, "--target", "gmm2d8", "--divergence", "hutchinson",
                                     "--probes", "4", "--probe-distribution", "gaussian", "-o", out, "--json"))
    #expect(probed["probes"] as? Int == 4 && probed["probe_distribution"] as? String == "gaussian")
    let written = try NPYFile.decode(try Data(contentsOf: URL(fileURLWithPath: out)))
    #expect(written.count == 300 && written.dimension == 2)
    #expect((0..<300).allSatisfy { written[$0, 1] > 0 && written[$0, 1].isFinite })
    let mean = (0..<300).reduce(0.0) { $0 + written[$1, 0] } / 300
    #expect(abs(mean - (probed["mean_log_likelihood"] as! Double)) < 1e-9)
    for options in [["--solver", "gsl-rkf45", "--mode", "per-sample"], ["--solver", "rk4", "--steps", "100"],
                    ["--solver", "dopri5", "--error-norm", "rms", "--rtol", "1e-6", "--atol", "1e-6"]] {
      let object = try json(cli.sdekit(["likelihood", "--data", data, "--target", "gmm2d8", "--json"] + options))
      #expect(try #require(object["mean_abs_error"] as? Double) < 1e-3, "\(options)")
    }
  }

  @Test("A learned model takes the prior as its end; the DDPM bound runs on the chain")
  func modelAndBound() throws {
    let model = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent("../../Models/gmm2d8.safetensors").standardized.path
    let learned = try json(cli.sdekit("likelihood", "--model", model, "--target", "gmm2d8", "--count", "100",
                                      "--rtol", "1e-3", "--atol", "1e-3", "--json"))
    #expect(learned["terminal"] as? String == "prior")
    #expect(abs((learned["mean_log_likelihood"] as! Double) - (learned["exact_mean_log_likelihood"] as! Double)) < 0.3)
    let bound = try json(cli.sdekit("likelihood", "--target", "gmm2d8", "--count", "200", "--sde", "ddpm",
                                    "--train-steps", "100", "--bound", "ddpm", "--terms", "5", "--json"))
    #expect(bound["method"] as? String == "ddpm-bound" && bound["nfe"] as? Int == 6)
    let parts = try #require(bound["bound"] as? [String: Any])
    #expect((parts["term_means"] as? [Any])?.count == 101)
    #expect(abs((parts["mean_nats"] as! Double) + (bound["mean_log_likelihood"] as! Double)) < 1e-12)
  }

  @Test("--discrete-levels 256: score_sde's 7-bit offset on [−1, 1] over the dequantised data's continuous bits/dim")
  func discreteLevels() throws {
    let folder = try folder()
    defer { try? FileManager.default.removeItem(at: folder) }
    // Integer levels whose dequantised points (on [−1, 1]) sit among gmm2d8's modes at 1/4 scale:
    // the exact score of a target is any density; what is checked is the units' arithmetic.
    let points = TargetName.gmm2d8.mixture.sample(count: 200, seed: 2)
    var levels = StateBatch(count: 200, dimension: 2)
    for e in levels.values.indices { levels.values[e] = min(255, max(0, ((points.values[e] / 5 + 1) * 128).rounded(.down))) }
    let integers = folder.appendingPathComponent("levels.npy").path
    try NPYFile.encode(levels).write(to: URL(fileURLWithPath: integers))
    let dequantised = folder.appendingPathComponent("dequantised.npy").path
    try NPYFile.encode(DiscreteLevels(levels: 256, range: .centered).dequantised(levels, seed: 4))
      .write(to: URL(fileURLWithPath: dequantised))
    let discrete = try json(cli.sdekit("likelihood", "--data", integers, "--target", "gmm2d8", "--discrete-levels", "256",
                                       "--seed", "4", "--json"))
    let continuous = try json(cli.sdekit("likelihood", "--data", dequantised, "--target", "gmm2d8", "--seed", "4", "--json"))
    #expect(abs((discrete["bits_per_dim"] as! Double) - (continuous["bits_per_dim"] as! Double) - 7) < 1e-9)
    #expect(discrete["exact_mean_log_likelihood"] == nil)
    // Non-integer data are refused, naming the value.
    let run = try cli.sdekit("likelihood", "--data", dequantised, "--target", "gmm2d8", "--discrete-levels", "256")
    #expect(run.status == 64 && run.stderr.contains("integer in 0...255"), "\(run.stderr)")
  }

  @Test("Bad input: a clear message, non-zero exit, no output file")
  func badInput() throws {
    let folder = try folder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let wide = folder.appendingPathComponent("wide.npy").path, nan = folder.appendingPathComponent("nan.npy").path
    let out = folder.appendingPathComponent("out.npy").path
    try NPYFile.encode(StateBatch(count: 4, dimension: 3, repeating: 0.5)).write(to: URL(fileURLWithPath: wide))
    var bad = StateBatch(count: 4, dimension: 2, repeating: 0.5)
    bad[3, 0] = .nan
    try NPYFile.encode(bad).write(to: URL(fileURLWithPath: nan))
    let cases: [([String], String)] = [
      (["--data", wide, "--target", "gmm2d8", "-o", out], "has dimension 3"),
      (["--data", nan, "--target", "gmm2d8", "-o", out], "row 3, coordinate 0 is nan"),
      (["--data", folder.appendingPathComponent("missing.npy").path, "--target", "gmm2d8"], "cannot read"),
      (["--data", wide], "needs a score"),
      (["--target", "gmm2d8", "--bound", "ddpm"], "--sde ddpm"),
      (["--target", "gmm2d8", "--probes", "3"], "--divergence hutchinson"),
      (["--target", "gmm2d8", "--solver", "euler-maruyama"], "SDE solver"),
      (["--target", "gmm2d8", "--solver", "rk4", "--mode", "per-sample"], "adaptive"),
      (["--target", "gmm2d8", "--epsilon", "0"], "ε"),
      (["--target", "gmm2d8", "--sde", "ddpm", "--bound", "ddpm", "--terms", "zero"], "--terms 'zero'"),
    ]
    for (arguments, expected) in cases {
      let run = try cli.sdekit(["likelihood"] + arguments)
      #expect(run.status != 0 && run.stderr.contains(expected), "\(arguments): \(run.stderr)")
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() == ["nan.npy", "wide.npy"])
  }

  @Test("--sigma-min, --sigma-max and --shift set the process as for sample, and are refused where they do not apply")
  func processScales() throws {
    // The exact score ends at the closed-form p_T: the result is log p_ε, which σ_min moves (σ(ε) = σ_min(σ_max/σ_min)^ε).
    let base = ["likelihood", "--target", "gmm2d8", "--sde", "ve", "--count", "50", "--json"]
    let plain = try json(cli.sdekit(base))
    let wider = try json(cli.sdekit(base + ["--sigma-min", "0.5"]))
    let a = try #require(plain["exact_mean_log_likelihood"] as? Double), b = try #require(wider["exact_mean_log_likelihood"] as? Double)
    #expect(b < a - 0.01, "σ_min 0.5 should spread p_ε: \(a) → \(b)")
    #expect(try #require(wider["mean_abs_error"] as? Double) < 1e-4)
    let refused = try cli.sdekit("likelihood", "--target", "gmm2d8", "--sde", "vp", "--sigma-max", "3")
    #expect(refused.status == 64 && refused.stderr.contains("--sigma-max") && refused.stderr.contains("vp"), "\(refused.stderr)")
  }

  @Test("The help says which ε is used and why")
  func help() throws {
    let run = try cli.sdekit("likelihood", "--help")
    #expect(run.status == 0)
    let text = run.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    #expect(text.contains("ε defaults to the process's own (1e-3") && text.contains("ε = 1e-5"))
  }
}
