import Foundation
import SDEKit
import Testing

/// `SDEKIT_ISA` as a user sets it: the same sample file from every level, the level named by
/// --version, and a clear refusal of a level that does not exist or that the CPU cannot run.
@Suite("sdekit and SDEKIT_ISA")
struct DispatchCLITests {
  struct Run {
    let status: Int32
    let stdout: String
    let stderr: String
  }

  /// The built sdekit, run with SDEKIT_ISA set to `level` (nil: unset).
  func sdekit(level: String?, _ arguments: [String]) throws -> Run {
    let process = Process()
    process.executableURL = CLITests.executable
    process.arguments = arguments
    var environment = ProcessInfo.processInfo.environment
    environment["SDEKIT_ISA"] = level
    process.environment = environment
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

  @Test("Sample files are byte-identical at every SIMD level the CPU supports",
        arguments: [["--target", "gmm2d8", "--sampler", "euler-maruyama"], ["--target", "gmm64d16", "--sampler", "sra1"],
                    ["--target", "gmm2d8", "--sampler", "ode-dopri5"]])
  func sameFiles(_ options: [String]) throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sdekit-isa-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    var files: [(SIMDLevel, Data)] = []
    for level in SIMDLevel.supported {
      let path = folder.appendingPathComponent("\(level).npy").path
      var arguments = ["sample", "--count", "301", "--quiet", "-o", path] + options
      if !options.contains("ode-dopri5") { arguments += ["--steps", "40"] }
      let run = try sdekit(level: level.description, arguments)
      #expect(run.status == 0, "\(level): \(run.stderr)")
      files.append((level, try Data(contentsOf: URL(fileURLWithPath: path))))
    }
    for (level, data) in files.dropFirst() {
      #expect(data == files[0].1, "\(options): \(level)'s samples differ from \(files[0].0)'s")
    }
  }

  @Test("--version names the SIMD level in use, the forced one included")
  func versionNamesLevel() throws {
    let best = try sdekit(level: nil, ["--version"])
    #expect(best.status == 0)
    #expect(best.stdout.contains(sdekitVersion))
    #expect(best.stdout.contains("SIMD level \(SIMDLevel.supported.last!)"), "\(best.stdout)")
    let forced = try sdekit(level: "baseline", ["--version"])
    #expect(forced.stdout.contains("SIMD level baseline;"), "\(forced.stdout)")
  }

  @Test("An unknown or unsupported SDEKIT_ISA ends the run with a message naming it and the allowed levels")
  func refusesBadLevel() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sdekit-isa-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let output = folder.appendingPathComponent("x.npy").path
    let allowed = SIMDLevel.supported.map(\.description).joined(separator: ", ")
    var bad = ["sse9", "AVX2", " avx2"]
    if let unsupported = SIMDLevel.allCases.first(where: { !$0.isSupported }) { bad.append(unsupported.description) }
    for value in bad {
      let run = try sdekit(level: value, ["sample", "--count", "10", "--steps", "2", "-o", output])
      #expect(run.status == 2, "SDEKIT_ISA=\(value): status \(run.status)")
      #expect(run.stderr.contains("SDEKIT_ISA=\(value)") && run.stderr.contains("allowed on this CPU: \(allowed)"),
              "\(run.stderr)")
      #expect(!FileManager.default.fileExists(atPath: output), "SDEKIT_ISA=\(value) left a sample file")
    }
  }
}
