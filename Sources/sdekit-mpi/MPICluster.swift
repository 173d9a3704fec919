import CMPI
import Foundation
import sdekit

/// `Cluster` over MPI_COMM_WORLD. Counts the bytes this rank sends in collectives (not file
/// writes), printed at the end when SDEKIT_MPI_STATS is set, for the scaling benchmarks.
final class MPICluster: Cluster {
  let rank: Int
  let size: Int
  private let world = sdekit_mpi_comm_world()
  private var bytesSent = 0

  init() {
    var rank: Int32 = 0, size: Int32 = 0
    MPI_Comm_rank(world, &rank)
    MPI_Comm_size(world, &size)
    (self.rank, self.size) = (Int(rank), Int(size))
    // Errors come back as return codes, so a rank can say what failed before the job ends.
    MPI_Comm_set_errhandler(world, sdekit_mpi_errors_return())
  }

  func firstFailure(_ failed: Bool) -> Int? {
    var value = Int32(failed ? rank : size)
    bytesSent += 4
    check(MPI_Allreduce(sdekit_mpi_in_place(), &value, 1, sdekit_mpi_int(), sdekit_mpi_min(), world), "MPI_Allreduce")
    return Int(value) < size ? Int(value) : nil
  }

  func sum(_ values: [Double]) -> [Double] {
    var out = values
    bytesSent += 8 * values.count
    check(MPI_Allreduce(sdekit_mpi_in_place(), &out, Int32(values.count), sdekit_mpi_double(), sdekit_mpi_sum(), world),
          "MPI_Allreduce")
    return out
  }

  func gather(_ values: [Double]) -> [[Double]] {
    var count = Int32(values.count)
    var counts = [Int32](repeating: 0, count: rank == 0 ? size : 1)
    bytesSent += 4 + (rank == 0 ? 0 : 8 * values.count)
    check(MPI_Gather(&count, 1, sdekit_mpi_int(), &counts, 1, sdekit_mpi_int(), 0, world), "MPI_Gather")
    var displacements = [Int32](repeating: 0, count: counts.count)
    for r in counts.indices.dropFirst() { displacements[r] = displacements[r - 1] + counts[r - 1] }
    var all = [Double](repeating: 0, count: rank == 0 ? Int(counts.reduce(0, +)) : 1)
    var mine = values.isEmpty ? [0] : values
    check(MPI_Gatherv(&mine, count, sdekit_mpi_double(), &all, &counts, &displacements, sdekit_mpi_double(), 0, world),
          "MPI_Gatherv")
    guard rank == 0 else { return [] }
    return counts.indices.map { Array(all[Int(displacements[$0])..<Int(displacements[$0] + counts[$0])]) }
  }

  func broadcast(_ text: String) -> String {
    var bytes = Array(text.utf8)
    var length = Int32(bytes.count)
    if rank == 0 { bytesSent += 4 + bytes.count * (size - 1) }
    check(MPI_Bcast(&length, 1, sdekit_mpi_int(), 0, world), "MPI_Bcast")
    if rank != 0 { bytes = [UInt8](repeating: 0, count: Int(length)) }
    if length > 0 { check(MPI_Bcast(&bytes, length, sdekit_mpi_byte(), 0, world), "MPI_Bcast") }
    return String(decoding: bytes, as: UTF8.self)
  }

  func openShared(_ path: String) throws -> SharedFile {
    var handle: MPI_File?
    let code = MPI_File_open(world, path, sdekit_mpi_mode_create_write(), sdekit_mpi_info_null(), &handle)
    guard code == MPI_SUCCESS, let handle else { throw MPIError(code: code) }
    return MPISharedFile(handle: handle)
  }

  func abort(status: Int32) -> Never {
    MPI_Abort(world, status)
    exit(status)
  }

  func finish(status: Int32) -> Never {
    if ProcessInfo.processInfo.environment["SDEKIT_MPI_STATS"] != nil {
      FileHandle.standardError.write(Data("sdekit-mpi: rank \(rank) sent \(bytesSent) bytes in collectives\n".utf8))
    }
    MPI_Finalize()
    exit(status)
  }

  /// A failed collective cannot be recovered from: say which and end the job.
  private func check(_ code: Int32, _ call: String) {
    guard code != MPI_SUCCESS else { return }
    FileHandle.standardError.write(Data("sdekit-mpi: rank \(rank): \(call) failed: \(MPIError(code: code))\n".utf8))
    MPI_Abort(world, 1)
  }
}

/// A file opened by every rank with MPI-IO.
final class MPISharedFile: SharedFile {
  private var handle: MPI_File?

  init(handle: MPI_File) { self.handle = handle }

  func writeAll(_ data: Data, at offset: Int) throws {
    var status = MPI_Status()
    let code = data.withUnsafeBytes { raw in
      MPI_File_write_at_all(handle, MPI_Offset(offset), raw.baseAddress, Int32(raw.count), sdekit_mpi_byte(), &status)
    }
    try check(code, status, expected: data.count, offset: offset)
  }

  func write(_ data: Data, at offset: Int) throws {
    var status = MPI_Status()
    let code = data.withUnsafeBytes { raw in
      MPI_File_write_at(handle, MPI_Offset(offset), raw.baseAddress, Int32(raw.count), sdekit_mpi_byte(), &status)
    }
    try check(code, status, expected: data.count, offset: offset)
  }

  /// Open MPI's MPI-IO reports a full disk as a short write with MPI_SUCCESS: the count of
  /// bytes written is what tells.
  private func check(_ code: Int32, _ status: MPI_Status, expected: Int, offset: Int) throws {
    guard code == MPI_SUCCESS else { throw MPIError(code: code) }
    var status = status, written: Int32 = 0
    MPI_Get_count(&status, sdekit_mpi_byte(), &written)
    guard Int(written) == expected else { throw ShortWrite(written: Int(written), expected: expected, offset: offset) }
  }

  func sync() throws {
    let code = MPI_File_sync(handle)
    guard code == MPI_SUCCESS else { throw MPIError(code: code) }
  }

  /// Both calls are collective, so both are made whatever the sync returned (a rank that
  /// skipped MPI_File_close would leave the others waiting in it); the first failure is thrown.
  func close() throws {
    let synced = MPI_File_sync(handle)
    let closed = MPI_File_close(&handle)
    guard synced == MPI_SUCCESS else { throw MPIError(code: synced) }
    guard closed == MPI_SUCCESS else { throw MPIError(code: closed) }
  }
}

/// A write that stored fewer bytes than it was given (a full disk, a file-size limit).
struct ShortWrite: Error, CustomStringConvertible {
  let written: Int, expected: Int, offset: Int
  var description: String {
    "MPI-IO stored \(written) of \(expected) bytes at offset \(offset) (is the file system full?)"
  }
}

/// An MPI error code with MPI's text for it.
struct MPIError: Error, CustomStringConvertible {
  let code: Int32
  var description: String {
    var buffer = [CChar](repeating: 0, count: Int(MPI_MAX_ERROR_STRING) + 1)
    var length: Int32 = 0
    MPI_Error_string(code, &buffer, &length)
    return String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }
}
