import Benchmark
import SDEKit

// Workload W4 of shared/REFERENCE.md at its finest resolution: 10,000 GBM paths, dt = 2⁻¹⁰,
// noise generated per step (BrownianIncrements), one solve per iteration. Every benchmark
// reports wall time per solve; divide by 10,000 × 1024 path-steps for ns per path-step.
// SRA1 needs additive noise, so it runs on the additive linear SDE at the same size, beside
// Euler–Maruyama on that problem as its peer.
let paths = 10_000
let steps = 1 << 10

var configuration: Benchmark.Configuration {
  .init(metrics: [.wallClock, .mallocCountTotal], maxDuration: .seconds(5), maxIterations: 20)
}

/// One benchmark: a solve of `problem` with `solver` on `threads` threads.
func register<P: SDETestProblem, S: SDESolver>(_ name: String, _ problem: P, _ solver: S, threads: Int) {
  Benchmark("\(name)/\(solver.descriptor.name)/dt=2^-10/threads=\(threads)", configuration: configuration) { benchmark in
    let sde = problem.problem(paths: paths)
    benchmark.startMeasurement()
    let solution = try solve(sde, solver: solver, grid: .uniform(steps: steps), seed: 1, threads: threads)
    blackHole(solution.final.values[0])
  }
}

let benchmarks: @Sendable () -> Void = {
  for threads in [1, 2] {
    register("W4/gbm", GeometricBrownianMotion(), EulerMaruyama(), threads: threads)
    register("W4/gbm", GeometricBrownianMotion(), Milstein(), threads: threads)
    register("additive", LinearAdditiveSDE(), EulerMaruyama(), threads: threads)
    register("additive", LinearAdditiveSDE(), SRA1(), threads: threads)
  }

  // The Brownian source alone: what the noise costs per path-step.
  Benchmark("noise/brownian-increments/width=1", configuration: configuration) { benchmark in
    let source = BrownianIncrements(seed: 1)
    var w = [Double](repeating: 0, count: paths)
    benchmark.startMeasurement()
    w.withUnsafeMutableBufferPointer { buffer in
      for step in 0..<steps {
        source.fill(rows: 0..<paths, width: 1, step: step, stepCount: steps, h: 1.0 / Double(steps),
                    increments: buffer.baseAddress!, spaceTime: nil)
      }
    }
    blackHole(w[0])
  }
}
