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
  try checkCompatibility(solver: solver.descriptor, noise: problem.diffusion.noise,
                         providesDerivative: problem.diffusion.providesDerivative,
                         calculus: problem.calculus)
  let times = try grid.times(from: problem.t0, to: problem.t1)
  try noise.validate(times: times)
  return try drive(SDEMethod(problem: problem, solver: solver, noise: noise), initial: problem.initial,
                   times: times, saveAt: saveAt, firstSample: firstSample, threads: threads)
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
  try drive(ODEMethod(problem: problem, solver: solver), initial: problem.initial,
            times: try grid.times(from: problem.t0, to: problem.t1), saveAt: saveAt, threads: threads)
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

// MARK: - Solvers as grid methods

/// An SDE solver bound to its problem and noise source, for the driver.
struct SDEMethod<F: Drift, G: Diffusion, S: SDESolver, B: BrownianSource>: GridMethod {
  let problem: SDEProblem<F, G>
  let solver: S
  let noise: B

  func makeStepper(samples: Range<Int>, dimension: Int) -> SDEStepper<F, G, S, B> {
    let counter = EvaluationCounter()
    let needsSpaceTime = solver.descriptor.needsSpaceTimeIntegral
    // A tree queried step after step by one walker splits only the nodes near each step's ends
    // (about two per step on a dyadic grid); its `fill` starts from the root at every call.
    let walker = (noise as? BrownianTree).map { tree in
      let walker = BrownianTree.Walker(tree: tree, capacity: samples.count, width: problem.noiseWidth)
      walker.reset(rows: samples)
      return walker
    }
    return SDEStepper(
      drift: CountingDrift(base: problem.drift, counter: counter),
      diffusion: CountingDiffusion(base: problem.diffusion, counter: counter),
      solver: solver, source: noise, walker: walker, counter: counter, samples: samples, dimension: dimension,
      width: problem.noiseWidth, workspace: solver.makeWorkspace(rows: samples.count, dimension: dimension),
      noise: StepNoiseBuffers(elements: samples.count * dimension, spaceTime: needsSpaceTime))
  }

  /// A tree's walker keeps 8·depth + 14 numbers per row and Wiener process: tiles of 256 rows
  /// keep them in cache beside the state (356 KB at depth 20 and width 1), where a tile of
  /// `driverTileBytes` of one-dimensional state, 32,768 rows, would keep 45 MB.
  var tileRows: Int? { noise is BrownianTree ? 256 : nil }
}

struct SDEStepper<F: Drift, G: Diffusion, S: SDESolver, B: BrownianSource>: GridStepper {
  let drift: CountingDrift<F>
  let diffusion: CountingDiffusion<G>
  let solver: S
  let source: B
  /// The tile's walker when `source` is a `BrownianTree`, kept from step to step.
  let walker: BrownianTree.Walker?
  let counter: EvaluationCounter
  /// The tile's rows as sample indices (what the noise is keyed by).
  let samples: Range<Int>
  let dimension: Int
  let width: Int
  let workspace: SolverWorkspace
  let noise: StepNoiseBuffers

  var evaluations: EvaluationCount { EvaluationCount(drift: counter.drift, diffusion: counter.diffusion) }

  mutating func advance(_ x: MutableBatchView, over step: GridStep) {
    let increments = noise.increments, spaceTime = noise.spaceTime
    if let walker {
      walker.increments(from: step.t, to: step.next, into: increments.baseAddress!, spaceTime: spaceTime?.baseAddress)
    } else {
      source.fill(rows: samples, width: width, step: step, increments: increments.baseAddress!,
                  spaceTime: spaceTime?.baseAddress)
    }
    if width != dimension {
      repeatAcrossRows(increments, rows: samples.count, dimension: dimension)
      if let spaceTime { repeatAcrossRows(spaceTime, rows: samples.count, dimension: dimension) }
    }
    solver.step(drift: drift, diffusion: diffusion, x: x.values, t: step.t, h: step.h,
                noise: StepNoise(increments: UnsafeBufferPointer(increments),
                                 spaceTime: spaceTime.map { UnsafeBufferPointer($0) }, absStep: step.size),
                dimension: dimension, workspace: workspace)
  }
}

/// Scalar noise: spreads each row's single value over its `dimension` slots, in place, from the
/// last row back so nothing is overwritten before it is read.
func repeatAcrossRows(_ buffer: UnsafeMutableBufferPointer<Double>, rows: Int, dimension: Int) {
  for row in stride(from: rows - 1, through: 0, by: -1) {
    let value = buffer[row]
    for j in 0..<dimension { buffer[row * dimension + j] = value }
  }
}

/// ΔW and, for methods that need it, ΔZ of one step: one value per state element of a tile.
final class StepNoiseBuffers {
  let increments: UnsafeMutableBufferPointer<Double>
  let spaceTime: UnsafeMutableBufferPointer<Double>?

  init(elements: Int, spaceTime needed: Bool) {
    increments = VectorMath.allocateAligned(zeros: elements)
    spaceTime = needed ? VectorMath.allocateAligned(zeros: elements) : nil
  }

  deinit {
    increments.deallocate()
    spaceTime?.deallocate()
  }
}

/// An ODE solver bound to its problem, for the driver.
struct ODEMethod<F: VectorField, S: ODESolver>: GridMethod {
  let problem: ODEProblem<F>
  let solver: S

  func makeStepper(samples: Range<Int>, dimension: Int) -> ODEStepper<F, S> {
    let counter = EvaluationCounter()
    return ODEStepper(field: CountingVectorField(base: problem.field, counter: counter), solver: solver,
                      counter: counter, dimension: dimension,
                      workspace: solver.makeWorkspace(rows: samples.count, dimension: dimension))
  }
}

struct ODEStepper<F: VectorField, S: ODESolver>: GridStepper {
  let field: CountingVectorField<F>
  let solver: S
  let counter: EvaluationCounter
  let dimension: Int
  let workspace: SolverWorkspace

  var evaluations: EvaluationCount { EvaluationCount(drift: counter.drift) }

  mutating func advance(_ x: MutableBatchView, over step: GridStep) {
    solver.step(field: field, y: x.values, t: step.t, h: step.h, dimension: dimension, workspace: workspace)
  }
}
