import Foundation
import Testing

/// A small tmpfs for the length of a test, or nil (with the reason printed) when this process
/// may not mount one (not root, or a container without CAP_SYS_ADMIN).
final class SmallFileSystem {
  let path: String

  init?(megabytes: Int) {
    guard getuid() == 0 else {
      print("skipped: mounting a \(megabytes) MB tmpfs needs root; the full-disk checks did not run")
      return nil
    }
    path = FileManager.default.temporaryDirectory.appendingPathComponent("sdekit-tmpfs-\(UUID().uuidString)").path
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    let mount = Process()
    mount.executableURL = URL(fileURLWithPath: "/bin/mount")
    mount.arguments = ["-t", "tmpfs", "-o", "size=\(megabytes)m", "tmpfs", path]
    mount.standardError = Pipe()
    guard (try? mount.run()) != nil else { return nil }
    mount.waitUntilExit()
    guard mount.terminationStatus == 0 else {
      print("skipped: mount -t tmpfs failed (no CAP_SYS_ADMIN?); the full-disk checks did not run")
      try? FileManager.default.removeItem(atPath: path)
      return nil
    }
  }

  deinit {
    let umount = Process()
    umount.executableURL = URL(fileURLWithPath: "/bin/umount")
    umount.arguments = [path]
    try? umount.run()
    umount.waitUntilExit()
    try? FileManager.default.removeItem(atPath: path)
  }

  var contents: [String] { ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted() }
}

@Suite("Pre-flight: runs that cannot finish are refused before sampling; a full disk leaves nothing behind")
struct PreflightTests {
  func sdekit(_ arguments: [String]) throws -> CLITests.Run { try CLITests().sdekit(arguments) }

  @Test("--count × d overflowing a file size is refused with both numbers, before anything is written")
  func overflow() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sdekit-overflow-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    // 10¹⁸ two-dimensional samples are 1.6·10¹⁹ bytes, past 2⁶³ − 1.
    let run = try sdekit(["sample", "--count", "1000000000000000000", "-o", folder.appendingPathComponent("x.npy").path])
    #expect(run.status == 64 && run.stderr.contains("--count 1000000000000000000 × d = 2") && run.stderr.contains("overflows"),
            "\(run.stderr)")
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
  }

  @Test("On a 2 MB tmpfs: a 3.2 MB .npy is refused up front; a disk filled mid-run ends with ENOSPC and no file")
  func fullDisk() throws {
    guard let disk = SmallFileSystem(megabytes: 2) else { return }
    // 200,000 × 2 × 8 bytes + the 128-byte header = 3,200,128 bytes against 2 MiB free.
    let refused = try sdekit(["sample", "--count", "200000", "--steps", "10", "-o", disk.path + "/big.npy"])
    #expect(refused.status == 1 && refused.stderr.contains("needs 3200128 bytes") && refused.stderr.contains("has 2097152 bytes"),
            "\(refused.stderr)")
    #expect(disk.contents.isEmpty)
    // 1.6 MB fits when the run starts; a 1 MB file written while it samples fills the disk
    // before its samples arrive (1,000 steps on one thread take about a second, the filler moments).
    let process = Process()
    process.executableURL = CLITests.executable
    process.arguments = ["sample", "--count", "100000", "--steps", "1000", "--threads", "1", "-o", disk.path + "/samples.npy"]
    let err = Pipe()
    process.standardError = err
    process.standardOutput = Pipe()
    try process.run()
    let started = Date()
    while !disk.contents.contains(where: { $0.hasPrefix(".samples.npy.partial") }) && Date().timeIntervalSince(started) < 10 {
      Thread.sleep(forTimeInterval: 0.01)
    }
    try Data(count: 1_000_000).write(to: URL(fileURLWithPath: disk.path + "/filler"))
    process.waitUntilExit()
    let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    #expect(process.terminationStatus == 1)
    #expect(stderr.contains("cannot write \(disk.path)/samples.npy: No space left on device") && stderr.contains("nothing was written"),
            "\(stderr)")
    #expect(stderr.split(separator: "\n").count == 1)
    #expect(disk.contents == ["filler"])
  }

  @Test("--resume after a full disk (a 20 MiB tmpfs, as root) asks for the space of the rows still to write, not of the whole file")
  func resumeAfterFullDisk() throws {
    guard let disk = SmallFileSystem(megabytes: 20) else { return }
    // Two chunks of 16,384 gmm64d16 rows (8 MiB each): 16,777,344 bytes with the header.
    let run = ["sample", "--target", "gmm64d16", "--count", "32768", "--steps", "100", "--threads", "1",
               "-o", disk.path + "/s.npy", "--resume"]
    let process = Process()
    process.executableURL = CLITests.executable
    process.arguments = run
    let err = Pipe()
    process.standardError = err
    process.standardOutput = Pipe()
    try process.run()
    // Once the first chunk is recorded, 11 MiB of other data leave about 1 MB for the second.
    let sidecar = disk.path + "/.s.npy.partial.resume"
    let started = Date()
    while (ResumeTests.rowsDone(sidecar) ?? 0) < 16_384 && process.isRunning && Date().timeIntervalSince(started) < 60 {
      Thread.sleep(forTimeInterval: 0.002)
    }
    try Data(count: 11 << 20).write(to: URL(fileURLWithPath: disk.path + "/filler"))
    process.waitUntilExit()
    let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    #expect(process.terminationStatus == 1 && stderr.contains("No space left on device") && stderr.contains("for --resume"),
            "\(stderr)")
    #expect(ResumeTests.rowsDone(sidecar) == 16_384)
    // Some space freed, less than the whole file needs: 18.97 MiB minus the partial file's 8–9 MB are free.
    try FileManager.default.removeItem(atPath: disk.path + "/filler")
    try Data(count: 2_000_000).write(to: URL(fileURLWithPath: disk.path + "/filler"))
    let resumed = try sdekit(run)
    #expect(resumed.status == 0, "\(resumed.stderr)")
    #expect(disk.contents == ["filler", "s.npy"])
    let size = try FileManager.default.attributesOfItem(atPath: disk.path + "/s.npy")[.size] as? Int
    #expect(size == 16_777_344)
  }
}
