import Foundation
import Testing
@testable import SDEKit

@Suite("solve: reproducibility, saving, statistics, errors")
struct SolveTests {
  static let sdeSolvers: [SolverName] = SolverName.allCases.filter { $0.descriptor.kind == .sde }

  /// An additive-noise problem every SDE solver accepts: OU in 2 dimensions.
  func ouProblem(rows: Int) -> SDEProblem<DriftFunction, ConstantDiffusion> {
    let ou = OrnsteinUhlenbeck()
    var problem = ou.problem(paths: rows)
    problem.initial = StateBatch(count: rows, repeatingRow: [3, -1])
    return problem
  }

  func run(_ solver: SolverName, rows: Int, threads: Int) throws -> StateBatch {
    guard case .sde(let method) = solver.solver else { fatalError() }
    return try solve(ouProblem(rows: rows), solver: method, grid: .uniform(steps: 50), seed: 77,
                     threads: threads).final
  }

  @Test("Bit-identical for one batch of 1024, four of 256, and 1 vs 2 threads", arguments: sdeSolvers)
  func bitIdentical(_ solver: SolverName) throws {
    let whole = try run(solver, rows: 1024, threads: 1)
    #expect(try run(solver, rows: 1024, threads: 2) == whole)
    #expect(try run(solver, rows: 1024, threads: 3) == whole)
    // Four batches of 256, each told the index of its first sample, give the same rows.
    guard case .sde(let method) = solver.solver else { return }
    for b in 0..<4 {
      let part = try solve(ouProblem(rows: 256), solver: method, grid: .uniform(steps: 50),
                           noise: BrownianIncrements(seed: 77), firstSample: 256 * b, threads: 1).final
      #expect(part == whole.rows((256 * b)..<(256 * (b + 1))))
    }
  }

  @Test("Scalar noise shares one Wiener increment across a row's components")
  func scalarNoise() throws {
    // dX_i = σ_i dW (one W): X_i(T) − X_i(0) = σ_i W(T) exactly under Euler–Maruyama.
    let sigma = [0.5, -2.0, 1.0]
    let diffusion = DiffusionFunction(noise: .scalar) { _, _, out in
      for e in 0..<out.count { out[e] = sigma[e % out.dimension] }
    }
    let problem = SDEProblem(drift: DriftFunction { _, _, out in for e in 0..<out.count { out[e] = 0 } },
                             diffusion: diffusion, initial: StateBatch(count: 10, dimension: 3),
                             t0: 0, t1: 1)
    let final = try solve(problem, solver: EulerMaruyama(), grid: .uniform(steps: 8), seed: 1).final
    for r in 0..<10 {
      let w = final[r, 0] / sigma[0]
      #expect(abs(final[r, 1] - sigma[1] * w) < 1e-12)
      #expect(abs(final[r, 2] - sigma[2] * w) < 1e-12)
    }
  }

  @Test("Euler–Maruyama with a uniform diffusion value gives the bits of the filled buffer")
  func uniformDiffusionValue() throws {
    // The same constant σ, once as ConstantDiffusion (which states its uniform value) and once as
    // a closure (which does not, so the solver fills and reads its buffer).
    var uniform = ouProblem(rows: 100)
    uniform.diffusion = ConstantDiffusion(0.7)
    let buffered = SDEProblem(drift: uniform.drift,
                              diffusion: DiffusionFunction(noise: .additive) { _, _, g in
                                for e in 0..<g.count { g[e] = 0.7 } },
                              initial: uniform.initial, t0: uniform.t0, t1: uniform.t1)
    let a = try solve(uniform, solver: EulerMaruyama(), grid: .uniform(steps: 40), seed: 5, threads: 1)
    let b = try solve(buffered, solver: EulerMaruyama(), grid: .uniform(steps: 40), seed: 5, threads: 1)
    #expect(a.final == b.final)
    // Each use of the uniform value counts as the diffusion evaluation it replaces.
    #expect(a.statistics.diffusionEvaluations == 40 && b.statistics.diffusionEvaluations == 40)
  }

