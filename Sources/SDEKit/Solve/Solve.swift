import Dispatch
import Foundation

/// Solves an SDE on a fixed time grid.
///
/// Rows are split into `threads` chunks solved in parallel, and each chunk into tiles of a few
/// hundred kilobytes advanced through every step in turn; every sample's noise is addressed by its
/// row, so the result is bit-identical for any split.
///
/// - Parameters:
///   - problem: drift, diffusion, initial batch and interval (t1 < t0 runs in reverse time).
///   - solver: any `SDESolver`; checked once against the problem's noise and calculus.
///   - grid: the time grid (uniform or given times).
///   - noise: the Brownian source, e.g. `BrownianIncrements(seed:)` or a `BrownianGrid`.
///   - saveAt: which states to return.
///   - firstSample: the index of the batch's first row among all samples, so that a batch
///     solved in parts (or on several machines) draws the same noise as the whole batch.
///   - threads: number of chunks run in parallel (default: the active processor count).
/// - Returns: the saved states and statistics.
/// - Throws: `SolveError.incompatible` when the solver cannot solve the problem,
///   `.invalidConfiguration` for bad grids, save times or thread counts, `.nonFinite` with the
///   row, step and time where the state stopped being finite.
/// - Complexity: O(steps × rows × dimension × stages); no allocation inside a step.
public func solve<F: Drift, G: Diffusion, S: SDESolver, B: BrownianSource>(
  _ problem: SDEProblem<F, G>, solver: S, grid: TimeGrid, noise: B, saveAt: SaveAt = .final,
  firstSample: Int = 0, threads: Int? = nil
) throws -> Solution {
  guard firstSample >= 0 else {
    throw SolveError.invalidConfiguration("firstSample must be at least 0, got \(firstSample)")
  }
  try checkCompatibility(solver: solver.descriptor, noise: problem.diffusion.noise,
                         providesDerivative: problem.diffusion.providesDerivative,
                         calculus: problem.calculus)
  let plan = try IntegrationPlan(initial: problem.initial, t0: problem.t0, t1: problem.t1,
                                 grid: grid, saveAt: saveAt, threads: threads)
  try noise.validate(times: plan.times)
  let dimension = problem.initial.dimension
  let width = problem.noiseWidth
  let needsSpaceTime = solver.descriptor.needsSpaceTimeIntegral
  return try plan.run { rows in
    let counter = EvaluationCounter()
    return SDEChunkStepper(
      drift: CountingDrift(base: problem.drift, counter: counter),
      diffusion: CountingDiffusion(base: problem.diffusion, counter: counter),
      solver: solver, source: noise, counter: counter,
      samples: (rows.lowerBound + firstSample)..<(rows.upperBound + firstSample), dimension: dimension,
      width: width, stepCount: plan.times.count - 1,
      workspace: solver.makeWorkspace(rows: rows.count, dimension: dimension),
      noiseBuffers: SolverWorkspace(buffers: needsSpaceTime ? 2 : 1, rows: rows.count,
                                    dimension: dimension),
      needsSpaceTime: needsSpaceTime)
  }
}

/// Solves an SDE with independent per-step Brownian increments keyed by `seed`.
public func solve<F: Drift, G: Diffusion, S: SDESolver>(
  _ problem: SDEProblem<F, G>, solver: S, grid: TimeGrid, seed: UInt64, saveAt: SaveAt = .final,
  firstSample: Int = 0, threads: Int? = nil
) throws -> Solution {
  try solve(problem, solver: solver, grid: grid, noise: BrownianIncrements(seed: seed),
            saveAt: saveAt, firstSample: firstSample, threads: threads)
}

/// Solves an ODE on a fixed time grid; rows run in parallel chunks as for SDEs.
///
/// - Throws: `SolveError.invalidConfiguration` for bad grids, save times or thread counts,
///   `.nonFinite` with the row, step and time where the state stopped being finite.
public func solve<F: VectorField, S: ODESolver>(
  _ problem: ODEProblem<F>, solver: S, grid: TimeGrid, saveAt: SaveAt = .final,
  threads: Int? = nil
) throws -> Solution {
  let plan = try IntegrationPlan(initial: problem.initial, t0: problem.t0, t1: problem.t1,
                                 grid: grid, saveAt: saveAt, threads: threads)
  let dimension = problem.initial.dimension
  return try plan.run { rows in
    let counter = EvaluationCounter()
    return ODEChunkStepper(
      field: CountingVectorField(base: problem.field, counter: counter), solver: solver,
      counter: counter, dimension: dimension,
      workspace: solver.makeWorkspace(rows: rows.count, dimension: dimension))
  }
}

