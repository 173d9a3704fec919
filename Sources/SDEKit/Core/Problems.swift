/// An SDE dx = f(x,t) dt + g(x,t) dW on [t0, t1] from a batch of initial states.
///
/// `t1 < t0` is allowed: the problem is then solved in reverse time with negative steps, the
/// noise scaled by |h| (a reverse-time SDE is a forward SDE in τ = t0 − t).
public struct SDEProblem<F: Drift, G: Diffusion>: Sendable {
  public var drift: F
  public var diffusion: G
  public var initial: StateBatch
  public var t0: Double
  public var t1: Double
  /// The calculus the equation is written in; solvers converging to the other one are refused
  /// unless the noise is additive (where the two coincide).
  public var calculus: Calculus

  public init(drift: F, diffusion: G, initial: StateBatch, t0: Double, t1: Double,
              calculus: Calculus = .ito) {
    self.drift = drift
    self.diffusion = diffusion
    self.initial = initial
    self.t0 = t0
    self.t1 = t1
    self.calculus = calculus
  }

  /// Number of Wiener processes per sample: `dimension` for additive and diagonal noise, 1 for scalar.
  public var noiseWidth: Int { diffusion.noise == .scalar ? 1 : initial.dimension }
}

/// An ODE y' = F(y, t) on [t0, t1] from a batch of initial states; `t1 < t0` runs in reverse time.
public struct ODEProblem<F: VectorField>: Sendable {
  public var field: F
  public var initial: StateBatch
  public var t0: Double
  public var t1: Double

  public init(field: F, initial: StateBatch, t0: Double, t1: Double) {
    self.field = field
    self.initial = initial
    self.t0 = t0
    self.t1 = t1
  }
}
