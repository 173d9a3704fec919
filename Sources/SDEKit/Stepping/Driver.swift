/// Batch evaluations a stepper has made, counted as they happen: calls of the drift (or vector
/// field, or score model) and of the diffusion on the stepper's whole tile of rows.
public struct EvaluationCount: Sendable, Hashable {
  public var drift: Int
  public var diffusion: Int

  @inlinable
  public init(drift: Int = 0, diffusion: Int = 0) {
    self.drift = drift
    self.diffusion = diffusion
  }
}

/// A fixed-grid method's state for one tile of rows while the driver walks it through the grid:
/// its workspace buffers and, for multistep methods, its history. Made once per tile by a
/// `GridMethod`; `advance` allocates nothing.
public protocol GridStepper {
  /// Advances the tile's rows `x` from `step.t` to `step.next` in place.
  mutating func advance(_ x: MutableBatchView, over step: GridStep)
  /// The evaluations made so far.
  var evaluations: EvaluationCount { get }
}

/// Anything the driver can run over a time grid: an SDE or ODE solver bound to its problem, or
/// a sampler bound to its process and score model. It holds settings only and makes one
/// stepper per tile of rows.
public protocol GridMethod: Sendable {
  associatedtype Stepper: GridStepper
  /// A stepper for the rows whose sample indices are `samples` (what noise is keyed by).
  func makeStepper(samples: Range<Int>, dimension: Int) -> Stepper
  /// Rows per tile, for a method whose stepper keeps more per row than the state; nil (the
  /// default): tiles of `driverTileBytes` of state.
  var tileRows: Int? { get }
}

extension GridMethod {
  public var tileRows: Int? { nil }
}

