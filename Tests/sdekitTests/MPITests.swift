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

  @Test("A rank killed mid-run: every rank exits non-zero within seconds with one message, and no file is left")
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
    kill(ranks.first { worldRank(of: $0) == 1 } ?? ranks.max()!, SIGKILL)
    process.waitUntilExit()
    let seconds = Date().timeIntervalSince(killed)
    print("a rank killed: mpirun exited with \(process.terminationStatus) after \(String(format: "%.2f", seconds)) s")
    #expect(process.terminationStatus != 0 && seconds < 5)
    // The killed rank says nothing; rank 0, stopped by mpirun, says why the job ended.
    let stderr = String(decoding: (process.standardError as! Pipe).fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    #expect(stderr.split(separator: "\n").count == 1 && stderr.contains("stopped by mpirun"), "\(stderr)")
    // mpirun has returned; its ranks are gone or zombies waiting to be reaped.
    #expect(ranks.allSatisfy { state(of: $0).map { $0 == "Z" } ?? true }, "a rank outlived mpirun")
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
  }

  @Test("Bad input: one line from one rank, non-zero exit, nothing written", arguments: [
    (["sample", "--steps", "0"], "steps must be at least 1"),
    (["sample", "--sampler", "ode-dopri5"], "--mode per-sample"),
    (["sample", "--count", "10", "-o", "x.csv"], "writes .npy files"),
    (["compare", "--samplers", "ddim,ode-dopri5"], "--mode per-sample"),
    (["compare", "--steps", "0"], "--steps"),
    (["convergence", "--problem", "linear-ode", "--solver", "rk4"], "one solution"),
    (["convergence", "--tolerances", "1e-3"], "--tolerances applies to tolerance studies"),
    (["convergence", "--solver", "sriw1", "--adaptive"], "an --adaptive study is not split"),
    (["list", "samplers"], "run the others with sdekit"),
  ])
  func badInput(arguments: [String], expected: String) throws {
    guard let mpirun = Self.available() else { return }
    let result = try run(mpirun, Self.mpiArguments(ranks: 2) + arguments)
    #expect(result.status != 0 && result.stdout.isEmpty)
    #expect(result.stderr.contains(expected) && result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
  }

  @Test("--config from another SDEKit version: one warning for the whole job, not one per rank")
  func configWarningOnce() throws {
    guard let mpirun = Self.available() else { return }
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sdekit-mpi-config-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let report = folder.appendingPathComponent("run.json").path
    let one = try CLITests().sdekit(["sample", "--count", "100", "--steps", "5", "--report", report])
    #expect(one.status == 0, "\(one.stderr)")
    var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any])
    object["version"] = "0.1.0"
    try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: report))
    let split = try run(mpirun, Self.mpiArguments(ranks: 2) + ["sample", "--config", report, "--threads", "1"])
    #expect(split.status == 0, "\(split.stderr)")
    #expect(split.stderr.split(separator: "\n").count == 1 && split.stderr.contains("written by SDEKit 0.1.0"), "\(split.stderr)")
  }

  /// The printed JSON (an object, or an array of rows) without the seconds, which differ
  /// between any two runs.
  static func withoutSeconds(_ json: String) throws -> String {
    func strip(_ value: Any) -> Any {
      if let object = value as? [String: Any] { return object.filter { $0.key != "seconds" }.mapValues(strip) }
      if let array = value as? [Any] { return array.map(strip) }
      return value
    }
    let value = try JSONSerialization.jsonObject(with: Data(json.utf8))
    return String(decoding: try JSONSerialization.data(withJSONObject: strip(value), options: [.sortedKeys]), as: UTF8.self)
  }

  @Test("compare at 2 and 3 ranks prints the JSON numbers of one process (SDE, DDIM, fixed-step and per-sample adaptive flows)")
  func compareSameNumbers() throws {
    guard let mpirun = Self.available() else { return }
    // 4,097 rows are two blocks of 4,096 rows and one row: 2 ranks take 4,096 and 1, 3 ranks
    // none (rank 0, which prints), 4,096 and 1. ode-heun's reference (dopri5 at 1e-10) is solved
    // block by block, ode-dopri5 per sample; euler-maruyama's is SRA1 on 2^12 steps of the path.
    let arguments = ["compare", "--samplers", "euler-maruyama,ddim,ode-heun,ode-dopri5", "--steps", "4,8",
                     "--tolerances", "1e-3", "--mode", "per-sample", "--count", "4097", "--seed", "3",
                     "--threads", "1", "--format", "json"]
    let one = try CLITests().sdekit(arguments)
    #expect(one.status == 0, "\(one.stderr)")
    let rows = try #require(try JSONSerialization.jsonObject(with: Data(one.stdout.utf8)) as? [[String: Any]])
    #expect(rows.count == 7)
    for ranks in [2, 3] {
      let split = try run(mpirun, Self.mpiArguments(ranks: ranks) + arguments)
      #expect(split.status == 0 && split.stderr.isEmpty, "\(ranks) ranks: \(split.stderr)")
      #expect(try Self.withoutSeconds(split.stdout) == Self.withoutSeconds(one.stdout), "\(ranks) ranks")
    }
  }

  @Test("convergence at 2 and 3 ranks prints the JSON numbers of one process", arguments: [
    ["--problem", "gbm", "--solver", "milstein"],  // against the exact solution from W(T)
    ["--problem", "double-well", "--solver", "euler-maruyama"],  // against a reference solve on the path
    ["--problem", "ou", "--solver", "euler-maruyama", "--weak"],  // against the exact mean
  ])
  func convergenceSameNumbers(problem: [String]) throws {
    guard let mpirun = Self.available() else { return }
    // 12,289 paths: 3 blocks of 4,096 and one path; 2 ranks take 8,192 and 4,097, 3 ranks
    // 4,096, 4,096 and 4,097.
    let arguments = ["convergence"] + problem + ["--paths", "12289", "--levels", "2...6", "--seed", "4", "--threads", "1", "--json"]
    let one = try CLITests().sdekit(arguments)
    #expect(one.status == 0, "\(one.stderr)")
    for ranks in [2, 3] {
      let split = try run(mpirun, Self.mpiArguments(ranks: ranks) + arguments)
      #expect(split.status == 0 && split.stderr.isEmpty, "\(ranks) ranks: \(split.stderr)")
      #expect(try Self.withoutSeconds(split.stdout) == Self.withoutSeconds(one.stdout), "\(ranks) ranks")
    }
  }

  @Test("--resume at 2 ranks after every rank is SIGKILLed mid-run: one process's bytes and numbers; other ranks refused")
  func resume() throws {
    guard let mpirun = Self.available() else { return }
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sdekit-mpi-resume-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    // 98,304 gmm64d16 rows: 3 chunks of 16,384 rows (2²⁰ values) per rank at 2 ranks, so the
    // run is killed after one or two of its three rounds.
    let sampling = ["sample", "--target", "gmm64d16", "--count", "98304", "--steps", "20", "--seed", "5", "--threads", "1"]
    let reference = folder.appendingPathComponent("one.npy").path, output = folder.appendingPathComponent("resumed.npy").path
    let one = try CLITests().sdekit(sampling + ["-o", reference, "--report", reference + ".json"])
    #expect(one.status == 0, "\(one.stderr)")
    let resumed = sampling + ["-o", output, "--report", output + ".json", "--resume"]
    let process = Process()
    process.executableURL = URL(fileURLWithPath: mpirun)
    process.arguments = Self.mpiArguments(ranks: 2) + resumed
    process.standardOutput = Pipe()
    process.standardError = Pipe()
    try process.run()
    // Kill every rank (a machine lost) a random 0–80 ms after the sidecar records the first round.
    let sidecar = folder.appendingPathComponent(".resumed.npy.partial.resume").path
    let start = Date()
    while (ResumeTests.rowsDone(sidecar) ?? 0) == 0 && process.isRunning && Date().timeIntervalSince(start) < 60 {
      Thread.sleep(forTimeInterval: 0.002)
    }
    var generator = SystemRandomNumberGenerator()
    let delay = Double.random(in: 0..<0.08, using: &generator)
    Thread.sleep(forTimeInterval: delay)
    let ranks = children(of: process.processIdentifier)
    for rank in ranks { kill(rank, SIGKILL) }
    process.waitUntilExit()
    let recorded = ResumeTests.rowsDone(sidecar) ?? 0
    print("every rank killed \(String(format: "%.0f", delay * 1000)) ms after the first round was recorded; the sidecar records \(recorded) rows")
    #expect(ranks.count == 2 && process.terminationStatus != 0)
    #expect(recorded > 0 && recorded < 98_304 && recorded % 32_768 == 0, "\(recorded)")
    #expect(!FileManager.default.fileExists(atPath: output))
    // Another number of ranks would split the rows otherwise: refused, naming it.
    let three = try run(mpirun, Self.mpiArguments(ranks: 3) + resumed)
    #expect(three.status == 64 && three.stderr.contains("ranks: 2 there, 3 here"), "\(three.stderr)")
    let finished = try run(mpirun, Self.mpiArguments(ranks: 2) + resumed)
    #expect(finished.status == 0, "\(finished.stderr)")
    #expect(try Data(contentsOf: URL(fileURLWithPath: output)) == Data(contentsOf: URL(fileURLWithPath: reference)))
    #expect(try ResumeTests.numbers(output + ".json") == ResumeTests.numbers(reference + ".json"))
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
            == ["one.npy", "one.npy.json", "resumed.npy", "resumed.npy.json"])
  }

  @Test("SIGINT to mpirun: one message, a non-zero exit, no file")
  func interrupted() throws {
    guard let mpirun = Self.available() else { return }
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sdekit-mpi-int-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let output = folder.appendingPathComponent("s.npy").path
    let errors = folder.appendingPathComponent("stderr.txt").path
    let mpirunProcess = try spawnWithSignals(mpirun, Self.mpiArguments(ranks: 2)
      + ["sample", "--count", "200000", "--steps", "100000", "--threads", "1", "-o", output, "--plot", output + ".svg"],
      standardError: errors)
    let start = Date()
    while (try FileManager.default.contentsOfDirectory(atPath: folder.path)).count < 2 && Date().timeIntervalSince(start) < 30 {
      Thread.sleep(forTimeInterval: 0.05)
    }
    Thread.sleep(forTimeInterval: 0.5)
    let interrupted = Date()
    kill(mpirunProcess, SIGINT)
    var status: Int32 = 0
    waitpid(mpirunProcess, &status, 0)
    print("SIGINT to mpirun: it exited with \(status >> 8) after \(String(format: "%.2f", Date().timeIntervalSince(interrupted))) s")
    let stderr = try String(contentsOfFile: errors, encoding: .utf8)
    try FileManager.default.removeItem(atPath: errors)
    #expect(status != 0)
    #expect(stderr.split(separator: "\n").count == 1 && stderr.contains("stopped by mpirun") && stderr.contains("not written: \(output), \(output).svg"),
            "\(stderr)")
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
  }

  @Test("A disk filled mid-run (a 2 MB tmpfs, as root): one message from one rank, status 1, nothing left but the filler")
  func fullDisk() throws {
    guard let mpirun = Self.available(), let disk = SmallFileSystem(megabytes: 2) else { return }
    // 1.6 MB fits when the run starts; a 1.9 MB file written while the ranks sample fills the
    // disk before their rows arrive (1,000 steps of 50,000 rows a rank take about a second), so
    // both ranks' writes fail and the lower rank alone reports it.
    let process = Process()
    process.executableURL = URL(fileURLWithPath: mpirun)
    process.arguments = Self.mpiArguments(ranks: 2)
      + ["sample", "--count", "100000", "--steps", "1000", "--threads", "1", "-o", disk.path + "/samples.npy"]
    let err = Pipe()
    process.standardOutput = Pipe()
    process.standardError = err
    try process.run()
    let started = Date()
    while !disk.contents.contains(where: { $0.hasPrefix(".samples.npy.partial") }) && Date().timeIntervalSince(started) < 30 {
      Thread.sleep(forTimeInterval: 0.01)
    }
    try Data(count: 1_900_000).write(to: URL(fileURLWithPath: disk.path + "/filler"))
    process.waitUntilExit()
    let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    #expect(process.terminationStatus == 1)
    // Open MPI's I/O layer may add its own line when a write stores nothing at all
    // ("mca_fbtl_posix_pwritev: error in (p)write(v):No space left on device").
    let lines = stderr.split(separator: "\n")
    let ours = lines.filter { $0.hasPrefix("sdekit-mpi") }
    #expect(ours.count == 1 && lines.allSatisfy { $0.hasPrefix("sdekit-mpi") || $0.hasPrefix("mca_fbtl") }, "\(stderr)")
    #expect(ours.first?.hasPrefix("sdekit-mpi: rank 0: cannot write \(disk.path)/samples.npy") == true
            && stderr.contains("nothing was written under that name"), "\(stderr)")
    #expect(disk.contents == ["filler"])
  }

  @Test("--resume with one rank's write cut short (a file-size limit on rank 1): that rank says so, status 1, no rank left waiting in MPI_File_sync")
  func oneRankShortWrite() throws {
    guard let mpirun = Self.available() else { return }
    guard FileManager.default.isExecutableFile(atPath: "/usr/bin/prlimit") else {
      print("skipped: prlimit (util-linux) is not installed; the one-rank short write did not run")
      return
    }
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sdekit-mpi-short-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    // Rank 1's rows start at byte 786,560, past its 500,000-byte limit (SIGXFSZ ignored, so the
    // write fails with EFBIG); fcoll individual has each rank write its own rows, so rank 0's
    // write succeeds and it goes on to the collective sync.
    let output = folder.appendingPathComponent("s.npy").path
    let sampling = ["sample", "--count", "100000", "--steps", "10", "--threads", "1", "-o", output, "--resume"]
    let process = Process()
    process.executableURL = URL(fileURLWithPath: mpirun)
    process.arguments = ["--allow-run-as-root", "--oversubscribe", "-q", "--mca", "fcoll", "individual",
                         "-np", "1", Self.mpiExecutable.path] + sampling
      + [":", "-np", "1", "/bin/sh", "-c", #"trap "" XFSZ; exec /usr/bin/prlimit --fsize=500000 "$0" "$@""#, Self.mpiExecutable.path] + sampling
    let err = Pipe()
    process.standardOutput = Pipe()
    process.standardError = err
    try process.run()
    let started = Date()
    while process.isRunning && Date().timeIntervalSince(started) < 30 { Thread.sleep(forTimeInterval: 0.05) }
    let hung = process.isRunning
    if hung {
      // mpirun inherits the test runner's blocked signals and would not see SIGTERM: kill all.
      for rank in children(of: process.processIdentifier) { kill(rank, SIGKILL) }
      kill(process.processIdentifier, SIGKILL)
    }
    process.waitUntilExit()
    let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    #expect(!hung, "the job still ran after 30 s: \(stderr)")
    #expect(process.terminationStatus == 1)
    let ours = stderr.split(separator: "\n").filter { $0.hasPrefix("sdekit-mpi") }
    #expect(ours.count == 1 && ours[0].hasPrefix("sdekit-mpi: rank 1: cannot write \(output): MPI-IO stored 0 of")
            && ours[0].hasSuffix("for --resume"), "\(stderr)")
    #expect(!FileManager.default.fileExists(atPath: output))
  }

  /// A process's state letter from /proc (R, S, Z, …), nil when it no longer exists.
  func state(of pid: Int32) -> String? {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")")
    else { return nil }
    return stat[stat.index(after: close)...].split(separator: " ").first.map(String.init)
  }

  /// Starts `path` with every signal unblocked and stderr to the file `standardError`; returns
  /// its process id. (The threads tests run on block most signals, a child inherits that mask,
  /// and mpirun would never see the SIGINT sent to it.)
  func spawnWithSignals(_ path: String, _ arguments: [String], standardError: String) throws -> pid_t {
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var none = sigset_t()
    sigemptyset(&none)
    posix_spawnattr_setsigmask(&attributes, &none)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 2, standardError, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    let argv = ([path] + arguments).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var pid: pid_t = 0
    let code = posix_spawn(&pid, path, &actions, &attributes, argv, environ)
    guard code == 0 else { throw CocoaError(.executableLoad) }
    return pid
  }

  /// A rank's MPI_COMM_WORLD rank, from the environment mpirun gave it.
  func worldRank(of pid: Int32) -> Int? {
    guard let environment = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { return nil }
    let prefix = "OMPI_COMM_WORLD_RANK="
    return environment.split(separator: 0).lazy.map { String(decoding: $0, as: UTF8.self) }
      .first { $0.hasPrefix(prefix) }.flatMap { Int($0.dropFirst(prefix.count)) }
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
