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
}