/// Throws unless `solver` can solve a problem with this noise and calculus. Called once per solve.
public func checkCompatibility(solver: SolverDescriptor, noise: NoiseStructure,
                               providesDerivative: Bool, calculus: Calculus) throws {
  guard solver.kind == .sde else {
    throw SolveError.incompatible(solver: solver.name, reason: "is an ODE solver; the problem is an SDE")
  }
  guard solver.order(for: noise) != nil else {
    let supported = solver.noiseStructures.map(\.rawValue).joined(separator: ", ")
    throw SolveError.incompatible(
      solver: solver.name,
      reason: "supports \(supported) noise; the problem's diffusion has \(noise) noise")
  }
  if solver.needsDerivative, noise != .additive, !providesDerivative {
    throw SolveError.incompatible(
      solver: solver.name,
      reason: "needs ∂g/∂x for \(noise) noise; the problem's diffusion does not provide it (milstein-derivative-free does not need it)")
  }
  if let solverCalculus = solver.calculus, solverCalculus != calculus, noise != .additive {
    throw SolveError.incompatible(
      solver: solver.name,
      reason: "converges to the \(solverCalculus) solution; the problem is written in \(calculus) form with \(noise) noise, where the two differ")
  }
}

// MARK: - The chunked driver

/// One chunk's way of advancing its rows by one step.
protocol ChunkStepper: SendableMetatype {
  mutating func advance(_ x: UnsafeMutableBufferPointer<Double>, step: Int, t: Double, h: Double)
  var counter: EvaluationCounter { get }
}

struct SDEChunkStepper<F: Drift, G: Diffusion, S: SDESolver, B: BrownianSource>: ChunkStepper {
  let drift: CountingDrift<F>
  let diffusion: CountingDiffusion<G>
  let solver: S
  let source: B
  let counter: EvaluationCounter
  /// The chunk's rows as sample indices (what the noise is keyed by).
  let samples: Range<Int>
  let dimension: Int
  let width: Int
  let stepCount: Int
  let workspace: SolverWorkspace
  let noiseBuffers: SolverWorkspace
  let needsSpaceTime: Bool

  mutating func advance(_ x: UnsafeMutableBufferPointer<Double>, step: Int, t: Double, h: Double) {
    let absH = abs(h)
    let dW = noiseBuffers[0]
    let dZ = needsSpaceTime ? noiseBuffers[1] : nil
    source.fill(rows: samples, width: width, step: step, stepCount: stepCount, h: absH,
                increments: dW.baseAddress!, spaceTime: dZ?.baseAddress)
    if width != dimension {
      repeatAcrossRows(dW)
      if let dZ { repeatAcrossRows(dZ) }
    }
    solver.step(drift: drift, diffusion: diffusion, x: x, t: t, h: h,
                noise: StepNoise(increments: UnsafeBufferPointer(dW),
                                 spaceTime: dZ.map { UnsafeBufferPointer($0) }, absStep: absH),
                dimension: dimension, workspace: workspace)
  }

  /// Scalar noise: spreads each row's single value over its `dimension` slots, in place, from
  /// the last row back so nothing is overwritten before it is read.
  private func repeatAcrossRows(_ buffer: UnsafeMutableBufferPointer<Double>) {
    for row in stride(from: samples.count - 1, through: 0, by: -1) {
      let value = buffer[row]
      for j in 0..<dimension { buffer[row * dimension + j] = value }
    }
  }
}

struct ODEChunkStepper<F: VectorField, S: ODESolver>: ChunkStepper {
  let field: CountingVectorField<F>
  let solver: S
  let counter: EvaluationCounter
  let dimension: Int
  let workspace: SolverWorkspace

  mutating func advance(_ x: UnsafeMutableBufferPointer<Double>, step: Int, t: Double, h: Double) {
    solver.step(field: field, y: x, t: t, h: h, dimension: dimension, workspace: workspace)
  }
}

