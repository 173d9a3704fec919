import Foundation
import GSLIntegrators
import SDEKit
import ScoreModels
import Testing
@testable import Samplers

@Suite("The sampling engine: one driver, shared paths, the DDPM chain, a resolving comparison")
struct EngineTests {
  /// A short run of `sampler` on a process it supports; adaptive samplers per sample, so that
  /// each row is its own system.
  static func configuration(_ sampler: SamplerName) -> SamplingConfiguration {
    var c = SamplingConfiguration()
    c.sampler = sampler
    c.process = sampler.descriptor.processes.contains(.vp) ? .vp : .ve
    c.steps = 12
    c.count = 61
    c.seed = 4
    c.diffusionSettings.eta = 0.5
    c.diffusionSettings.correctorSteps = 2
    c.relativeTolerance = 1e-3
    c.absoluteTolerance = 1e-3
    c.mode = .perSample
    return c
  }

  @Test("Every sampler in the registry: one batch, three uneven parts, 1 or 2 threads give the same bits",
        arguments: SamplerName.allCases)
  func splitsAndThreads(_ sampler: SamplerName) throws {
    var c = Self.configuration(sampler)
    c.threads = 1
    let whole = try runSampler(c).samples
    c.threads = 2
    #expect(try runSampler(c).samples == whole, "2 threads")
    var parts: [Double] = []
    for rows in [0..<7, 7..<40, 40..<61] { parts += try runSampler(c, rows: rows).samples.values }
    #expect(parts == whole.values, "three parts")
  }

  @Test("The same rows on a shared Brownian path: SDE samplers at different grids see one path")
  func sharedPath() throws {
    // Euler–Maruyama on the reverse VP SDE at 64, 256 and 1024 steps on one path per sample
    // converges to one limit: the pathwise RMS differences fall about twofold per fourfold
    // refinement (strong order 1/2 in general, 1 for additive noise: expect at least 1.8×).
    var c = Self.configuration(.reverseSDE(.eulerMaruyama))
    c.count = 400
    c.brownianPathLevels = 12
    func run(_ steps: Int) throws -> StateBatch {
      c.steps = steps
      return try runSampler(c).samples
    }
    let (coarse, middle, fine) = (try run(64), try run(256), try run(1024))
    let first = pathError(coarse, fine).rms, second = pathError(middle, fine).rms
    #expect(second * 1.8 <= first, "RMS to the 1024-step run: \(first) at 64 steps, \(second) at 256")
    // With independent increments per step the runs do not share a path: no such fall.
    c.brownianPathLevels = nil
    let (a, b) = (try run(64), try run(1024))
    #expect(pathError(a, b).rms > 3 * first, "independent paths differ by the noise itself")
  }
}

@Suite("compare resolves samplers")
struct ComparisonTests {
  /// `make demo`'s comparison (its samplers, steps and tolerances), at 2,000 samples: the
  /// pathwise errors' standard errors are then 1–10 % of the errors (SRA1's, the largest, from
  /// the few samples between modes), under the falls between settings.
  static let demoSamplers: [SamplerName] = ["euler-maruyama", "sra1", "pc-langevin", "ddim", "ode-heun", "ode-gsl-rkf45"]
    .map { SamplerName(name: $0)! }
  static let demoSteps = [10, 20, 50, 100, 200]
  static let demoTolerances = [1e-2, 1e-3, 1e-4, 1e-5]

