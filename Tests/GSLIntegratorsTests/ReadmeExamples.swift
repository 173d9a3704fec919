import Foundation
import GSLIntegrators
import SDEKit
import Testing

/// The README's library examples, verbatim apart from the assertions, so they cannot rot.
@Suite("README examples")
struct ReadmeExamples {
  @Test("GBM with Milstein: the sample mean is near X₀e^μ")
  func gbm() throws {
    let gbm = GeometricBrownianMotion(mu: 1.01, sigma: 0.87, x0: 0.5)
    let solution = try solve(gbm.problem(paths: 10_000), solver: Milstein(),
                             grid: .uniform(steps: 1024), seed: 42)
    let mean = solution.final.values.reduce(0, +) / 10_000        // ≈ 0.5·e^1.01 = 1.373
    // Var X_T = X₀²e^{2μ}(e^{σ²} − 1) ≈ 2.13, so the standard error of the mean is ≈ 0.0146;
    // five of them.
    #expect(abs(mean - 0.5 * exp(1.01)) < 5 * 0.0146)
    #expect(solution.statistics.steps == 1024)
  }

  struct DoubleWellDrift: Drift {
    func drift(_ x: BatchView, t: Double, into out: MutableBatchView) {
      for i in 0..<x.count { out[i] = x[i] - x[i] * x[i] * x[i] }
    }
  }

  @Test("A user-defined SDE under SRA1")
  func custom() throws {
    let noise = ConstantDiffusion(0.5)                     // additive noise, g = 0.5
    let problem = SDEProblem(drift: DoubleWellDrift(), diffusion: noise,
                             initial: StateBatch(count: 1000, dimension: 1), t0: 0, t1: 1)
    let samples = try solve(problem, solver: SRA1(), grid: .uniform(steps: 100), seed: 1).final
    // The drift is odd and the start symmetric: the mean stays near 0 (SE < 0.5/√1000·2).
    #expect(abs(samples.values.reduce(0, +) / 1000) < 0.1)
  }

  @Test("Adaptive solvers: stiff per-sample msbdf and Dormand–Prince with save times")
  func adaptive() throws {
    let vdp = VanDerPol()
    let stiff = GSLODESolver(.msbdf, settings: AdaptiveSettings(tolerance: 1e-8))
    let result = try solve(vdp.problem(copies: 100), solver: stiff, mode: .perSample)
    #expect(result.statistics.steps > 0)
    let native = try solve(LotkaVolterra().problem(), solver: DormandPrince5(), saveAt: .times([2, 5, 10]))
    #expect(native.times == [2, 5, 10])
  }
}