  @Test("Statistics count steps and batch evaluations as the descriptors declare", arguments: SolverName.allCases)
  func statistics(_ solver: SolverName) throws {
    // Each solver on a problem whose noise makes it do its full work: diagonal noise where
    // supported (Milstein skips ∂g/∂x for additive noise), in the calculus the solver converges to.
    let statistics: SolveStatistics
    switch solver.solver {
    case .sde(let method):
      let d = method.descriptor
      if d.order(for: .diagonal) != nil {
        var problem = DiagonalGeometricBrownianMotion().problem(paths: 64)
        problem.calculus = d.calculus ?? .ito
        statistics = try solve(problem, solver: method, grid: .uniform(steps: 10), seed: 0, threads: 2).statistics
      } else {
        statistics = try solve(ouProblem(rows: 64), solver: method, grid: .uniform(steps: 10), seed: 0,
                               threads: 2).statistics
      }
    case .ode(let method):
      statistics = try solve(LinearODE().problem(copies: 64), solver: method, grid: .uniform(steps: 10),
                             threads: 2).statistics
    case .adaptiveODE:
      return  // adaptive statistics are tested with the adaptive solvers
    }
    // Evaluations are counted by wrappers as the solver calls them, per tile of rows (the
    // driver only averages the tiles' counts), so these check the solver against its descriptor.
    let d = solver.descriptor
    #expect(statistics.driftEvaluations == 10 * d.driftEvaluationsPerStep)
    #expect(statistics.diffusionEvaluations == 10 * d.diffusionEvaluationsPerStep)
  }

