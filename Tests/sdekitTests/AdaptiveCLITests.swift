import Foundation
import Testing

/// `sdekit convergence --adaptive` and the adaptive SDE samplers on the command line.
@Suite("sdekit adaptive SDE")
struct AdaptiveCLITests {
  func sdekit(_ arguments: String...) throws -> CLITests.Run { try CLITests().sdekit(arguments) }

  @Test("convergence --adaptive --json: points with the documented keys, exact_mean at the top, the error falling")
  func adaptiveJSON() throws {
    let run = try sdekit("convergence", "--problem", "gbm", "--solver", "sriw1", "--adaptive", "--paths", "300",
                         "--tolerances", "1e-2...1e-4", "--json")
    #expect(run.status == 0, "\(run.stderr)")
    let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    // E X(1) = X₀ e^μ for GBM.
    let exactMean = try #require(object["exact_mean"] as? Double)
    #expect(abs(exactMean - 0.5 * exp(1.01)) < 1e-12)
    #expect(object["error_estimate"] as? String == "embedded" && object["mode"] as? String == "per-sample")
    let points = try #require(object["points"] as? [[String: Any]])
    #expect(points.map { $0["tolerance"] as? Double } == [1e-2, 1e-3, 1e-4])
    for point in points {
      for key in ["tolerance", "error", "error_stderr", "mean", "mean_stderr", "nfe", "rejected_steps", "steps"] {
        #expect(point[key] is Double, "\(key)")
      }
      // The mean of 300 paths within four of its standard errors of the exact mean.
      let mean = try #require(point["mean"] as? Double), stderr = try #require(point["mean_stderr"] as? Double)
      #expect(abs(mean - exactMean) < 4 * stderr)
    }
    let errors = points.compactMap { $0["error"] as? Double }
    #expect(errors[1] < errors[0] && errors[2] < errors[1], "\(errors)")
    // Unknown exact mean: null, not a missing key.
    let well = try sdekit("convergence", "--problem", "double-well", "--solver", "sra1", "--adaptive", "--paths", "20",
                          "--tolerances", "1e-2", "--json")
    #expect(well.status == 0, "\(well.stderr)")
    #expect(well.stdout.contains("\"exact_mean\" : null"))
  }

  @Test("convergence --adaptive prints a table per tolerance with the rejected fraction")
  func adaptiveTable() throws {
    let run = try sdekit("convergence", "--problem", "additive", "--solver", "euler-maruyama", "--adaptive",
                         "--paths", "50", "--tolerances", "1e-2,1e-3")
    #expect(run.status == 0, "\(run.stderr)")
    #expect(run.stdout.contains("step-doubling") && run.stdout.contains("rej %") && run.stdout.contains("exact mean 0.74246"))
  }

  @Test("Bad adaptive input: one line naming the value, non-zero exit, nothing on stdout",
        arguments: [
          (["convergence", "--problem", "linear-ode", "--solver", "rk4", "--adaptive"], ["--adaptive", "linear-ode"]),
          (["convergence", "--problem", "gbm", "--solver", "milstein", "--adaptive", "--error-estimate", "embedded"],
           ["milstein", "embedded"]),
          (["convergence", "--problem", "gbm", "--solver", "sriw1", "--tree-depth", "12"], ["--tree-depth", "--adaptive"]),
          (["convergence", "--problem", "gbm", "--solver", "sriw1", "--adaptive", "--tree-depth", "31"], ["--tree-depth", "31"]),
          (["convergence", "--problem", "gbm", "--solver", "sriw1", "--adaptive", "--tolerances", "2"], ["2"]),
          (["sample", "--sampler", "adaptive-sra1", "--steps", "10"], ["--steps", "adaptive-sra1"]),
        ])
  func badInput(_ arguments: [String], _ mentions: [String]) throws {
    let run = try CLITests().sdekit(arguments)
    #expect(run.status != 0)
    #expect(run.stdout.isEmpty)
    for word in mentions { #expect(run.stderr.contains(word), "stderr: \(run.stderr)") }
  }

  @Test("sample --sampler adaptive-sra1 and gotta-go-fast per sample report their NFE")
  func sample() throws {
    for sampler in ["adaptive-sra1", "gotta-go-fast"] {
      let run = try sdekit("sample", "--sampler", sampler, "--rtol", "1e-2", "--atol", "1e-2", "--mode", "per-sample",
                           "--count", "200", "--json")
      #expect(run.status == 0, "\(run.stderr)")
      let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
      #expect((object["nfe"] as? Int ?? 0) > 10, "\(sampler)")
    }
  }
}