/// Runs `method` over `times` from `initial`: SDEKit's one fixed-grid driver, which `solve` and
/// every sampler use.
///
/// Rows are split into `threads` chunks run in parallel (`forEachRowChunk`), and each chunk into
/// tiles of about 256 KB of state (or the method's `tileRows`), each tile advanced through every
/// step before the next, so a step's buffers stay in cache. Noise and every other per-sample choice are keyed by the sample
/// index, so the result is bit-identical for any split. After each step the driver checks the
/// tile for NaN and infinity and reports the earliest (step, then row) with its time.
///
/// - Parameters:
///   - times: the grid, strictly monotone (either direction), validated here.
///   - saveAt: which states to return; `.times` refines the grid to pass through them.
///   - firstSample: the sample index of `initial`'s first row, so that a batch solved in parts
///     (or on several machines) draws the same noise as the whole batch.
///   - threads: chunks run in parallel (default: every active core).
/// - Returns: the saved states; statistics with the evaluations counted per tile (calls on a
///   tile's rows, averaged over rows when tiles differ).
/// - Throws: `SolveError.invalidConfiguration` for bad times, save times or thread counts or a
///   non-finite initial state, `.nonFinite` with the row, step and time where the state stopped
///   being finite.
/// - Complexity: O(steps × rows × the method's cost per row); no allocation inside a step.
public func drive<M: GridMethod>(
  _ method: M, initial: StateBatch, times gridTimes: [Double], saveAt: SaveAt = .final,
  firstSample: Int = 0, threads: Int? = nil
) throws -> Solution {
  guard gridTimes.count >= 2 else {
    throw SolveError.invalidConfiguration("a time grid needs at least two times, got \(gridTimes.count)")
  }
  _ = try TimeGrid.times(gridTimes).times(from: gridTimes[0], to: gridTimes[gridTimes.count - 1])
  guard firstSample >= 0 else {
    throw SolveError.invalidConfiguration("firstSample must be at least 0, got \(firstSample)")
  }
  let threadCount = try resolvedThreadCount(threads)
  if let row = firstNonFiniteRow(initial.values, dimension: initial.dimension) {
    throw SolveError.invalidConfiguration("the initial state of sample row \(row) is not finite")
  }
  let (times, saveSlots, savedTimes) = try savePlan(gridTimes, saveAt: saveAt)
  let dimension = initial.dimension, rowCount = initial.count, stepCount = times.count - 1

  // The state on a 64-byte boundary, as the solvers' buffers are (SolverWorkspace).
  let state = VectorMath.allocateAligned(zeros: initial.values.count)
  _ = state.update(fromContentsOf: initial.values)
  defer { state.deallocate() }
  var saved = [Double](repeating: 0, count: savedTimes.count * rowCount * dimension)
  let chunks = rowChunks(rowCount, threads: threadCount)
  let failures = PerChunk<SolveError?>(chunks.count, initial: nil)
  // Per chunk: Σ over tiles of (calls × rows), for drift and diffusion.
  let work = PerChunk<EvaluationCount>(chunks.count, initial: EvaluationCount())

  saved.withUnsafeMutableBufferPointer { savedPointer in
    let shared = SharedPointer(buffer: state), savedShared = SharedPointer(buffer: savedPointer)
    forEachRowChunk(rowCount, threads: threadCount) { c, rows in
      var failure: SolveError?
      var chunkWork = EvaluationCount()
      // A tile failing at step n ends every later tile at step n: a later tile's rows are
      // higher, so only a failure at an earlier step could come first.
      var stepLimit = stepCount
      let tiles = method.tileRows.map { rowTiles(rows, size: $0) } ?? rowTiles(rows, dimension: dimension, bytes: driverTileBytes)
      for tile in tiles {
        var stepper = method.makeStepper(samples: (tile.lowerBound + firstSample)..<(tile.upperBound + firstSample),
                                         dimension: dimension)
        let x = MutableBatchView(
          UnsafeMutableBufferPointer(rebasing: shared.buffer[(tile.lowerBound * dimension)..<(tile.upperBound * dimension)]),
          dimension: dimension)
        func save(_ slot: Int?) {
          guard let slot else { return }
          let base = (slot * rowCount + tile.lowerBound) * dimension
          for e in 0..<x.values.count { savedShared.buffer[base + e] = x.values[e] }
        }
        save(saveSlots[0])
        for n in 0..<stepLimit {
          stepper.advance(x, over: GridStep(index: n, count: stepCount, t: times[n], next: times[n + 1]))
          if let bad = firstNonFiniteRow(UnsafeBufferPointer(x.values), dimension: dimension) {
            failure = .nonFinite(row: tile.lowerBound + bad, step: n, time: times[n + 1])
            stepLimit = n
            break
          }
          save(saveSlots[n + 1])
        }
        chunkWork.drift += stepper.evaluations.drift * tile.count
        chunkWork.diffusion += stepper.evaluations.diffusion * tile.count
      }
      failures[c] = failure
      work[c] = chunkWork
    }
  }
  // The earliest failure (by step, then row) is the one a single thread would have met first.
  let earliest = failures.values.compactMap { $0 }.min { a, b in
    guard case .nonFinite(let rowA, let stepA, _) = a, case .nonFinite(let rowB, let stepB, _) = b
    else { return false }
    return (stepA, rowA) < (stepB, rowB)
  }
  if let earliest { throw earliest }
  let total = work.values.reduce(EvaluationCount()) { EvaluationCount(drift: $0.drift + $1.drift, diffusion: $0.diffusion + $1.diffusion) }
  // Calls per tile, averaged over rows (rounded): exact when every tile made the same calls.
  func perRow(_ value: Int) -> Int { rowCount == 0 ? 0 : (value + rowCount / 2) / rowCount }
  let states = savedTimes.indices.map { slot in
    StateBatch(count: rowCount, dimension: dimension,
               values: Array(saved[(slot * rowCount * dimension)..<((slot + 1) * rowCount * dimension)]))
  }
  return Solution(times: savedTimes, states: states,
                  statistics: SolveStatistics(steps: stepCount, driftEvaluations: perRow(total.drift),
                                              diffusionEvaluations: perRow(total.diffusion)))
}

/// Bytes of one state-sized buffer per tile. A step streams the state, the noise and the
/// solver's buffers several times; tiles this size keep them in cache from step to step instead
/// of memory (32 KB tiles were slower from per-call costs; 256–512 KB measured best).
let driverTileBytes = 256 * 1024

/// `rows` cut into consecutive ranges of `bytes` of state each (`dimension` doubles a row), at
/// least 64 rows, so that a pass over several buffers of one range stays in cache.
func rowTiles(_ rows: Range<Int>, dimension: Int, bytes: Int) -> [Range<Int>] {
  rowTiles(rows, size: max(64, bytes / (8 * max(1, dimension))))
}

/// `rows` cut into consecutive ranges of `size` rows (the last one shorter).
func rowTiles(_ rows: Range<Int>, size: Int) -> [Range<Int>] {
  stride(from: rows.lowerBound, to: rows.upperBound, by: max(1, size)).map { $0..<min($0 + size, rows.upperBound) }
}

/// The grid refined for `saveAt`: every time visited, each one's save slot, and the saved times.
private func savePlan(_ grid: [Double], saveAt: SaveAt) throws -> ([Double], [Int?], [Double]) {
  switch saveAt {
  case .final:
    return (grid, grid.indices.map { $0 == grid.count - 1 ? 0 : nil }, [grid[grid.count - 1]])
  case .everyStep:
    return (grid, grid.indices.map { $0 }, grid)
  case .times(let requested):
    let (times, slots) = try refine(grid, with: requested)
    return (times, slots, requested)
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
