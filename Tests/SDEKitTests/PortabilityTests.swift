import Foundation
import Testing

/// The package must not be x86-only by accident: CSIMDMath's C sources, every level's file
/// included, must compile for arm64, where only the baseline (NEON) level exists. This machine
/// cannot run arm64 code, so clang checks the syntax and types of each file for the target.
@Suite("Portability of the C kernels")
struct PortabilityTests {
  /// The package's CSIMDMath folder, found from this file's path.
  static let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Sources/CSIMDMath")

  /// clang's path on PATH, or nil.
  static let clang: String? = {
    let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
    return paths.map { "\($0)/clang" }.first { FileManager.default.isExecutableFile(atPath: $0) }
  }()

  /// Whether clang was built with the AArch64 back end (`-print-targets` lists it).
  static let clangKnowsAArch64: Bool = {
    guard let clang, let run = try? run(clang, ["-print-targets"]) else { return false }
    return run.status == 0 && run.output.contains("aarch64")
  }()

  /// Debian's AArch64 C library headers (libc6-dev-arm64-cross, from scripts/install-deps.sh), which
  /// the file that reads the environment and CPU needs; the kernels themselves need no system header.
  static let linuxSysroot = "/usr/aarch64-linux-gnu"

  static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
  }

  @Test("Every C source of CSIMDMath compiles for aarch64-linux-gnu (clang -fsyntax-only -Werror)",
        .enabled(if: clangKnowsAArch64, "clang is not on PATH or lacks the AArch64 target: not checked"))
  func aarch64Linux() throws {
    let files = try FileManager.default.contentsOfDirectory(atPath: Self.sources.path).filter { $0.hasSuffix(".c") }.sorted()
    #expect(files.count >= 4, "found \(files) in \(Self.sources.path)")
    #if arch(arm64)
    let native = true  // the system's own headers are AArch64's
    #else
    let native = false
    #endif
    let hasHeaders = FileManager.default.fileExists(atPath: Self.linuxSysroot + "/include/stdio.h")
    for file in files {
      // Dispatch.c includes the C library (getenv, stdio, pthread): without the AArch64 headers it
      // cannot be checked here, and says so; the rest include nothing of the system.
      // scripts/install-deps.sh installs the headers, so `make test` checks it.
      if file == "Dispatch.c" && !hasHeaders && !native {
        print("PortabilityTests: \(file) not checked for aarch64: no AArch64 C library headers in \(Self.linuxSysroot) (apt-get install libc6-dev-arm64-cross)")
        continue
      }
      var arguments = ["--target=aarch64-linux-gnu", "-fsyntax-only", "-Werror", "-Wall",
                       "-I", Self.sources.appendingPathComponent("include").path, Self.sources.appendingPathComponent(file).path]
      if hasHeaders && !native { arguments.insert("--sysroot=\(Self.linuxSysroot)", at: 1) }
      let run = try Self.run(Self.clang!, arguments)
      #expect(run.status == 0, "\(file) for aarch64: \(run.output)")
    }
  }

  @Test("The kernels compile for Apple arm64 and x86-64 (the files that need no system header)",
        .enabled(if: clangKnowsAArch64, "clang is not on PATH or lacks the AArch64 target: not checked"))
  func apple() throws {
    // Without Apple's SDK: freestanding, so the intrinsics' headers leave out their one system
    // header (mm_malloc.h). Dispatch.c needs the C library and is not checked for Apple here.
    for target in ["arm64-apple-macos13", "x86_64-apple-macos13"] {
      for file in ["LevelBaseline.c", "LevelAVX2.c", "LevelAVX512.c"] {
        let run = try Self.run(Self.clang!, ["--target=\(target)", "-ffreestanding", "-fsyntax-only", "-Werror", "-Wall",
                                             "-I", Self.sources.appendingPathComponent("include").path,
                                             Self.sources.appendingPathComponent(file).path])
        #expect(run.status == 0, "\(file) for \(target): \(run.output)")
      }
    }
  }
}
