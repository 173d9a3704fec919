/// The coefficients of a Rößler stochastic Runge–Kutta method of SRI form (SRA methods are the
/// special case A₁ = B₁ = 0, β₂ = β₄ = 0):
///
/// ```
/// H⁰_i = x + Σ_j A⁰_ij h f(H⁰_j, t + c⁰_j h) + Σ_j B⁰_ij g(H¹_j, t + c¹_j h) I₍₁,₀₎/|h|
/// H¹_i = x + Σ_j A¹_ij h f(H⁰_j, t + c⁰_j h) + Σ_j B¹_ij g(H¹_j, t + c¹_j h) √|h|
/// x₊   = x + Σ_i α_i h f(H⁰_i, t + c⁰_i h)
///          + Σ_i (β¹_i I₍₁₎ + β²_i I₍₁,₁₎/√|h| + β³_i I₍₁,₀₎/|h| + β⁴_i I₍₁,₁,₁₎/|h|) g(H¹_i, t + c¹_i h)
/// ```
///
/// with, per Wiener process, I₍₁₎ = ΔW, I₍₁,₁₎ = (ΔW² − |h|)/2, I₍₁,₀₎ = ΔZ = ∫(W_s − W_t) ds,
/// I₍₁,₁,₁₎ = (ΔW³ − 3|h|ΔW)/6. Reference: A. Rößler, "Runge–Kutta methods for the strong
/// approximation of solutions of stochastic differential equations", SIAM J. Numer. Anal. 48
/// (2010) 922–952, eqs. (6.1) (SRI) and (6.3) (SRA).
public struct StochasticRungeKuttaTableau: Sendable, Hashable {
  public let c0: [Double]
  public let c1: [Double]
  /// Square s × s, strictly lower triangular.
  public let a0: [[Double]]
  public let a1: [[Double]]
  public let b0: [[Double]]
  public let b1: [[Double]]
  public let alpha: [Double]
  public let beta1: [Double]
  public let beta2: [Double]
  public let beta3: [Double]
  public let beta4: [Double]
  /// Stages whose drift value some formula uses (others are never evaluated).
  public let driftUsed: [Bool]
  /// Stages whose diffusion value some formula uses.
  public let diffusionUsed: [Bool]

  public init(c0: [Double], c1: [Double], a0: [[Double]], a1: [[Double]]? = nil, b0: [[Double]],
              b1: [[Double]]? = nil, alpha: [Double], beta1: [Double], beta2: [Double]? = nil,
              beta3: [Double], beta4: [Double]? = nil) {
    let s = alpha.count
    let zeroMatrix = Array(repeating: Array(repeating: 0.0, count: s), count: s)
    let zeroVector = Array(repeating: 0.0, count: s)
    self.c0 = c0
    self.c1 = c1
    self.a0 = a0
    self.a1 = a1 ?? zeroMatrix
    self.b0 = b0
    self.b1 = b1 ?? zeroMatrix
    self.alpha = alpha
    self.beta1 = beta1
    self.beta2 = beta2 ?? zeroVector
    self.beta3 = beta3
    self.beta4 = beta4 ?? zeroVector
    for m in [c0, c1, beta1, self.beta2, beta3, self.beta4] { precondition(m.count == s, "tableau sizes disagree") }
    for m in [a0, self.a1, b0, self.b1] {
      precondition(m.count == s && m.allSatisfy { $0.count == s }, "tableau matrices must be \(s)×\(s)")
      for i in 0..<s { for j in i..<s { precondition(m[i][j] == 0, "tableau must be explicit") } }
    }
    let a1Final = self.a1, b1Final = self.b1, beta2Final = self.beta2, beta4Final = self.beta4
    self.driftUsed = (0..<s).map { j in
      alpha[j] != 0 || (0..<s).contains { a0[$0][j] != 0 || a1Final[$0][j] != 0 }
    }
    self.diffusionUsed = (0..<s).map { j in
      beta1[j] != 0 || beta2Final[j] != 0 || beta3[j] != 0 || beta4Final[j] != 0
        || (0..<s).contains { b0[$0][j] != 0 || b1Final[$0][j] != 0 }
    }
  }

  public var stages: Int { alpha.count }
}

/// An SDE solver defined by a Rößler tableau; the one kernel below does the stepping.
public protocol StochasticRungeKuttaMethod: SDESolver {
  static var tableau: StochasticRungeKuttaTableau { get }
}

extension StochasticRungeKuttaMethod {
  /// Per stage a drift and a diffusion buffer, plus the two stage inputs H⁰ and H¹.
  public func makeWorkspace(rows: Int, dimension: Int) -> SolverWorkspace {
    SolverWorkspace(buffers: 2 * Self.tableau.stages + 2, rows: rows, dimension: dimension)
  }

