/// Lotka–Volterra predator–prey equations y₁' = a y₁ − b y₁y₂, y₂' = −c y₂ + d y₁y₂.
/// Defaults a = 1.5, b = 1, c = 3, d = 1, y₀ = (1, 1) on [0, 10]. No closed form.
public struct LotkaVolterra: ODETestProblem {
  public var a = 1.5, b = 1.0, c = 3.0, d = 1.0
  public var y0: [Double] = [1, 1]
  public var t1 = 10.0

  public init() {}

  public var t0: Double { 0 }
  public var initialState: [Double] { y0 }
  public var exactFinalState: [Double]? { nil }

  public var field: VectorFieldFunction {
    let a = self.a, b = self.b, c = self.c, d = self.d
    return VectorFieldFunction { y, _, out in
      for r in 0..<(y.count / 2) {
        let prey = y[2 * r], predator = y[2 * r + 1]
        out[2 * r] = a * prey - b * prey * predator
        out[2 * r + 1] = -c * predator + d * prey * predator
      }
    }
  }
}

/// The Arenstorf orbit of the restricted three-body problem (Earth, Moon, satellite), over one
/// period T = 17.0652165601579625588917206249: y = (x, y, x', y'), μ = 0.012277471.
/// Hairer, Nørsett & Wanner, *Solving ODEs I*, §II.0, eq. (0.1). The orbit is periodic, but the
/// start is known only to double precision and the orbit amplifies errors, so studies compare
/// against a tight reference solve.
public struct Arenstorf: ODETestProblem {
  public var mu = 0.012277471
  public var y0: [Double] = [0.994, 0, 0, -2.00158510637908252240537862224]
  public var t1 = 17.0652165601579625588917206249

  public init() {}

  public var t0: Double { 0 }
  public var initialState: [Double] { y0 }
  public var exactFinalState: [Double]? { nil }

  public var field: VectorFieldFunction {
    let mu = self.mu, nu = 1 - mu
    return VectorFieldFunction { y, _, out in
      for r in 0..<(y.count / 4) {
        let x = y[4 * r], z = y[4 * r + 1], vx = y[4 * r + 2], vz = y[4 * r + 3]
        let d1 = ((x + mu) * (x + mu) + z * z), d2 = ((x - nu) * (x - nu) + z * z)
        let r1 = d1 * d1.squareRoot(), r2 = d2 * d2.squareRoot()
        out[4 * r] = vx
        out[4 * r + 1] = vz
        out[4 * r + 2] = x + 2 * vz - nu * (x + mu) / r1 - mu * (x - nu) / r2
        out[4 * r + 3] = z - 2 * vx - nu * z / r1 - mu * z / r2
      }
    }
  }
}

/// The Van der Pol oscillator y₁' = y₂, y₂' = μ(1 − y₁²)y₂ − y₁ with μ = 1000: stiff.
/// Defaults y₀ = (2, 0) on [0, 1000] (most of the first slow phase; the first fast jump is near
/// t ≈ 807). Provides its Jacobian for implicit methods.
public struct VanDerPol: ODETestProblem {
  public var mu = 1000.0
  public var y0: [Double] = [2, 0]
  public var t1 = 1000.0

  public init() {}

  public var t0: Double { 0 }
  public var initialState: [Double] { y0 }
  public var exactFinalState: [Double]? { nil }
  public var isStiff: Bool { true }
  public var field: Field { Field(mu: mu) }

  /// The right-hand side with its analytic Jacobian [[0, 1], [−2μy₁y₂ − 1, μ(1 − y₁²)]].
  public struct Field: JacobianField {
    public let mu: Double

    public init(mu: Double) { self.mu = mu }

    public func evaluate(_ y: BatchView, t: Double, into out: MutableBatchView) {
      for r in 0..<(y.count / 2) {
        let a = y[2 * r], b = y[2 * r + 1]
        out[2 * r] = b
        out[2 * r + 1] = mu * (1 - a * a) * b - a
      }
    }

    public func jacobian(_ y: BatchView, t: Double, blocks: UnsafeMutableBufferPointer<Double>,
                         timeDerivative: MutableBatchView) {
      for r in 0..<(y.count / 2) {
        let a = y[2 * r], b = y[2 * r + 1]
        blocks[4 * r] = 0
        blocks[4 * r + 1] = 1
        blocks[4 * r + 2] = -2 * mu * a * b - 1
        blocks[4 * r + 3] = mu * (1 - a * a)
        timeDerivative[2 * r] = 0
        timeDerivative[2 * r + 1] = 0
      }
    }
  }
}
