import ArgumentParser
import Foundation
import Samplers
import SampleFiles
import ScoreModels
import SDEKit

extension SampleCommand {
  /// The rows of rank `rank` of `size`: consecutive ranges that start at multiples of
  /// `StreamingMetrics.blockRows` (so the merged metrics are one process's bits), as even as
  /// whole blocks allow. A rank may get none.
  static func rows(rank: Int, of size: Int, count: Int) -> Range<Int> {
    let block = StreamingMetrics.blockRows
    let blocks = count / block + (count % block == 0 ? 0 : 1)
    let first = blocks * rank / size, last = blocks * (rank + 1) / size
    return min(count, first * block)..<min(count, last * block)
  }

  /// Chunks of at most `valuesPerChunk` values covering `rows`.
  static func chunks(of rows: Range<Int>, dimension: Int) -> [Range<Int>] {
    let size = max(1, valuesPerChunk / dimension)
    return stride(from: rows.lowerBound, to: rows.upperBound, by: size).map { $0..<min(rows.upperBound, $0 + size) }
  }

  /// `sample` on every rank of an MPI job. Each rank samples a consecutive range of rows and
  /// writes them with MPI-IO at their offset in one .npy under a temporary name (rank 0 writes
  /// the header), which rank 0 renames once every rank has closed it. The metrics merge as
  /// `StreamingMetrics.init(merging:)`, evaluations and seconds are summed, and rank 0 prints
  /// the one report: the same file and numbers as one process (seconds aside, which add up
  /// each rank's sampling time).
  func runAcrossRanks(_ cluster: Cluster) throws {
    // Setup: every rank checks the run; one message if any rank refuses it.
    var setup: (configuration: SamplingConfiguration, target: GaussianMixture, reference: GaussianMixture?,
                initial: StateBatch?)?
    var setupError: Error?
    do {
      let configuration = try resolvedConfiguration()
      let reference = try source.referenceMixture()
      let target = reference ?? configuration.target.mixture
      if configuration.sampler.descriptor.adaptive && configuration.mode == .batch {
        throw ValidationError("\(configuration.sampler) in --mode batch solves all samples as one system, which ranks cannot split; use --mode per-sample")
      }
      if resume { throw ValidationError("--resume is not available in sdekit-mpi yet; run sdekit sample --resume") }
      if let output {
        guard (format ?? SampleFileFormat(path: output) ?? .npy) == .npy else {
          throw ValidationError("-o \(output): sdekit-mpi writes .npy files (every rank writes its rows at a fixed offset, which .csv rows do not have)")
        }
      }
      let size = try Preflight.outputSize(count: configuration.count, dimension: target.dimension, format: .npy)
      if cluster.rank == 0, let output { try Preflight.checkFreeSpace(for: output, bytes: size.bytes, exact: true) }
      setup = (configuration, target, reference, try FastSamplerOptions.initialPoints(of: configuration))
    } catch {
      setupError = error
    }
    if let failing = cluster.firstFailure(setupError != nil) {
      if failing == cluster.rank, let setupError {
        FileHandle.standardError.write(Data("sdekit-mpi: \(SDEKitCommand.outcome(of: setupError).message)\n".utf8))
      }
      cluster.finish(status: setupError.map { SDEKitCommand.outcome(of: $0).status } ?? 1)
    }
    let (configuration, target, reference, initial) = setup!
    let d = target.dimension, count = configuration.count
    let mine = Self.rows(rank: cluster.rank, of: cluster.size, count: count)
    let chunks = Self.chunks(of: mine, dimension: d)
    let rounds = (0..<cluster.size).map { Self.chunks(of: Self.rows(rank: $0, of: cluster.size, count: count), dimension: d).count }.max()!

    // The shared temporary file, named by rank 0.
    var file: SharedFile?
    var temporary: String?
    if let output {
      let name = cluster.broadcast(cluster.rank == 0 ? temporaryURL(for: output).path : "")
      temporary = name
      var openError: Error?
      do { file = try cluster.openShared(name) } catch { openError = error }
      if let failing = cluster.firstFailure(openError != nil) {
        if failing == cluster.rank, let openError {
          FileHandle.standardError.write(Data("sdekit-mpi: cannot write \(output): \(openError)\n".utf8))
        }
        if cluster.rank == 0 { unlink(name) }
        cluster.finish(status: 1)
      }
      // Quiet on every rank: mpirun sends SIGTERM to all ranks when one fails, and that rank has
      // already said why.
      Interrupt.install(outputs: [output, plot, report].compactMap { $0 }, temporaries: [name], quiet: true)
    }

    do {
      let header = NPYFile.header(count: count, dimension: d)
      if cluster.rank == 0 { try file?.write(header, at: 0) }
      var metrics = StreamingMetrics(target: target, seed: configuration.seed, firstRow: mine.lowerBound)
      var plotted: [Double] = []
      var evaluations = 0, seconds = 0.0
      for round in 0..<rounds {
        guard round < chunks.count else {
          try file?.writeAll(Data(), at: 0)
          continue
        }
        let rows = chunks[round]
        let result = try runSampler(configuration, rows: rows, initial: initial)
        try metrics.add(result.samples)
        if rows.lowerBound < Self.plottedSamples {
          plotted += result.samples.values.prefix((Self.plottedSamples - rows.lowerBound) * d)
        }
        evaluations += result.nfe * rows.count
        seconds += result.seconds
        try file?.writeAll(NPYFile.body(result.samples), at: header.count + rows.lowerBound * d * 8)
      }
      try file?.close()
      let totals = cluster.sum([Double(evaluations), seconds])
      let partials = cluster.gather(metrics.partial)
      let plots = cluster.gather(plotted)
      guard cluster.rank == 0 else { return }
      if let output, let temporary {
        // Every rank's writes are checked; the length of the closed file is checked once more.
        let length = (try? FileManager.default.attributesOfItem(atPath: temporary)[.size] as? Int) ?? nil
        let expected = header.count + count * d * 8
        guard length == expected else {
          clusterFailure(cluster, "cannot write \(output): the file holds \(length.map(String.init) ?? "no") bytes of \(expected); nothing was written under that name", removing: temporary)
        }
        guard rename(temporary, output) == 0 else {
          clusterFailure(cluster, "cannot write \(output): \(String(cString: strerror(errno)))", removing: temporary)
        }
      }
      let floor = slicedW2Floor(target: target, count: min(count, StreamingMetrics.slicedW2Count), seed: configuration.seed)
      let measured = try StreamingMetrics(target: target, seed: configuration.seed, merging: partials).finish(floor: floor)
      let summary = SampleReport(version: sdekitVersion, commandLine: CommandLine.arguments, configuration: configuration,
                                 sampler: configuration.sampler.name, process: configuration.process.rawValue,
                                 target: configuration.target.rawValue, steps: configuration.steps,
                                 count: count, seed: configuration.seed,
                                 nfe: Int(totals[0]) / count, seconds: totals[1],
                                 sw2: measured.slicedW2, sw2Floor: measured.slicedW2Floor, meanErr: measured.meanError,
                                 covErr: measured.covarianceError, meanLogDensity: measured.meanLogDensity,
                                 exactMeanLogDensity: measured.exactMeanLogDensity,
                                 modeOccupancy: reference == nil ? measured.modeOccupancy : [], reference: source.reference,
                                 output: output, plot: plot, report: report)
      if let report { try writeAtomically(Data(try jsonString(summary).utf8 + [0x0A]), to: report) }
      if let plot {
        let values = plots.flatMap { $0 }
        let samples = StateBatch(count: values.count / d, dimension: d, values: values)
        let centres = reference == nil ? configuration.target.mixture.means : []
        try writeAtomically(Data(samplePlot(samples, total: count, configuration, centres: centres).utf8), to: plot)
      }
      print(json ? try jsonString(summary) : summary.text + "\n\(cluster.size) ranks")
    } catch {
      let message = SDEKitCommand.outcome(of: error).message
      clusterFailure(cluster, output.map { "cannot write \($0): \(message); nothing was written under that name" } ?? message,
                     removing: temporary)
    }
  }
}
