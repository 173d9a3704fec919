import Foundation
import Testing

/// `mpirun -np K sdekit-mpi …` against one `sdekit` process. Runs where MPI is installed and
/// sdekit-mpi was built (make test sets SDEKIT_MPI=1 when pkg-config finds ompi-c); elsewhere
/// each test prints why it was skipped.
@Suite("sdekit-mpi: the same bits as one process, and every rank stops when one fails")
struct MPITests {
  static var mpiExecutable: URL { CLITests.executable.deletingLastPathComponent().appendingPathComponent("sdekit-mpi") }

  static var mpirun: String? {
    for folder in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
      let path = "\(folder)/mpirun"
      if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    return nil
  }

  /// mpirun, or nil after printing why the MPI tests are skipped.
  static func available() -> String? {
    guard let mpirun else {
      print("skipped: mpirun is not installed (apt-get install openmpi-bin libopenmpi-dev)")
      return nil
    }
    guard FileManager.default.isExecutableFile(atPath: mpiExecutable.path) else {
      print("skipped: sdekit-mpi was not built (build with SDEKIT_MPI=1, as make test does where pkg-config finds ompi-c)")
      return nil
    }
    return mpirun
  }

  /// `--allow-run-as-root` because tests run as root on CI; `--oversubscribe` for more ranks
  /// than cores; `-q` keeps mpirun's own banners out of stderr.
  static func mpiArguments(ranks: Int) -> [String] {
    ["--allow-run-as-root", "--oversubscribe", "-q", "-np", "\(ranks)", mpiExecutable.path]
  }

  func run(_ executable: String, _ arguments: [String]) throws -> CLITests.Run {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let outData = out.fileHandleForReading.readDataToEndOfFile(), errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return CLITests.Run(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                        stderr: String(decoding: errData, as: UTF8.self))
  }

  /// The printed JSON without what may differ between runs of the same configuration.
  static func numbers(_ json: String) throws -> String {
    let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    let kept = object.filter { !["seconds", "command_line", "output"].contains($0.key) }
    return String(decoding: try JSONSerialization.data(withJSONObject: kept, options: [.sortedKeys]), as: UTF8.self)
  }

  @Test("2 and 3 ranks write the .npy and print the numbers of one process (Euler–Maruyama, probability-flow Heun)",
        arguments: ["euler-maruyama", "ode-heun"])
  func sameBits(sampler: String) throws {
    guard let mpirun = Self.available() else { return }
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sdekit-mpi-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    // 30,001 rows: eight blocks of 4,096 rows and one row more, so the ranks' ranges differ in
    // length and the last one ends off a block boundary.
    let sampling = ["sample", "--sampler", sampler, "--steps", "40", "--count", "30001", "--seed", "7", "--threads", "1", "--json"]
    let one = try CLITests().sdekit(sampling + ["-o", folder.appendingPathComponent("one.npy").path])
    #expect(one.status == 0, "\(one.stderr)")
    let reference = try Data(contentsOf: folder.appendingPathComponent("one.npy"))
    for ranks in [2, 3] {
      let path = folder.appendingPathComponent("\(ranks).npy")
      let split = try run(mpirun, Self.mpiArguments(ranks: ranks) + sampling + ["-o", path.path])
      #expect(split.status == 0, "\(ranks) ranks: \(split.stderr)")
      #expect(try Data(contentsOf: path) == reference, "\(ranks) ranks: the .npy differs")
      #expect(try Self.numbers(split.stdout) == Self.numbers(one.stdout), "\(ranks) ranks")
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() == ["2.npy", "3.npy", "one.npy"])
  }

  @Test("A rank killed mid-run: every rank exits non-zero within seconds, and no file is left")
  func killedRank() throws {
    guard let mpirun = Self.available() else { return }
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sdekit-mpi-kill-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: mpirun)
    process.arguments = Self.mpiArguments(ranks: 2)
      + ["sample", "--count", "200000", "--steps", "100000", "--threads", "1", "-o", folder.appendingPathComponent("k.npy").path]
    process.standardOutput = Pipe()
    process.standardError = Pipe()
    try process.run()
    // The ranks are mpirun's children; kill the last one once the shared file exists.
    var ranks: [Int32] = []
    let start = Date()
    while Date().timeIntervalSince(start) < 30 {
      ranks = children(of: process.processIdentifier)
      if ranks.count == 2, !(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty) { break }
      Thread.sleep(forTimeInterval: 0.05)
    }
    #expect(ranks.count == 2)
    Thread.sleep(forTimeInterval: 0.5)
    let killed = Date()
    kill(ranks.max()!, SIGKILL)
    process.waitUntilExit()
    let seconds = Date().timeIntervalSince(killed)
    print("a rank killed: mpirun exited with \(process.terminationStatus) after \(String(format: "%.2f", seconds)) s")
    #expect(process.terminationStatus != 0 && seconds < 5)
    // mpirun has returned; its ranks are gone or zombies waiting to be reaped.
    #expect(ranks.allSatisfy { state(of: $0).map { $0 == "Z" } ?? true }, "a rank outlived mpirun")
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
  }

  @Test("Bad input: one line from one rank, non-zero exit, nothing written", arguments: [
    (["sample", "--steps", "0"], "steps must be at least 1"),
    (["sample", "--sampler", "ode-dopri5"], "--mode per-sample"),
    (["sample", "--count", "10", "-o", "x.csv"], "writes .npy files"),
    (["compare"], "sdekit-mpi runs sample"),
  ])
  func badInput(arguments: [String], expected: String) throws {
    guard let mpirun = Self.available() else { return }
    let result = try run(mpirun, Self.mpiArguments(ranks: 2) + arguments)
    #expect(result.status != 0 && result.stdout.isEmpty)
    #expect(result.stderr.contains(expected) && result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
  }

  /// A process's state letter from /proc (R, S, Z, …), nil when it no longer exists.
  func state(of pid: Int32) -> String? {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")")
    else { return nil }
    return stat[stat.index(after: close)...].split(separator: " ").first.map(String.init)
  }

  /// Process ids whose parent is `parent` (from /proc).
  func children(of parent: Int32) -> [Int32] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap { Int32($0) }.filter { pid in
      guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")") else { return false }
      let fields = stat[stat.index(after: close)...].split(separator: " ")
      return fields.count > 1 && Int32(fields[1]) == parent
    }
  }
}
