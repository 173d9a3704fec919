/// Where a solve gets its Brownian increments from.
///
/// For step `step` (of `stepCount`) of size |h| it fills, for each of `rows.count` rows and each
/// of `width` Wiener processes, the increment ΔW = W(t+h) − W(t) and, when `spaceTime` is not
/// nil, the space–time integral ΔZ = ∫ₜ^{t+h} (W(s) − W(t)) ds that stochastic Runge–Kutta
/// schemes need. Outputs are row-major, `rows.count × width`. Rows are absolute sample indices,
/// so a row's noise is the same however the batch is split.
///
/// Reverse-time solves pass |h|: a reverse-time SDE is a forward SDE in τ = t0 − t.
public protocol BrownianSource: Sendable {
  /// Throws if this source cannot serve a solve over `times` (e.g. a grid that does not
  /// subdivide it).
  func validate(times: [Double]) throws

  func fill(rows: Range<Int>, width: Int, step: Int, stepCount: Int, h: Double,
            increments: UnsafeMutablePointer<Double>, spaceTime: UnsafeMutablePointer<Double>?)
}

extension BrownianSource {
  public func validate(times: [Double]) throws {}
}

/// Exact joint sample of (ΔW, ΔZ) over a step of size h from two independent standard normals:
/// ΔW = √h ξ₁, ΔZ = ½ h^{3/2} (ξ₁ + ξ₂/√3), so Var ΔZ = h³/3 and Cov(ΔW, ΔZ) = h²/2.
@inlinable
func brownianPair(_ xi1: Double, _ xi2: Double, h: Double, rootH: Double) -> (Double, Double) {
  let dW = rootH * xi1
  let dZ = 0.5 * h * rootH * (xi1 + xi2 * 0.577_350_269_189_625_8)
  return (dW, dZ)
}

/// Independent increments per step, keyed by (seed, sample row, step index).
///
/// Normal numbers 0..<width of (row, step) give ΔW; numbers width..<2·width give the second
/// normal of ΔZ, so ΔW is the same whether or not ΔZ is asked for.
public struct BrownianIncrements: BrownianSource, Hashable {
  public let normals: NormalSource

  public init(seed: UInt64) { self.normals = NormalSource(seed: seed) }

  @inlinable
  public func fill(rows: Range<Int>, width: Int, step: Int, stepCount: Int, h: Double,
                   increments: UnsafeMutablePointer<Double>, spaceTime: UnsafeMutablePointer<Double>?) {
    let rootH = h.squareRoot()
    if let spaceTime {
      // Scratch for one row's 2·width normals; the standard library keeps small sizes on the stack.
      withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 * width) { xi in
        for (offset, row) in rows.enumerated() {
          normals.fill(row: row, step: step, count: 2 * width, into: xi.baseAddress!)
          for j in 0..<width {
            let (dW, dZ) = brownianPair(xi[j], xi[width + j], h: h, rootH: rootH)
            increments[offset * width + j] = dW
            spaceTime[offset * width + j] = dZ
          }
        }
      }
    } else {
      for (offset, row) in rows.enumerated() {
        let out = increments + offset * width
        normals.fill(row: row, step: step, count: width, into: out)
        for j in 0..<width { out[j] *= rootH }
      }
    }
  }
}
