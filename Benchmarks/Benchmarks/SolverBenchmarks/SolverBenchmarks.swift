import Benchmark
import Samplers
import ScoreModels
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
    registerSampler(target: .gmm2d8, sampler: "euler-maruyama", steps: 1000, count: 10_000, threads: threads)
  }
  register("W4/gbm", GeometricBrownianMotion(), SRIW1(), threads: 1)
  // W3 at a tenth of its size (1,000 of 10,000 samples): per sample-step the same.
  registerSampler(target: .gmm64d16, sampler: "euler-maruyama", steps: 1000, count: 1_000, threads: 1)
  // W2: the probability-flow ODE, whole batch as one system, rtol = atol = 1e-5.
  for sampler in ["ode-dopri5", "ode-gsl-rkf45", "ode-gsl-rk8pd"] {
    registerSampler(target: .gmm2d8, sampler: sampler, steps: nil, count: 10_000, threads: 1)
  }

  // W5: one evaluation of the REFERENCE MLP (2 + 32 → 128³ → 2, SiLU, float32) on 10,000 rows.
  Benchmark("W5/mlp/batch=10000", configuration: .init(metrics: [.wallClock, .mallocCountTotal], maxIterations: 50)) { benchmark in
    let architecture = MLPArchitecture(dimension: 2)
    let mlp = try MLP(architecture: architecture, parameters: initialParameters(architecture, seed: 1))
    let x = TargetName.gmm2d8.mixture.sample(count: 10_000, seed: 1).values
    var out = [Double](repeating: 0, count: x.count)
    benchmark.startMeasurement()
    x.withUnsafeBufferPointer { xp in
      out.withUnsafeMutableBufferPointer {
        mlp.predict(BatchView(xp, dimension: 2), t: 0.5, into: MutableBatchView($0, dimension: 2))
      }
    }
    blackHole(out[0])
  }

  // The Brownian source alone: what the noise costs per path-step.
  Benchmark("noise/brownian-increments/width=1", configuration: configuration) { benchmark in
    let source = BrownianIncrements(seed: 1)
    var w = [Double](repeating: 0, count: paths)
    benchmark.startMeasurement()
    w.withUnsafeMutableBufferPointer { buffer in
      for step in 0..<steps {
        let h = 1.0 / Double(steps)
        source.fill(rows: 0..<paths, width: 1,
                    step: GridStep(index: step, count: steps, t: Double(step) * h, next: Double(step + 1) * h),
                    increments: buffer.baseAddress!, spaceTime: nil)
      }
    }
    blackHole(w[0])
  }
}

/// One sampling run of shared/REFERENCE.md's workloads (W1 at a tenth of its samples: the cost
/// per sample-step is the same), reporting wall time, score evaluations per sample and sliced W2
/// (×1000, against exact samples; its floor at 10,000 samples is ≈ 0.06).
func registerSampler(target: TargetName, sampler: String, steps: Int?, count: Int, threads: Int) {
  let setting = steps.map { "steps=\($0)" } ?? "rtol=1e-5"
  let metrics: [BenchmarkMetric] = [.wallClock, .mallocCountTotal, .custom("nfe"), .custom("sw2x1000")]
  Benchmark("VP/\(target.rawValue)/\(sampler)/\(setting)/count=\(count)/threads=\(threads)",
            configuration: .init(metrics: metrics, maxDuration: .seconds(10), maxIterations: 5)) { benchmark in
    var c = SamplingConfiguration()
    c.target = target
    c.sampler = SamplerName(name: sampler)!
    c.steps = steps ?? 1000
    c.count = count
    c.threads = threads
    benchmark.startMeasurement()
    let result = try runSampler(c)
    benchmark.stopMeasurement()
    let metrics = try evaluateSamples(result.samples, target: target.mixture, floorPairs: 1)
    benchmark.measurement(.custom("nfe"), result.nfe)
    benchmark.measurement(.custom("sw2x1000"), Int((metrics.slicedW2 * 1000).rounded()))
  }
}