  @Test("On the demo's comparison, probability-flow and SDE samplers' pathwise errors fall with NFE, fixed-step flows at their order")
  func demoComparison() throws {
    var base = SamplingConfiguration()
    base.count = 2000
    base.seed = 0
    let rows = try compareSamplers(base: base, samplers: Self.demoSamplers, steps: Self.demoSteps,
                                   tolerances: Self.demoTolerances)
    for sampler in Self.demoSamplers where sampler.descriptor.family != .diffusion {
      let mine = rows.filter { $0.sampler == sampler.name }.sorted { $0.nfe < $1.nfe }
      let errors = mine.map(\.pathError)
      #expect(zip(errors, errors.dropFirst()).allSatisfy { $1 < $0 }, "\(sampler.name): \(errors)")
      // Each fall is larger than the two standard errors together: the comparison resolves it.
      // (The runs are paired, same points and path, so the difference is less noisy than that.)
      for (a, b) in zip(mine, mine.dropFirst()) {
        #expect(a.pathError - b.pathError > a.pathErrorStderr + b.pathErrorStderr,
                "\(sampler.name) \(a.setting) → \(b.setting): \(a.pathError) ± \(a.pathErrorStderr) → \(b.pathError) ± \(b.pathErrorStderr)")
      }
      // Fixed-step probability-flow samplers: slope over the finest three settings within 0.3 of
      // the order (error ∝ h^p ∝ NFE^−p). Adaptive samplers' NFE is not proportional to 1/h (the
      // controller redistributes steps with the tolerance), so only their fall is asserted.
      if sampler.descriptor.family == .probabilityFlow, !sampler.descriptor.adaptive, let order = sampler.descriptor.order {
        let finest = mine.suffix(3)
        let slope = -leastSquaresSlope(x: finest.map { log(Double($0.nfe)) }, y: finest.map { log($0.pathError) })
        #expect(abs(slope - order) <= 0.3, "\(sampler.name): slope \(slope), order \(order)")
      }
    }
    // The rows carry what the JSON promises, with the floors beside the metrics.
    for row in rows {
      #expect(row.sw2Floor > 0 && row.covarianceErrorFloor > 0 && row.meanLogDensityStderr > 0)
      #expect(row.pathErrorStderr >= 0 && row.pathErrorStderr < row.pathError)
    }
  }
}

extension ComparisonTests {
  /// A small comparison's base: 16 rows.
  static func smallBase(_ process: ProcessName) -> SamplingConfiguration {
    var base = SamplingConfiguration()
    base.process = process
    base.count = 16
    base.seed = 2
    return base
  }

  /// The error `SamplerComparison.init` throws for these runs, or nil.
  static func refusal(_ base: SamplingConfiguration, _ samplers: [String], steps: [Int],
                      reference: GaussianMixture? = nil, initial: StateBatch? = nil) -> String? {
    do {
      _ = try SamplerComparison(base: base, samplers: samplers.map { SamplerName(name: $0)! }, steps: steps,
                                tolerances: [1e-2], reference: reference, initial: initial)
      return nil
    } catch { return "\(error)" }
  }

  @Test("An SDE sampler's reference takes the run's interval, not its grid options: --rho and --timestep-spacing runs measure")
  func sdeReferenceGrid() throws {
    var karras = Self.smallBase(.edm)
    karras.grid = .karras
    karras.rho = 5
    var spaced = Self.smallBase(.ddpm)
    spaced.timestepSpacing = .linspace
    for base in [karras, spaced] {
      let comparison = try SamplerComparison(base: base, samplers: [.reverseSDE(.eulerMaruyama)], steps: [6],
                                             tolerances: [])
      #expect(try comparison.measure(0).count == 16)
    }
  }

