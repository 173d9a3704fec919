import Foundation
import SDEKit
import Testing

@Suite("sample --resume: a run killed at any point continues to the same bytes")
struct ResumeTests {
  func sdekit(_ arguments: [String]) throws -> CLITests.Run { try CLITests().sdekit(arguments) }

  /// Five chunks of 16,384 gmm64d16 rows (2²⁰ values each), 20 steps: about a second in all.
  static let run = ["sample", "--target", "gmm64d16", "--count", "81920", "--steps", "20", "--seed", "5"]
  static let chunkRows = 16_384

  /// The report's numbers, without what differs between any two runs (times, paths).
  static func numbers(_ path: String) throws -> String {
    let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
    let kept = object.filter { !["seconds", "command_line", "output", "report", "plot"].contains($0.key) }
    return String(decoding: try JSONSerialization.data(withJSONObject: kept, options: [.sortedKeys]), as: UTF8.self)
  }

  /// Rows the sidecar records as done, nil while there is none.
  static func rowsDone(_ sidecar: String) -> Int? {
    guard let data = FileManager.default.contents(atPath: sidecar),
          let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
    return object["rows"] as? Int
  }

  @Test("SIGKILL at three random points, then --resume: the same .npy bytes and report numbers as a run never stopped")
  func killAndResume() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sdekit-resume-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let reference = folder.appendingPathComponent("reference.npy").path, output = folder.appendingPathComponent("resumed.npy").path
    let whole = try sdekit(Self.run + ["-o", reference, "--report", reference + ".json"])
    #expect(whole.status == 0, "\(whole.stderr)")
    let sidecar = folder.appendingPathComponent(".resumed.npy.partial.resume").path
    // Kill k comes after at least k chunks are recorded, plus a random 0–80 ms: inside a chunk's
    // sampling, its write or its sidecar update, wherever that lands. Each resumed run must
    // start from at least what the one before it recorded.
    var generator = SystemRandomNumberGenerator()
    var recorded: [Int] = []
    for round in 1...3 {
      let process = Process()
      process.executableURL = CLITests.executable
      process.arguments = Self.run + ["-o", output, "--report", output + ".json", "--resume"]
      process.standardOutput = Pipe()
      process.standardError = Pipe()
      let before = Self.rowsDone(sidecar) ?? 0
      try process.run()
      let start = Date()
      while (Self.rowsDone(sidecar) ?? 0) < round * Self.chunkRows && process.isRunning && Date().timeIntervalSince(start) < 60 {
        Thread.sleep(forTimeInterval: 0.002)
      }
      let delay = Double.random(in: 0..<0.08, using: &generator)
      Thread.sleep(forTimeInterval: delay)
      kill(process.processIdentifier, SIGKILL)
      process.waitUntilExit()
      let after = Self.rowsDone(sidecar) ?? 0
      print("kill \(round): \(String(format: "%.0f", delay * 1000)) ms after \(round) chunk(s) were recorded; the sidecar records \(after) rows")
      #expect(process.terminationReason == .uncaughtSignal, "the run finished before kill \(round)")
      #expect(after >= before && after % Self.chunkRows == 0)
      recorded.append(after)
    }
    #expect(recorded.last! > 0 && recorded.last! < 81_920, "\(recorded)")
    #expect(!FileManager.default.fileExists(atPath: output))
    let finished = try sdekit(Self.run + ["-o", output, "--report", output + ".json", "--resume"])
    #expect(finished.status == 0, "\(finished.stderr)")
    #expect(try Data(contentsOf: URL(fileURLWithPath: output)) == Data(contentsOf: URL(fileURLWithPath: reference)))
    #expect(try Self.numbers(output + ".json") == Self.numbers(reference + ".json"))
    // Finished: the partial file and its sidecar are gone.
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
            == ["reference.npy", "reference.npy.json", "resumed.npy", "resumed.npy.json"])
  }

  @Test("A sidecar from another configuration is refused naming what differs; SIGTERM keeps the samples for --resume")
  func otherConfiguration() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sdekit-resume-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let output = folder.appendingPathComponent("s.npy").path
    let process = Process()
    process.executableURL = CLITests.executable
    process.arguments = Self.run + ["-o", output, "--resume"]
    let err = Pipe()
    process.standardError = err
    process.standardOutput = Pipe()
    try process.run()
    let sidecar = folder.appendingPathComponent(".s.npy.partial.resume").path
    while Self.rowsDone(sidecar) == nil && process.isRunning { Thread.sleep(forTimeInterval: 0.002) }
    process.terminate()
    process.waitUntilExit()
    let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    #expect(process.terminationStatus == 143 && stderr.contains("--resume to continue"), "\(stderr)")
    #expect(FileManager.default.fileExists(atPath: sidecar))
    var other = Self.run
    other[other.firstIndex(of: "20")!] = "30"
    other[other.firstIndex(of: "5")!] = "6"
    let refused = try sdekit(other + ["-o", output, "--resume"])
    #expect(refused.status == 64)
    #expect(refused.stderr.contains("configuration.seed: 5 there, 6 here") && refused.stderr.contains("configuration.steps: 20 there, 30 here"),
            "\(refused.stderr)")
    #expect(!FileManager.default.fileExists(atPath: output) && FileManager.default.fileExists(atPath: sidecar))
    // Another thread count does not change the samples, so it resumes.
    let resumed = try sdekit(Self.run + ["-o", output, "--resume", "--threads", "1"])
    #expect(resumed.status == 0, "\(resumed.stderr)")
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["s.npy"])
  }

  @Test("A rename that fails at the end (a folder under the name) keeps the samples and the sidecar for --resume")
  func failedRename() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sdekit-resume-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let output = folder.appendingPathComponent("s.npy").path, reference = folder.appendingPathComponent("reference.npy").path
    let partial = folder.appendingPathComponent(".s.npy.partial").path
    try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: false)
    let sampling = ["sample", "--count", "1000", "--steps", "10", "--seed", "3"]
    let failed = try sdekit(sampling + ["-o", output, "--resume"])
    #expect(failed.status == 1 && failed.stderr.contains("cannot write \(output): Is a directory")
            && failed.stderr.contains("the samples so far stay in \(partial) for --resume"), "\(failed.stderr)")
    #expect(FileManager.default.fileExists(atPath: partial) && Self.rowsDone(partial + ".resume") == 1000)
    try FileManager.default.removeItem(atPath: output)
    let resumed = try sdekit(sampling + ["-o", output, "--resume"])
    #expect(resumed.status == 0, "\(resumed.stderr)")
    #expect(try sdekit(sampling + ["-o", reference]).status == 0)
    #expect(try Data(contentsOf: URL(fileURLWithPath: output)) == Data(contentsOf: URL(fileURLWithPath: reference)))
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() == ["reference.npy", "s.npy"])
  }
}
