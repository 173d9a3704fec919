import ArgumentParser
import Foundation
import Samplers
import SampleFiles
import SDEKit

/// A samples file written as chunks arrive: the header first (the row count is known), then each
/// chunk's rows, renamed into place by `commit`.
///
/// With --resume the temporary file has a fixed name beside the output (`.NAME.partial`) and a
/// sidecar (`ResumeSidecar`) records, after every chunk, how many rows are complete. A run of
/// the same configuration that finds them continues after those rows; the finished file is the
/// same bytes as a run never stopped.
final class SampleStream {
  let format: SampleFileFormat
  private let file: OutputFile
  private let resume: ResumeState?
  /// Rows already in the file from an earlier, interrupted run (0 when starting afresh).
  let resumedRows: Int
  /// The earlier run's score evaluations (summed over rows) and sampling seconds.
  let resumedEvaluations: Int
  let resumedSeconds: Double
  /// Reads back the resumed rows, chunk by chunk, for the metrics and the plot.
  private var reader: ResumedRowsReader?

  init(path: String, format: SampleFileFormat, count: Int, dimension: Int, resuming identity: ResumeSidecar? = nil) throws {
    self.format = format
    let header = format == .npy ? NPYFile.header(count: count, dimension: dimension) : CSVFile.header(dimension: dimension)
    guard let identity else {
      file = try OutputFile(path: path)
      try file.write(header)
      (resume, resumedRows, resumedEvaluations, resumedSeconds, reader) = (nil, 0, 0, 0, nil)
      return
    }
    let state = try ResumeState(output: path)
    try state.lock()
    if let found = try state.load() {
      try found.checkSameRun(as: identity)
      guard found.bytes >= header.count, let length = state.partialLength, length >= found.bytes else {
        throw CLIError("cannot resume \(path): \(state.partial.path) is shorter than its sidecar \(state.sidecar.path) records (\(found.bytes) bytes); remove both to start afresh")
      }
      file = try OutputFile(resuming: path, temporary: state.partial, length: found.bytes)
      (resumedRows, resumedEvaluations, resumedSeconds) = (found.rows, found.evaluations, found.seconds)
      reader = try ResumedRowsReader(path: state.partial.path, format: format, dimension: dimension, start: header.count)
    } else {
      file = try OutputFile(path: path, temporary: state.partial, keepsTemporary: true)
      try file.write(header)
      (resumedRows, resumedEvaluations, resumedSeconds, reader) = (0, 0, 0, nil)
    }
    resume = state
    var record = identity
    (record.rows, record.bytes, record.evaluations, record.seconds) = (resumedRows, file.length, resumedEvaluations, resumedSeconds)
    try file.sync()
    try state.save(record)
  }

  /// The rows of `rows` when an earlier run already wrote them, read back from the file; nil for
  /// rows still to be sampled. Chunks must be asked for in order.
  func resumed(_ rows: Range<Int>) throws -> StateBatch? {
    guard rows.upperBound <= resumedRows, let reader else { return nil }
    return try reader.next(rows: rows.count)
  }

  /// Appends a chunk. With --resume the data is flushed to the device and then the sidecar
  /// records the rows done, the evaluations and the seconds so far (cumulative).
  func append(_ chunk: StateBatch, rowsDone: Int, evaluations: Int, seconds: Double) throws {
    try file.write(format == .npy ? NPYFile.body(chunk) : CSVFile.body(chunk))
    guard let resume else { return }
    try file.sync()
    guard var record = try resume.load() else { throw CLIError("cannot resume: \(resume.sidecar.path) disappeared") }
    (record.rows, record.bytes, record.evaluations, record.seconds) = (rowsDone, file.length, evaluations, seconds)
    try resume.save(record)
  }

  func commit() throws {
    try file.commit()
    resume?.remove()
  }
}

/// What a --resume run records beside its temporary file: the run's identity (everything that
/// decides the samples' bytes) and how far it got.
struct ResumeSidecar: Codable, Equatable {
  var version: String
  var configuration: SamplingConfiguration
  var format: String
  var dimension: Int
  /// The --reference data set the metrics use, if any.
  var reference: String?
  /// Rows complete and the file's length after them.
  var rows = 0
  var bytes = 0
  /// Score evaluations summed over the rows done, and the sampling seconds they took.
  var evaluations = 0
  var seconds = 0.0
  /// Under sdekit-mpi: the ranks, which decide each one's rows (nil for one process), and the
  /// rounds complete — in round k every rank writes its k-th chunk.
  var ranks: Int?
  var rounds: Int?

  /// Throws naming every field in which `run` differs from the run this sidecar recorded.
  /// Threads do not change the samples, so a resumed run may use another count.
  func checkSameRun(as run: ResumeSidecar) throws {
    func fields(_ record: ResumeSidecar) throws -> [String: String] {
      var copy = record
      (copy.rows, copy.bytes, copy.evaluations, copy.seconds, copy.rounds) = (0, 0, 0, 0, nil)
      copy.configuration.threads = nil
      let data = try jsonString(copy)
      let object = try JSONSerialization.jsonObject(with: Data(data.utf8)) as? [String: Any] ?? [:]
      var flat: [String: String] = [:]
      func flatten(_ value: Any, _ name: String) {
        if let dictionary = value as? [String: Any] {
          for (key, inner) in dictionary { flatten(inner, name.isEmpty ? key : name + "." + key) }
        } else {
          flat[name] = "\(value)"
        }
      }
      flatten(object, "")
      return flat
    }
    let recorded = try fields(self), wanted = try fields(run)
    let differences = Set(recorded.keys).union(wanted.keys).sorted().filter { recorded[$0] != wanted[$0] }
    guard !differences.isEmpty else { return }
    let list = differences.map { "\($0): \(recorded[$0] ?? "absent") there, \(wanted[$0] ?? "absent") here" }
    throw ValidationError("--resume: the interrupted run was a different configuration (\(list.joined(separator: "; "))); run it with the same options, or remove its files to start afresh")
  }
}

