/// One Brownian path per sample on a uniform grid of `finestSteps` steps over [t0, t1], served
/// at any coarser uniform resolution that divides it.
///
/// A coarse step's ΔW is the sum of the fine ΔW it covers and its ΔZ the aggregate
/// Z = Z₁ + Z₂ + ΔW₁·h₂ applied fine step by fine step, so solutions at different step sizes
/// are driven by the same path — what a strong convergence study needs. At the finest
/// resolution the increments equal `BrownianIncrements` with the same seed.
///
/// - Complexity: a coarse step costs `finestSteps / stepCount` fine samples per row.
public struct BrownianGrid: BrownianSource, Hashable {
  public let normals: NormalSource
  public let t0: Double
  public let t1: Double
  public let finestSteps: Int

  public init(seed: UInt64, t0: Double, t1: Double, finestSteps: Int) {
    precondition(finestSteps >= 1, "BrownianGrid needs at least one step")
    self.normals = NormalSource(seed: seed)
    self.t0 = t0
    self.t1 = t1
    self.finestSteps = finestSteps
  }

  /// The size of a finest step, |t1 − t0| / finestSteps.
  public var fineStep: Double { abs(t1 - t0) / Double(finestSteps) }

  public func validate(times: [Double]) throws {
    let steps = times.count - 1
    guard steps >= 1, finestSteps % steps == 0 else {
      throw SolveError.invalidConfiguration(
        "a Brownian grid of \(finestSteps) steps cannot serve \(steps) steps; the step count must divide \(finestSteps)")
    }
    let span = t1 - t0
    let tolerance = 1e-9 * abs(span)
    for (i, t) in times.enumerated() {
      let expected = t0 + span * Double(i) / Double(steps)
      guard abs(t - expected) <= tolerance else {
        throw SolveError.invalidConfiguration(
          "a Brownian grid over [\(t0), \(t1)] serves uniform steps only; time \(i) is \(t), expected \(expected)")
      }
    }
  }

  @inlinable
  public func fill(rows: Range<Int>, width: Int, step: Int, stepCount: Int, h: Double,
                   increments: UnsafeMutablePointer<Double>, spaceTime: UnsafeMutablePointer<Double>?) {
    let ratio = finestSteps / stepCount
    let hf = fineStep
    // At the finest resolution a step is one fine step: the per-step source's increments.
    guard ratio > 1 else {
      BrownianIncrements(seed: normals.seed).fill(rows: rows, width: width, step: step, stepCount: stepCount, h: hf,
                                                  increments: increments, spaceTime: spaceTime)
      return
    }
    let k = BrownianCoefficients(h: hf)
    let n = rows.count * width
    for e in 0..<n { increments[e] = 0 }
    if let spaceTime {
      for e in 0..<n { spaceTime[e] = 0 }
      // Z over joined steps: Z = Z₁ + Z₂ + ΔW₁·h₂, fine step by fine step; W is read before
      // this fine step adds to it.
      for fine in (step * ratio)..<((step + 1) * ratio) {
        normals.generate(rows: rows, step: fine, count: 2 * width) { rowsInGroup, xi in
          for row in rowsInGroup {
            for index in 0..<width {
              let e = (row - rows.lowerBound) * width + index
              let first = xi[row, index], second = xi[row, width + index]
              spaceTime[e] += k.c1 * first + increments[e] * hf
              increments[e] += k.rootH * first
              spaceTime[e] += k.c2 * second
            }
          }
        }
      }
    } else {
      for fine in (step * ratio)..<((step + 1) * ratio) {
        normals.generate(rows: rows, step: fine, count: width) { rowsInGroup, xi in
          for row in rowsInGroup {
            for index in 0..<width { increments[(row - rows.lowerBound) * width + index] += k.rootH * xi[row, index] }
          }
        }
      }
    }
  }
}