  @Test("Probability-flow runs that start at different times get their own references; SDE and diffusion runs whose reference would start elsewhere are refused")
  func referencesFollowTheInterval() throws {
    var leading = Self.smallBase(.ddpm)
    leading.timestepSpacing = .leading
    // diffusers' leading timesteps start at 10·⌊1000/11⌋ = 900 for 10 steps, 20·⌊1000/21⌋ = 940
    // for 20: two dopri5 references, so two runs and two references are counted.
    let comparison = try SamplerComparison(base: leading, samplers: [.probabilityFlow(.heun)], steps: [10, 20],
                                           tolerances: [], starting: { _, runs, label in
                                             if label.hasPrefix("reference") { #expect(runs == 4, "\(label)") }
                                           })
    #expect(comparison.runs.map { $0.times[0] } == [901.0 / 1000, 941.0 / 1000])
    _ = try comparison.measure(0)
    _ = try comparison.measure(1)
    // SRA1's uniform steps start at T, the run at t = 0.901; DDIM at 16× the steps at another
    // leading timestep: refused before sampling, naming the spacing.
    for sampler in ["euler-maruyama", "ddim"] {
      let refusal = Self.refusal(leading, [sampler], steps: [10])
      #expect(refusal?.contains("leading") == true, "\(sampler): \(refusal ?? "no error")")
    }
  }

  @Test("A comparison refuses starting points of the wrong shape and a metrics reference of another dimension, before sampling")
  func comparisonShapes() {
    let base = Self.smallBase(.vp)
    let rows = Self.refusal(base, ["ode-heun"], steps: [4], initial: StateBatch(count: 3, dimension: 2))
    #expect(rows?.contains("3 × 2") == true && rows?.contains("16 × 2") == true, "\(rows ?? "no error")")
    let sde = Self.refusal(base, ["adaptive-sra1"], steps: [4], initial: StateBatch(count: 3, dimension: 2))
    #expect(sde?.contains("3 × 2") == true, "\(sde ?? "no error")")
    let dimension = Self.refusal(base, ["ode-heun"], steps: [4], reference: TargetName.gmm64d16.mixture)
    #expect(dimension?.contains("64") == true && dimension?.contains("gmm2d8") == true, "\(dimension ?? "no error")")
  }
}

@Suite("The DDPM chain")
struct DDPMChainTests {
  @Test("The chain's ᾱ: a(t_i)² = ᾱ_i at step times, 1 at t = 0, and VP (a² + s² = 1) in between")
  func schedule() {
    let chain = DDPMChain()
    let schedule = chain.schedule
    for i in [0, 1, 99, 500, 999] {
      let t = Double(i + 1) / 1000
      #expect(chain.meanCoefficient(t) == schedule.alphaBars[i].squareRoot())
      #expect(chain.networkTime(t) == Double(i))
    }
    #expect(chain.meanCoefficient(0) == 1 && chain.standardDeviation(0) == 0)
    for t in [0.0004, 0.1234, 0.9995] {
      let a = chain.meanCoefficient(t), s = chain.standardDeviation(t)
      #expect(abs(a * a + s * s - 1) < 1e-14)
    }
    // The chain is not the VP SDE: ᾱ_i and a(t_i)² of β_min = 0.1, β_max = 20 differ by up to
    // a few 1e-4 (the continuous limit's rounding of the discrete products).
    let vp = VPSDE()
    var gap = 0.0
    for i in 0..<1000 {
      let a = vp.meanCoefficient(Double(i + 1) / 1000)
      gap = max(gap, abs(schedule.alphaBars[i] - a * a))
    }
    #expect(gap > 1e-5)
  }

  @Test("The forward chain from exact data matches q(x_i | x₀) = N(√ᾱ_i x₀, (1 − ᾱ_i) I) in its moments")
  func forwardChain() {
    // 40,000 exact gmm2d8 samples pushed through x_i = √(1 − β_i) x_{i−1} + √β_i z_i. At step i
    // the mean is √ᾱ_i m and the covariance ᾱ_i C + (1 − ᾱ_i) I. Bounds: five standard errors
    // of each sample moment (the mean's SE is √(var/n); a covariance entry's is √((σ_jj σ_kk +
    // σ_jk²)/n) for near-Gaussian marginals, and these mixtures' heavier structure is covered by
    // taking the SE from the sample fourth moments).
    let mixture = TargetName.gmm2d8.mixture
    let chain = DDPMChain(), schedule = chain.schedule
    let n = 40_000, d = 2
    var x = mixture.sample(count: n, seed: 17)
    let normals = NormalSource(seed: 17)
    var z = [Double](repeating: 0, count: n * d)
    let checkpoints: Set<Int> = [0, 99, 499, 999]
    let m = mixture.mean, C = mixture.covariance
    for i in 0..<1000 {
      z.withUnsafeMutableBufferPointer {
        normals.fill(rows: 0..<n, stream: .brownian(interval: i), count: d, scale: 1, into: $0.baseAddress!)
      }
      let keep = (1 - schedule.betas[i]).squareRoot(), add = schedule.betas[i].squareRoot()
      for e in 0..<(n * d) { x.values[e] = keep * x.values[e] + add * z[e] }
      guard checkpoints.contains(i) else { continue }
      let alphaBar = schedule.alphaBars[i]
      for j in 0..<d {
        let column = (0..<n).map { x[$0, j] }
        let mean = column.reduce(0, +) / Double(n)
        let expectedMean = alphaBar.squareRoot() * m[j]
        let expectedVariance = alphaBar * C[j * d + j] + (1 - alphaBar)
        #expect(abs(mean - expectedMean) <= 5 * (expectedVariance / Double(n)).squareRoot(), "step \(i) mean \(j)")
        let centred = column.map { ($0 - mean) * ($0 - mean) }
        let variance = centred.reduce(0, +) / Double(n - 1)
        let fourth = centred.reduce(0) { $0 + $1 * $1 } / Double(n)
        let varianceSE = ((fourth - variance * variance) / Double(n)).squareRoot()
        #expect(abs(variance - expectedVariance) <= 5 * varianceSE, "step \(i) variance \(j): \(variance) vs \(expectedVariance)")
      }
    }
  }