/// The files of a resumable output: `.NAME.partial` beside it and its sidecar
/// `.NAME.partial.resume`, saved by write, fsync and rename so it is never half-written.
struct ResumeState {
  let output: String
  let partial: URL
  let sidecar: URL
  private let folder: String

  init(output: String) throws {
    self.output = output
    let url = URL(fileURLWithPath: output)
    folder = url.deletingLastPathComponent().path
    partial = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).partial")
    sidecar = URL(fileURLWithPath: partial.path + ".resume")
  }

  /// The length of the partial file, nil when there is none.
  var partialLength: Int? {
    (try? FileManager.default.attributesOfItem(atPath: partial.path)[.size] as? Int) ?? nil
  }

  /// The recorded state; nil when there is nothing to resume (no sidecar, or no partial file).
  func load() throws -> ResumeSidecar? {
    guard FileManager.default.fileExists(atPath: sidecar.path), partialLength != nil else { return nil }
    guard let data = FileManager.default.contents(atPath: sidecar.path),
          let record = try? JSONDecoder.snakeCase.decode(ResumeSidecar.self, from: data) else {
      throw CLIError("cannot resume \(output): \(sidecar.path) is not a sidecar this version can read; remove it and \(partial.path) to start afresh")
    }
    return record
  }

  func save(_ record: ResumeSidecar) throws {
    let next = sidecar.path + ".new"
    let data = Data(try jsonString(record).utf8)
    let fd = open(next, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o666)
    guard fd >= 0 else { throw CLIError("cannot write \(next): \(String(cString: strerror(errno)))") }
    let written = data.withUnsafeBytes { write(fd, $0.baseAddress!, $0.count) }
    let synced = fsync(fd) == 0
    close(fd)
    guard written == data.count, synced, rename(next, sidecar.path) == 0 else {
      let reason = String(cString: strerror(errno))
      unlink(next)
      throw CLIError("cannot write \(sidecar.path): \(reason)")
    }
    // The rename is durable once the folder is flushed too.
    let directory = open(folder, O_RDONLY | O_CLOEXEC)
    if directory >= 0 {
      fsync(directory)
      close(directory)
    }
  }

  /// Holds an exclusive lock on the partial file (created empty if absent) for the life of the
  /// process, so two runs never write one file.
  func lock() throws {
    let fd = open(partial.path, O_RDONLY | O_CREAT | O_CLOEXEC, 0o666)
    guard fd >= 0, flock(fd, LOCK_EX | LOCK_NB) == 0 else {
      throw CLIError("cannot resume \(output): another sdekit is writing \(partial.path)")
    }
    // Deliberately left open: the lock lasts until the process ends.
  }

  func remove() {
    unlink(sidecar.path)
  }
}

/// Rows of an earlier run read back from its partial file, in order.
final class ResumedRowsReader {
  private let handle: FileHandle
  private let format: SampleFileFormat
  private let dimension: Int
  /// .csv text read but not yet used.
  private var pending = Data()

  init(path: String, format: SampleFileFormat, dimension: Int, start: Int) throws {
    guard let handle = FileHandle(forReadingAtPath: path) else { throw CLIError("cannot read \(path)") }
    try handle.seek(toOffset: UInt64(start))
    self.handle = handle
    self.format = format
    self.dimension = dimension
  }

  func next(rows: Int) throws -> StateBatch {
    switch format {
    case .npy:
      let bytes = rows * dimension * 8
      guard let data = try handle.read(upToCount: bytes), data.count == bytes else {
        throw CLIError("cannot resume: the partial file ends inside the rows its sidecar records")
      }
      return try NPYFile.decode(NPYFile.header(count: rows, dimension: dimension) + data)
    case .csv:
      var lines = 0, end = pending.startIndex
      while lines < rows {
        if let newline = pending[end...].firstIndex(of: 0x0A) {
          lines += 1
          end = newline + 1
        } else {
          guard let more = try handle.read(upToCount: 1 << 20), !more.isEmpty else {
            throw CLIError("cannot resume: the partial file ends inside the rows its sidecar records")
          }
          let offset = end - pending.startIndex
          pending = Data(pending) + more
          end = pending.startIndex + offset
        }
      }
      let text = pending[pending.startIndex..<end]
      pending = Data(pending[end...])
      let batch = try CSVFile.decode(CSVFile.header(dimension: dimension) + text)
      guard batch.count == rows, batch.dimension == dimension else {
        throw CLIError("cannot resume: the partial file's rows do not match its sidecar")
      }
      return batch
    }
  }
}

extension JSONDecoder {
  /// Reads what `jsonString` writes.
  static var snakeCase: JSONDecoder {
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    return decoder
  }
}

extension ResumeSidecar {
  /// The identity of a run about to start (`ranks` under sdekit-mpi).
  init(run configuration: SamplingConfiguration, format: SampleFileFormat, dimension: Int, reference: String?,
       ranks: Int? = nil) {
    self.init(version: sdekitVersion, configuration: configuration, format: format.rawValue, dimension: dimension,
              reference: reference, ranks: ranks)
  }
}