  @Test("SaveAt: every step and given times (the grid is refined through them)")
  func saveAt() throws {
    let problem = LinearODE().problem(copies: 3)
    let every = try solve(problem, solver: RK4(), grid: .uniform(steps: 8), saveAt: .everyStep)
    #expect(every.times == uniformTimes(from: 0, to: 1, steps: 8))
    #expect(every.states[0] == problem.initial)
    #expect(every.final == (try solve(problem, solver: RK4(), grid: .uniform(steps: 8)).final))
    let saved = try solve(problem, solver: RK4(), grid: .uniform(steps: 32), saveAt: .times([0.3, 0.5, 1]))
    #expect(saved.times == [0.3, 0.5, 1])
    // RK4 at h ≤ 1/32 (ωh ≤ 0.2) on this problem: global error ≈ 1e-5; allow 1e-4.
    let exactAt03 = LinearODE(t1: 0.3).exactFinalState!
    #expect(abs(saved.states[0][1, 0] - exactAt03[0]) < 1e-4)
    #expect(abs(saved.states[0][1, 1] - exactAt03[1]) < 1e-4)
    // 0.3 is inserted between grid points 9/32 and 10/32; 0.5 and 1 are grid points already.
    var refined = uniformTimes(from: 0, to: 1, steps: 32)
    refined.insert(0.3, at: 10)
    #expect(saved.final == (try solve(problem, solver: RK4(), grid: .times(refined)).final))
    #expect(throws: SolveError.self) {
      try solve(problem, solver: RK4(), grid: .uniform(steps: 8), saveAt: .times([0.5, 0.3]))
    }
    #expect(throws: SolveError.self) {
      try solve(problem, solver: RK4(), grid: .uniform(steps: 8), saveAt: .times([1.5]))
    }
  }

  @Test("Reverse time: integrating back from y(1) recovers y(0)")
  func reverseTime() throws {
    let ode = LinearODE()
    let back = ODEProblem(field: ode.field, initial: StateBatch(count: 1, repeatingRow: ode.exactFinalState!),
                          t0: 1, t1: 0)
    let final = try solve(back, solver: RK4(), grid: .uniform(steps: 256)).final
    // RK4 error at h = 1/256 on this problem is about 1e-8 (forward study); allow 1e-6.
    #expect(abs(final[0, 0] - 1) < 1e-6 && abs(final[0, 1]) < 1e-6)
  }

  @Test("Reverse-time SDE: a Brownian motion run backwards has variance |T|")
  func reverseTimeSDE() throws {
    let zero = DriftFunction { _, _, out in for e in 0..<out.count { out[e] = 0 } }
    let unit = ConstantDiffusion(1)
    let n = 40_000
    let problem = SDEProblem(drift: zero, diffusion: unit, initial: StateBatch(count: n, dimension: 1),
                             t0: 2, t1: 0)
    let final = try solve(problem, solver: SRA1(), grid: .uniform(steps: 16), seed: 4).final
    let variance = final.values.reduce(0) { $0 + $1 * $1 } / Double(n)
    // Sample variance of N(0, 2): standard error 2·√(2/n) ≈ 0.014; five of them.
    #expect(abs(variance - 2) < 5 * 2 * (2 / Double(n)).squareRoot())
  }

  @Test("Milstein without ∂g/∂x on diagonal noise names the solver and the noise")
  func milsteinNeedsDerivative() {
    let g = DiffusionFunction(noise: .diagonal) { x, _, out in for e in 0..<x.count { out[e] = x[e] } }
    let problem = SDEProblem(drift: LinearDrift(rates: [1]), diffusion: g,
                             initial: StateBatch(count: 4, dimension: 1, repeating: 1), t0: 0, t1: 1)
    do {
      _ = try solve(problem, solver: Milstein(), grid: .uniform(steps: 4), seed: 0)
      Issue.record("expected an error")
    } catch let error as SolveError {
      guard case .incompatible(let solver, let reason) = error else { Issue.record("\(error)"); return }
      #expect(solver == "milstein")
      #expect(reason.contains("diagonal") && reason.contains("∂g/∂x"))
    } catch { Issue.record("\(error)") }
    // The derivative-free form accepts the same problem.
    #expect(throws: Never.self) {
      try solve(problem, solver: MilsteinDerivativeFree(), grid: .uniform(steps: 4), seed: 0)
    }
  }

  @Test("SRA1 on non-additive noise names the solver and the noise structure")
  func sra1NeedsAdditive() {
    do {
      _ = try solve(GeometricBrownianMotion().problem(paths: 4), solver: SRA1(), grid: .uniform(steps: 4), seed: 0)
      Issue.record("expected an error")
    } catch let error as SolveError {
      #expect(error == .incompatible(solver: "sra1",
                                     reason: "supports additive noise; the problem's diffusion has diagonal noise"))
      #expect(error.description.contains("sra1") && error.description.contains("diagonal"))
    } catch { Issue.record("\(error)") }
  }

  @Test("Stochastic Heun is refused on an Itô problem with multiplicative noise")
  func heunCalculus() {
    #expect(throws: SolveError.self) {
      try solve(GeometricBrownianMotion().problem(paths: 4), solver: StochasticHeun(), grid: .uniform(steps: 4), seed: 0)
    }
  }

  @Test("The non-finite scan finds NaN and both infinities in any position and passes every finite value")
  func nonFiniteScan() {
    // The extremes of the finite range (the largest exponent below all ones, subnormals, signed
    // zeros) must pass; every kind of NaN and infinity, including a NaN with the sign bit set
    // and a signalling one, must be found in whichever row and lane position it sits.
    let finite: [Double] = [0, -0.0, .leastNonzeroMagnitude, -.leastNormalMagnitude, .greatestFiniteMagnitude,
                            -.greatestFiniteMagnitude, 1, -3.5e300, 2.2e-308]
    #expect(firstNonFiniteRow(finite + finite + finite, dimension: 3) == nil)
    let bad: [Double] = [.infinity, -.infinity, .nan, -.nan, .signalingNaN, Double(bitPattern: 0x7FF0_0000_0000_0001)]
    for value in bad {
      for position in [0, 5, 13, 26] {
        var values = finite + finite + finite
        values[position] = value
        #expect(firstNonFiniteRow(values, dimension: 3) == position / 3, "\(value) at \(position)")
      }
    }
  }

  @Test("A drift that produces NaN stops the solve with row, step and time", arguments: [1, 2])
  func nonFinite(threads: Int) {
    // Row 300's drift turns NaN once t ≥ 0.5, i.e. during step 5 of 10 (t 0.5 → 0.6).
    let drift = DriftFunction { x, t, out in
      for e in 0..<x.count { out[e] = 0 }
      if t >= 0.5, x.count > 0 {
        // Rows are chunked; find row 300 by its initial marker value.
        for e in 0..<x.count where x[e] >= 299.5 && x[e] < 300.5 { out[e] = .nan }
      }
    }
    let zero = ConstantDiffusion(0)
    let initial = StateBatch(count: 512, dimension: 1, values: (0..<512).map(Double.init))
    let problem = SDEProblem(drift: drift, diffusion: zero, initial: initial, t0: 0, t1: 1)
    do {
      _ = try solve(problem, solver: EulerMaruyama(), grid: .uniform(steps: 10), seed: 0, threads: threads)
      Issue.record("expected an error")
    } catch let error as SolveError {
      #expect(error == .nonFinite(row: 300, step: 5, time: 0.6))
      #expect(error.description.contains("row 300") && error.description.contains("step 5"))
    } catch { Issue.record("\(error)") }
  }

  /// Rows of 256 values: a tile (`IntegrationPlan.tileBytes` per buffer) holds 128 of them, so
  /// 300 rows run as three tiles on one thread and two on each of two.
  func wideProblem(rows: Int, sigma: Double = 0.5, drift: DriftFunction = DriftFunction { x, _, out in
    for e in 0..<x.count { out[e] = -x[e] }
  }) -> SDEProblem<DriftFunction, ConstantDiffusion> {
    let d = 256
    let initial = StateBatch(count: rows, dimension: d, values: (0..<(rows * d)).map { $0 % d == 0 ? Double($0 / d) : 1 })
    return SDEProblem(drift: drift, diffusion: ConstantDiffusion(sigma), initial: initial, t0: 0, t1: 1)
  }

  @Test("Rows solved tile by tile give the bits of one row at a time", arguments: [1, 2])
  func tiles(threads: Int) throws {
    #expect(rowTiles(0..<300, dimension: 256, bytes: driverTileBytes) == [0..<128, 128..<256, 256..<300])
    let whole = try solve(wideProblem(rows: 300), solver: EulerMaruyama(), grid: .uniform(steps: 20), seed: 5,
                          threads: threads).final
    for row in [0, 127, 128, 255, 256, 299] {
      var single = wideProblem(rows: 1)
      single.initial = wideProblem(rows: 300).initial.rows(row..<(row + 1))
      let alone = try solve(single, solver: EulerMaruyama(), grid: .uniform(steps: 20), seed: 5,
                            firstSample: row, threads: 1).final
      #expect(alone == whole.rows(row..<(row + 1)), "row \(row)")
    }
  }

  @Test("Across tiles, the failure reported is the earliest by step, then row", arguments: [1, 2])
  func nonFiniteAcrossTiles(threads: Int) {
    // Row 10 (first tile) turns NaN at step 12 of 16; rows 200 and 290 (later tiles) at step 4.
    // Without noise the first value of each row stays its row number.
    let drift = DriftFunction { x, t, out in
      let d = x.dimension
      for e in 0..<x.count { out[e] = 0 }
      for row in 0..<(x.count / d) {
        let marker = x[row * d]
        if (marker == 10 && t >= 0.75) || ((marker == 200 || marker == 290) && t >= 0.25) { out[row * d] = .nan }
      }
    }
    do {
      _ = try solve(wideProblem(rows: 300, sigma: 0, drift: drift), solver: EulerMaruyama(), grid: .uniform(steps: 16),
                    seed: 0, threads: threads)
      Issue.record("expected an error")
    } catch let error as SolveError {
      #expect(error == .nonFinite(row: 200, step: 4, time: 0.3125))
    } catch { Issue.record("\(error)") }
  }

  @Test("Bad grids and settings are rejected before integrating")
  func badConfiguration() {
    let problem = LinearODE().problem()
    #expect(throws: SolveError.self) { try solve(problem, solver: Euler(), grid: .uniform(steps: 0)) }
    #expect(throws: SolveError.self) { try solve(problem, solver: Euler(), grid: .times([0, 0.5, 0.4, 1])) }
    #expect(throws: SolveError.self) { try solve(problem, solver: Euler(), grid: .times([0, 0.5])) }
    #expect(throws: SolveError.self) { try solve(problem, solver: Euler(), grid: .uniform(steps: 4), threads: 0) }
    // A Brownian path on 8 fine intervals cannot serve a step inside one of them (from 1/3 to
    // 0.34), nor times outside [0, 1].
    let gbm = GeometricBrownianMotion().problem(paths: 2)
    #expect(throws: SolveError.self) {
      try solve(gbm, solver: EulerMaruyama(), grid: .times([0, 1.0 / 3, 0.34, 1]),
                noise: BrownianGrid(seed: 0, t0: 0, t1: 1, finestSteps: 8))
    }
    #expect(throws: SolveError.self) {
      try solve(gbm, solver: EulerMaruyama(), grid: .uniform(steps: 3),
                noise: BrownianGrid(seed: 0, t0: 0, t1: 0.5, finestSteps: 8))
    }
  }

  @Test("A Brownian path or tree serves only solves that run from its t0 towards its t1")
  func brownianDirection() throws {
    let gbm = GeometricBrownianMotion()
    let backward = SDEProblem(drift: gbm.drift, diffusion: gbm.diffusion, initial: StateBatch(count: 3, repeatingRow: [0.5]),
                              t0: 1, t1: 0)
    func refused<B: BrownianSource>(_ noise: B) -> String? {
      do {
        _ = try solve(backward, solver: EulerMaruyama(), grid: .uniform(steps: 4), noise: noise)
        return nil
      } catch SolveError.invalidConfiguration(let message) {
        return message
      } catch {
        return "\(error)"
      }
    }
    // Sources over [0, 1] built forward: refused with the direction named (they trapped before:
    // the grid on a negative range, the tree on its forward-only walk).
    let grid = refused(BrownianGrid(seed: 0, t0: 0, t1: 1, finestSteps: 8))
    #expect(grid == "a Brownian path runs from t0 = 0.0 to t1 = 1.0; the step from 1.0 to 0.75 runs the other way (build it with its ends in the solve's order)")
    let tree = refused(try BrownianTree(seed: 0, t0: 0, t1: 1, depth: 4))
    #expect(tree == "a Brownian tree runs from t0 = 0.0 to t1 = 1.0; the step from 1.0 to 0.75 runs the other way (build it with its ends in the solve's order)")
    // Built the solve's way (as the reverse-time samplers build theirs), both serve it.
    #expect(refused(BrownianGrid(seed: 0, t0: 1, t1: 0, finestSteps: 8)) == nil)
    #expect(refused(try BrownianTree(seed: 0, t0: 1, t1: 0, depth: 4)) == nil)
  }
}