  @Test("Ancestral sampling on the chain with exact scores reaches gmm2d8, and differs from the VP SDE's")
  func reachesTarget() throws {
    var c = SamplingConfiguration()
    c.process = .ddpm
    c.sampler = .ddpm
    c.steps = 1000
    c.count = 20_000
    c.seed = 1
    let target = TargetName.gmm2d8.mixture
    let chain = try runSampler(c).samples
    // Covariance within the quality test's bound, modes within 4 binomial SEs, mean log p within
    // 4 SEs of the exact (as SamplersTests.quality).
    let covarianceError = momentErrors(chain, target: target).1
    #expect(covarianceError <= SamplersTests.covarianceErrorBound, "covariance error \(covarianceError)")
    let n = Double(chain.count), binomial = (0.125 * 0.875 / n).squareRoot()
    var counts = [Double](repeating: 0, count: 8)
    for k in target.mostResponsibleComponent(chain.values) { counts[k] += 1 }
    for count in counts { #expect(abs(count / n - 0.125) <= 4 * binomial) }
    let (mean, standardError) = SamplersTests.meanLogDensityAndError(chain)
    #expect(abs(mean - SamplersTests.exactMeanLogDensity) <= 4 * standardError)
    // `--sde vp` with the same sampler and seed: another process, other samples.
    c.process = .vp
    let vp = try runSampler(c).samples
    #expect(pathError(chain, vp).rms > 1e-3)
  }

  @Test("DDIM on the chain uses the chain's ᾱ: one step from t_i to t_j is the closed form")
  func ddimUsesChain() throws {
    // With η = 0 and two grid times, DDIM maps x to √ᾱ_j x̂₀ + √(1 − ᾱ_j) ε̂ with x̂₀ and ε̂ from
    // the exact score at ᾱ_i: check against that formula evaluated directly (to rounding).
    let chain = DDPMChain(), mixture = TargetName.gmm2d8.mixture
    let score = ExactMixtureScore(mixture: mixture, process: chain)
    let (i, j) = (699, 299)
    let times = [Double(i + 1) / 1000, Double(j + 1) / 1000]
    let x = mixture.sample(count: 32, seed: 3)
    let out = try sample(.ddim, process: chain, score: score, initial: x, times: times).samples
    let ab = chain.schedule.alphaBars
    var gradient = StateBatch(count: 32, dimension: 2)
    x.withView { xv in gradient.withMutableView { score.score(xv, t: times[0], into: $0) } }
    for e in 0..<64 {
      let epsilon = -(1 - ab[i]).squareRoot() * gradient.values[e]
      let x0 = (x.values[e] - (1 - ab[i]).squareRoot() * epsilon) / ab[i].squareRoot()
      let expected = ab[j].squareRoot() * x0 + (1 - ab[j]).squareRoot() * epsilon
      #expect(abs(out.values[e] - expected) <= 1e-12 * max(1, abs(expected)))
    }
  }
}
