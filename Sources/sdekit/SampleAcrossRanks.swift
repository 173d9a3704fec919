import ArgumentParser
import Foundation
import Samplers
import SampleFiles
import ScoreModels
import SDEKit

extension SampleCommand {
  /// Chunks of at most `valuesPerChunk` values covering `rows`.
  static func chunks(of rows: Range<Int>, dimension: Int) -> [Range<Int>] {
    let size = max(1, valuesPerChunk / dimension)
    return stride(from: rows.lowerBound, to: rows.upperBound, by: size).map { $0..<min(rows.upperBound, $0 + size) }
  }

  /// `sample` on every rank of an MPI job. Each rank samples a consecutive range of rows, chunk
  /// by chunk, and writes them with MPI-IO at their offset in one .npy under a temporary name
  /// (rank 0 writes the header), which rank 0 renames once every rank has closed it. In round k
  /// every rank samples and writes its k-th chunk; the ranks agree after each whether any failed.
  /// The metrics merge as `StreamingMetrics.init(merging:)`, evaluations and seconds are summed,
  /// and rank 0 prints the one report: the same file and numbers as one process (seconds aside,
  /// which add up each rank's sampling time).
  ///
  /// With --resume the temporary file is `.NAME.partial` and rank 0 keeps its sidecar: after
  /// every round is synced to the device, the rounds done and the evaluations and seconds so
  /// far. A run of the same configuration on as many ranks continues after those rounds.
  func runAcrossRanks(_ cluster: Cluster) throws {
    // Setup: every rank checks the run; one message if any rank refuses it.
    var setup: (configuration: SamplingConfiguration, target: GaussianMixture, initial: StateBatch?)?
    var setupError: Error?
    do {
      let (configuration, initial) = try plan(warn: cluster.rank == 0)
      let target = try source.referenceMixture() ?? configuration.target.mixture
      if configuration.sampler.descriptor.adaptive && configuration.mode == .batch {
        throw ValidationError("\(configuration.sampler) in --mode batch solves all samples as one system, which ranks cannot split; use --mode per-sample")
      }
      if let output {
        guard (format ?? SampleFileFormat(path: output) ?? .npy) == .npy else {
          throw ValidationError("-o \(output): sdekit-mpi writes .npy files (every rank writes its rows at a fixed offset, which .csv rows do not have)")
        }
      }
      try Preflight.check(output: cluster.rank == 0 ? output : nil, format: .npy, count: configuration.count,
                          dimension: target.dimension, resuming: resume)
      setup = (configuration, target, initial)
    } catch {
      setupError = error
    }
    cluster.stopIfAnyFailed(setup: setupError)
    let (configuration, target, initial) = setup!
    let d = target.dimension, count = configuration.count
    let header = NPYFile.header(count: count, dimension: d)
    let mine = cluster.rows(count: count)
    let chunks = Self.chunks(of: mine, dimension: d)
    let chunksPerRank = (0..<cluster.size).map { Self.chunks(of: RowSplit.rows(rank: $0, of: cluster.size, count: count), dimension: d) }
    let rounds = chunksPerRank.map(\.count).max()!

    // --resume: rank 0 holds the lock and the sidecar; every rank learns how far the run got.
    let identity = ResumeSidecar(run: configuration, format: .npy, dimension: d, reference: source.reference,
                                 ranks: cluster.size)
    var resumeState: ResumeState?
    var done = (rounds: 0, evaluations: 0, seconds: 0.0)
    if resume, let output {
      var failure: Error?
      var found = ""
      if cluster.rank == 0 {
        do {
          let state = try ResumeState(output: output)
          try state.lock()
          if let record = try state.load() {
            try record.checkSameRun(as: identity)
            let rounds = record.rounds ?? 0
            let needed = Self.promisedBytes(rounds: rounds, chunks: chunksPerRank, header: header.count, dimension: d)
            guard let length = state.partialLength, length >= needed else {
              throw CLIError("cannot resume \(output): \(state.partial.path) is shorter than its sidecar \(state.sidecar.path) records (\(needed) bytes); remove both to start afresh")
            }
            found = "\(rounds) \(record.evaluations) \(record.seconds)"
          } else {
            // A partial file without a sidecar holds nothing promised: start it afresh.
            guard truncate(state.partial.path, 0) == 0 else {
              throw CLIError("cannot write \(state.partial.path): \(String(cString: strerror(errno)))")
            }
            try state.save(identity)
          }
          resumeState = state
        } catch {
          failure = error
        }
      }
      cluster.stopIfAnyFailed(setup: failure)
      let fields = cluster.broadcast(found).split(separator: " ")
      if fields.count == 3, let rounds = Int(fields[0]), let evaluations = Int(fields[1]), let seconds = Double(fields[2]) {
        done = (rounds, evaluations, seconds)
      }
    }

    // The shared file: rank 0's temporary name, or the fixed partial name with --resume.
    var file: SharedFile?
    var shared: String?
    if let output {
      let name = cluster.broadcast(cluster.rank == 0 ? (resumeState?.partial.path ?? temporaryURL(for: output).path) : "")
      shared = name
      // Rank 0 speaks for every rank: mpirun sends SIGTERM to all of them.
      Interrupt.install(outputs: [output, plot, report].compactMap { $0 }, resumable: resume ? output : nil,
                        temporaries: resume ? [] : [name], quiet: cluster.rank != 0)
      var openError: Error?
      do { file = try cluster.openShared(name) } catch { openError = error }
      if openError != nil, cluster.rank == 0, resumeState == nil { unlink(name) }
      cluster.stopIfAnyFailed(openError, describe: { "cannot write \(output): \($0)" })
    } else {
      Interrupt.install(outputs: [plot, report].compactMap { $0 }, quiet: cluster.rank != 0)
    }
    // A failure ends the job with no file under the final name; with --resume the partial file
    // and its sidecar stay, to be continued.
    let describe: (String) -> String = { message in
      guard let output, let shared else { return message }
      return resume ? "cannot write \(output): \(message); the samples so far stay in \(shared) for --resume"
                    : "cannot write \(output): \(message); nothing was written under that name"
    }
    let cleanup = {
      if !resume, cluster.rank == 0, let shared { unlink(shared) }
    }

    var failure: Error?
    var metrics = StreamingMetrics(target: target, seed: configuration.seed, firstRow: mine.lowerBound)
    var plotted: [Double] = []
    var evaluations = 0, seconds = 0.0
    // The rows an interrupted run wrote are read back, for the metrics and the plot.
    var reader: ResumedRowsReader?
    do {
      if cluster.rank == 0 { try file?.write(header, at: 0) }
      if done.rounds > 0, !chunks.isEmpty, let shared {
        reader = try ResumedRowsReader(path: shared, format: .npy, dimension: d, start: header.count + mine.lowerBound * d * 8)
      }
    } catch {
      failure = error
    }
    for round in 0..<rounds {
      var body = Data(), offset = 0
      if failure == nil, round < chunks.count {
        let rows = chunks[round]
        do {
          if round < done.rounds {
            let samples = try reader!.next(rows: rows.count)
            try metrics.add(samples)
            if rows.lowerBound < Self.plottedSamples { plotted += samples.values.prefix((Self.plottedSamples - rows.lowerBound) * d) }
          } else {
            let result = try runSampler(configuration, rows: rows, initial: initial)
            try metrics.add(result.samples)
            if rows.lowerBound < Self.plottedSamples {
              plotted += result.samples.values.prefix((Self.plottedSamples - rows.lowerBound) * d)
            }
            evaluations += result.evaluations
            seconds += result.seconds
            body = NPYFile.body(result.samples)
            offset = header.count + rows.lowerBound * d * 8
          }
        } catch {
          failure = error
        }
      }
      // Nothing is written once any rank has failed.
      cluster.stopIfAnyFailed(failure, describe: describe, cleanup: cleanup)
      guard round >= done.rounds, let file else { continue }
      // Both calls are collective: a rank whose write fell short (a full disk) still syncs, or
      // the others would wait in MPI_File_sync for it; the failure is agreed on just after.
      do { try file.writeAll(body, at: offset) } catch { failure = error }
      if resume {
        do { try file.sync() } catch { failure = failure ?? error }
      }
      if resume {
        // Every rank's chunk of this round is on the device before the sidecar says so.
        cluster.stopIfAnyFailed(failure, describe: describe, cleanup: cleanup)
        let totals = cluster.sum([Double(evaluations), seconds])
        if let state = resumeState {
          var record = identity
          record.rounds = round + 1
          record.rows = chunksPerRank.reduce(0) { $0 + $1.prefix(round + 1).reduce(0) { $0 + $1.count } }
          record.bytes = Self.promisedBytes(rounds: round + 1, chunks: chunksPerRank, header: header.count, dimension: d)
          record.evaluations = done.evaluations + Int(totals[0])
          record.seconds = done.seconds + totals[1]
          do { try state.save(record) } catch { failure = error }
        }
      }
    }
    do { try file?.close() } catch { failure = failure ?? error }
    cluster.stopIfAnyFailed(failure, describe: describe, cleanup: cleanup)

    let totals = cluster.sum([Double(evaluations), seconds])
    let partials = cluster.gather(metrics.partial)
    let plots = cluster.gather(plotted)
    guard cluster.rank == 0 else { return }
    do {
      if let output, let shared {
        // Every rank's writes are checked; the length of the closed file is checked once more.
        let length = (try? FileManager.default.attributesOfItem(atPath: shared)[.size] as? Int) ?? nil
        let expected = header.count + count * d * 8
        guard length == expected else {
          throw CLIError("the file holds \(length.map(String.init) ?? "no") bytes of \(expected)")
        }
        guard rename(shared, output) == 0 else { throw CLIError(String(cString: strerror(errno))) }
        resumeState?.remove()
      }
    } catch {
      cleanup()
      cluster.stop(describe(SDEKitCommand.outcome(of: error).message))
    }
    do {
      let floor = slicedW2Floor(target: target, count: min(count, StreamingMetrics.slicedW2Count), seed: configuration.seed)
      let measured = try StreamingMetrics(target: target, seed: configuration.seed, merging: partials).finish(floor: floor)
      try publish(configuration, measured: measured, evaluations: done.evaluations + Int(totals[0]),
                  seconds: done.seconds + totals[1], plotted: plots.flatMap { $0 }, footer: "\(cluster.size) ranks")
    } catch {
      cluster.stop(SDEKitCommand.outcome(of: error).message)
    }
  }

  /// The bytes of the partial file that `rounds` complete rounds promise: up to the end of the
  /// furthest chunk written.
  static func promisedBytes(rounds: Int, chunks: [[Range<Int>]], header: Int, dimension: Int) -> Int {
    let end = chunks.map { $0.prefix(rounds).last?.upperBound ?? 0 }.max() ?? 0
    return header + end * dimension * 8
  }
}