  @inlinable
  public func step<F: Drift, G: Diffusion>(
    drift: F, diffusion: G, x: UnsafeMutableBufferPointer<Double>, t: Double, h: Double,
    noise: StepNoise, dimension: Int, workspace: SolverWorkspace
  ) {
    let tableau = Self.tableau
    let s = tableau.stages
    let n = x.count
    let absH = noise.absStep
    let rootH = absH.squareRoot()
    let dW = noise.increments
    let dZ = noise.spaceTime!
    let h0 = workspace[2 * s], h1 = workspace[2 * s + 1]
    let additive = diffusion.noise == .additive

    // The stage inputs run a block of elements at a time through all their terms
    // (`addStageTerms`: the bits of one pass over the whole batch per term) while the block stays
    // in the nearest cache. A stage whose terms are all zero evaluates x itself.
    let block = stochasticRungeKuttaBlock
    withUnsafeTemporaryAllocation(of: StageTerm.self, capacity: 2 * s) { scratch in
      /// The terms a_j h f_j and scale(b_j) g_j (times ΔZ for a drift stage) of H = x + Σ_j …
      /// with non-zero coefficients, in the order of the formulas.
      func terms(stage i: Int, drift a: [Double], diffusion b: [Double], scaled scale: (Double) -> Double,
                 timesSpaceTime: Bool) -> UnsafeBufferPointer<StageTerm> {
        var count = 0
        for j in 0..<i {
          if a[j] != 0 {
            scratch[count] = StageTerm(a[j] * h, UnsafePointer(workspace[j].baseAddress!))
            count += 1
          }
          if b[j] != 0 {
            scratch[count] = StageTerm(scale(b[j]), UnsafePointer(workspace[s + j].baseAddress!),
                                       times: timesSpaceTime ? dZ.baseAddress! : nil)
            count += 1
          }
        }
        return UnsafeBufferPointer(rebasing: scratch[..<count])
      }
      func input(_ out: UnsafeMutableBufferPointer<Double>, _ terms: UnsafeBufferPointer<StageTerm>)
        -> UnsafeBufferPointer<Double> {
        guard !terms.isEmpty else { return UnsafeBufferPointer(x) }
        for start in stride(from: 0, to: n, by: block) {
          addStageTerms(terms, to: UnsafePointer(x.baseAddress!), into: out.baseAddress!,
                        elements: start..<min(n, start &+ block))
        }
        return UnsafeBufferPointer(out)
      }
      for i in 0..<s {
        // H⁰_i, needed for the drift of stage i.
        if tableau.driftUsed[i] {
          let h0i = input(h0, terms(stage: i, drift: tableau.a0[i], diffusion: tableau.b0[i], scaled: { $0 / absH },
                                    timesSpaceTime: true))
          drift.drift(BatchView(h0i, dimension: dimension), t: t + tableau.c0[i] * h, into: MutableBatchView(workspace[i], dimension: dimension))
        }
        // H¹_i, needed for the diffusion of stage i; additive noise does not depend on x.
        if tableau.diffusionUsed[i] {
          let h1i = additive ? UnsafeBufferPointer(x)
            : input(h1, terms(stage: i, drift: tableau.a1[i], diffusion: tableau.b1[i], scaled: { $0 * rootH },
                              timesSpaceTime: false))
          diffusion.diffusion(BatchView(h1i, dimension: dimension), t: t + tableau.c1[i] * h, into: MutableBatchView(workspace[s + i], dimension: dimension))
        }
      }
    }

    let inverseH = 1 / absH, inverseRootH = 1 / rootH
    // I₍₁,₁₎ and I₍₁,₁,₁₎ of a block, made once for all stages.
    withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 * block) { integrals in
      let i11 = integrals.baseAddress!, i111 = i11 + block
      for start in stride(from: 0, to: n, by: block) {
        // x += a_i h f_i + g_i (b1 ΔW + b2 I₁₁ + b3 ΔZ + b4 I₁₁₁) per stage, in C (Math/Updates.swift).
        let count = min(n, start &+ block) &- start
        stochasticRungeKuttaIntegrals(count: count, increments: dW.baseAddress! + start, absStep: absH, i11: i11, i111: i111)
        for i in 0..<s {
          let a = tableau.alpha[i] * h
          if a != 0 {
            stochasticRungeKuttaDriftUpdate(count: count, x.baseAddress! + start, a, workspace[i].baseAddress! + start)
          }
          let b1 = tableau.beta1[i], b2 = tableau.beta2[i] * inverseRootH
          let b3 = tableau.beta3[i] * inverseH, b4 = tableau.beta4[i] * inverseH
          guard b1 != 0 || b2 != 0 || b3 != 0 || b4 != 0 else { continue }
          stochasticRungeKuttaDiffusionUpdate(
            count: count, x.baseAddress! + start, workspace[s + i].baseAddress! + start, b1, dW.baseAddress! + start,
            b2, i11, b3, dZ.baseAddress! + start, b4, i111)
        }
      }
    }
  }
}

/// Elements per block of a stochastic Runge–Kutta step's combinations: 4 KB per buffer, so the
/// dozen buffers a step reads stay in the first-level cache between the passes over a block.
@usableFromInline let stochasticRungeKuttaBlock = 512
