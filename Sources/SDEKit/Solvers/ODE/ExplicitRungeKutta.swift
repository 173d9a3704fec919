/// The coefficients of an explicit Runge–Kutta method:
///
/// ```
/// k_i = F(y + h Σ_{j<i} a_ij k_j, t + c_i h),   i = 1…s
/// y₊  = y + h Σ_i b_i k_i
/// ```
public struct ButcherTableau: Sendable, Hashable {
  public let c: [Double]
  /// Strictly lower triangular: `a[i]` has `i` entries.
  public let a: [[Double]]
  public let b: [Double]

  public init(c: [Double], a: [[Double]], b: [Double]) {
    precondition(c.count == b.count && a.count == b.count, "tableau sizes disagree")
    for (i, row) in a.enumerated() { precondition(row.count == i, "a[\(i)] needs \(i) entries") }
    self.c = c
    self.a = a
    self.b = b
  }

  public var stages: Int { b.count }
}

/// An ODE solver defined by its Butcher tableau; the one kernel below does the stepping.
public protocol ExplicitRungeKuttaMethod: ODESolver {
  static var tableau: ButcherTableau { get }
}

extension ExplicitRungeKuttaMethod {
  /// One buffer per stage derivative plus one for the stage input.
  public func makeWorkspace(rows: Int, dimension: Int) -> SolverWorkspace {
    SolverWorkspace(buffers: Self.tableau.stages + 1, rows: rows, dimension: dimension)
  }

  @inlinable
  public func step<F: VectorField>(
    field: F, y: UnsafeMutableBufferPointer<Double>, t: Double, h: Double, dimension: Int,
    workspace: SolverWorkspace
  ) {
    let tableau = Self.tableau
    let s = tableau.stages
    let stageInput = workspace[s]
    let n = y.count
    for i in 0..<s {
      let k = workspace[i]
      if i == 0 {
        field.evaluate(BatchView(UnsafeBufferPointer(y), dimension: dimension), t: t, into: MutableBatchView(k, dimension: dimension))
        continue
      }
      for e in 0..<n { stageInput[e] = y[e] }
      for j in 0..<i where tableau.a[i][j] != 0 {
        let weight = h * tableau.a[i][j]
        let kj = workspace[j]
        for e in 0..<n { stageInput[e] += weight * kj[e] }
      }
      field.evaluate(BatchView(UnsafeBufferPointer(stageInput), dimension: dimension), t: t + tableau.c[i] * h, into: MutableBatchView(k, dimension: dimension))
    }
    for i in 0..<s where tableau.b[i] != 0 {
      let weight = h * tableau.b[i]
      let k = workspace[i]
      for e in 0..<n { y[e] += weight * k[e] }
    }
  }
}