/// Raw pointers handed to concurrent chunks; each chunk touches only its own rows.
private struct SharedBuffers: @unchecked Sendable {
  let state: UnsafeMutableBufferPointer<Double>
  let saved: UnsafeMutableBufferPointer<Double>
}

/// The validated times, save slots and row split of one solve.
struct IntegrationPlan {
  let initial: StateBatch
  /// Every time visited, t0 first.
  let times: [Double]
  /// For each index into `times`, the save slot it fills, or nil.
  let saveSlots: [Int?]
  let savedTimes: [Double]
  let chunks: [Range<Int>]

  init(initial: StateBatch, t0: Double, t1: Double, grid: TimeGrid, saveAt: SaveAt, threads: Int?) throws {
    let gridTimes = try grid.times(from: t0, to: t1)
    let threadCount = threads ?? ProcessInfo.processInfo.activeProcessorCount
    guard threadCount >= 1 else {
      throw SolveError.invalidConfiguration("threads must be at least 1, got \(threadCount)")
    }
    if let row = firstNonFiniteRow(initial.values, dimension: initial.dimension) {
      throw SolveError.invalidConfiguration("the initial state of sample row \(row) is not finite")
    }
    self.initial = initial
    switch saveAt {
    case .final:
      times = gridTimes
      saveSlots = gridTimes.indices.map { $0 == gridTimes.count - 1 ? 0 : nil }
      savedTimes = [t1]
    case .everyStep:
      times = gridTimes
      saveSlots = gridTimes.indices.map { $0 }
      savedTimes = gridTimes
    case .times(let requested):
      (times, saveSlots) = try refine(gridTimes, with: requested)
      savedTimes = requested
    }
    let rows = initial.count
    let chunkCount = max(1, min(threadCount, rows))
    chunks = (0..<chunkCount).map { c in (rows * c / chunkCount)..<(rows * (c + 1) / chunkCount) }
  }

  func run<S: ChunkStepper>(makeStepper: @Sendable (Range<Int>) -> S) throws -> Solution {
    let dimension = initial.dimension
    let rowCount = initial.count
    let stepCount = times.count - 1
    // The state on a 64-byte boundary, as the solvers' buffers are (SolverWorkspace).
    let state = VectorMath.allocateAligned(zeros: initial.values.count)
    _ = state.update(fromContentsOf: initial.values)
    defer { state.deallocate() }
    var saved = [Double](repeating: 0, count: savedTimes.count * rowCount * dimension)
    var failures = [SolveError?](repeating: nil, count: chunks.count)
    var counts = [SolveStatistics](repeating: SolveStatistics(), count: chunks.count)
    let times = self.times, saveSlots = self.saveSlots, chunks = self.chunks

    saved.withUnsafeMutableBufferPointer { savedPointer in
      let shared = SharedBuffers(state: state, saved: savedPointer)
      let results = ChunkResults(failures: failures, counts: counts)
      DispatchQueue.concurrentPerform(iterations: chunks.count) { c in
        var failure: SolveError?
        var chunkCounts: SolveStatistics?
        // A tile failing at step n ends every later tile at step n: a later tile's rows are
        // higher, so only a failure at an earlier step could come first.
        var stepLimit = stepCount
        for tile in Self.tiles(of: chunks[c], dimension: dimension) {
          var stepper = makeStepper(tile)
          let x = UnsafeMutableBufferPointer(
            rebasing: shared.state[(tile.lowerBound * dimension)..<(tile.upperBound * dimension)])
          func save(_ slot: Int?) {
            guard let slot else { return }
            let base = (slot * rowCount + tile.lowerBound) * dimension
            for e in 0..<x.count { shared.saved[base + e] = x[e] }
          }
          save(saveSlots[0])
          for n in 0..<stepLimit {
            stepper.advance(x, step: n, t: times[n], h: times[n + 1] - times[n])
            if let bad = firstNonFiniteRow(UnsafeBufferPointer(x), dimension: dimension) {
              failure = .nonFinite(row: tile.lowerBound + bad, step: n, time: times[n + 1])
              stepLimit = n
              break
            }
            save(saveSlots[n + 1])
          }
          // Every tile makes the same calls; the first one's count stands for the chunk's.
          if chunkCounts == nil {
            chunkCounts = SolveStatistics(steps: stepCount, driftEvaluations: stepper.counter.drift,
                                          diffusionEvaluations: stepper.counter.diffusion)
          }
        }
        guard let chunkCounts else { return }
        results.record(chunk: c, failure: failure, counts: chunkCounts)
      }
      failures = results.failures
      counts = results.counts
    }
    // The earliest failure (by step, then row) is the one a single thread would have met first.
    let earliest = failures.compactMap { $0 }.min { a, b in
      guard case .nonFinite(let rowA, let stepA, _) = a, case .nonFinite(let rowB, let stepB, _) = b
      else { return false }
      return (stepA, rowA) < (stepB, rowB)
    }
    if let earliest { throw earliest }
    let states = savedTimes.indices.map { slot in
      StateBatch(count: rowCount, dimension: dimension,
                 values: Array(saved[(slot * rowCount * dimension)..<((slot + 1) * rowCount * dimension)]))
    }
    return Solution(times: savedTimes, states: states,
                    statistics: counts.first ?? SolveStatistics(steps: stepCount))
  }
}

extension IntegrationPlan {
  /// Bytes of one state-sized buffer per tile. A step streams the state, the noise and the
  /// solver's buffers several times; tiles this size keep them in cache from step to step instead
  /// of memory (W3: 1335 → 990 ns per sample-step; 32 KB tiles were slower from per-call costs,
  /// 256–512 KB measured best).
  static let tileBytes = 256 * 1024

  /// `rows` cut into consecutive tiles, each advanced through every step before the next: each
  /// row's noise is keyed by its index, so the bits are those of one pass over all rows.
  static func tiles(of rows: Range<Int>, dimension: Int) -> [Range<Int>] {
    rowTiles(rows, dimension: dimension, bytes: tileBytes)
  }
}

/// `rows` cut into consecutive ranges of `bytes` of state each (`dimension` doubles a row), at
/// least 64 rows, so that a pass over several buffers of one range stays in cache.
func rowTiles(_ rows: Range<Int>, dimension: Int, bytes: Int) -> [Range<Int>] {
  let size = max(64, bytes / (8 * max(1, dimension)))
  return stride(from: rows.lowerBound, to: rows.upperBound, by: size).map { $0..<min($0 + size, rows.upperBound) }
}

/// Per-chunk outcomes, written by disjoint chunks under a lock.
private final class ChunkResults: @unchecked Sendable {
  private let lock = NSLock()
  private(set) var failures: [SolveError?]
  private(set) var counts: [SolveStatistics]

  init(failures: [SolveError?], counts: [SolveStatistics]) {
    self.failures = failures
    self.counts = counts
  }

  func record(chunk: Int, failure: SolveError?, counts chunkCounts: SolveStatistics) {
    lock.lock()
    defer { lock.unlock() }
    failures[chunk] = failure
    counts[chunk] = chunkCounts
  }
}

/// The grid refined to pass through every requested save time, and each time's save slot.
private func refine(_ grid: [Double], with requested: [Double]) throws -> ([Double], [Int?]) {
  let t0 = grid[0], t1 = grid[grid.count - 1]
  let direction: Double = t1 > t0 ? 1 : -1
  let tolerance = 1e-12 * abs(t1 - t0)
  guard !requested.isEmpty else {
    throw SolveError.invalidConfiguration("SaveAt.times needs at least one time")
  }
  for (i, t) in requested.enumerated() {
    guard t.isFinite, (t - t0) * direction >= -tolerance, (t1 - t) * direction >= -tolerance else {
      throw SolveError.invalidConfiguration("save time \(t) lies outside [\(min(t0, t1)), \(max(t0, t1))]")
    }
    if i > 0, !((t - requested[i - 1]) * direction > 0) {
      throw SolveError.invalidConfiguration(
        "save times must be strictly \(direction > 0 ? "increasing" : "decreasing"); \(requested[i - 1]) is followed by \(t)")
    }
  }
  var times: [Double] = []
  var slots: [Int?] = []
  var next = 0
  for t in grid {
    // Requested times strictly before this grid time become grid points of their own.
    while next < requested.count, (t - requested[next]) * direction > tolerance {
      times.append(requested[next])
      slots.append(next)
      next += 1
    }
    times.append(t)
    if next < requested.count, abs(t - requested[next]) <= tolerance {
      slots.append(next)
      next += 1
    } else {
      slots.append(nil)
    }
  }
  return (times, slots)
}
