import Foundation

/// One Brownian path per sample over [t0, t1], fixed by its increments on a fine uniform grid of
/// `finestSteps` intervals, and served over any step inside [t0, t1].
///
/// A step's ΔW is the sum of the fine ΔW it covers and its ΔZ the aggregate
/// Z = Z₁ + Z₂ + ΔW₁·h₂ applied piece by piece, so solutions on different grids — a coarse and a
/// fine uniform grid, or a sampler's Karras grid and a reference — are driven by the same path:
/// what a strong convergence study or a pathwise comparison of samplers needs. A step that
/// starts or ends inside a fine interval places the path there by the exact conditional law of
/// (W(s), ∫W) given the interval's (ΔW, ΔZ) (a Brownian bridge that also knows the interval's
/// integral), from the stream `.brownianBridge(interval:)`. At the finest resolution the
/// increments equal `BrownianIncrements` with the same seed.
///
/// A fine interval holds at most one time of a grid inside it (not on its ends): steps must
/// not be shorter than a fine interval. `validate(times:)` checks this.
///
/// - Complexity: a step costs one fine sample per fine interval it covers, and two more per
///   end inside an interval; a whole pass costs `finestSteps` fine samples per row.
public struct BrownianGrid: BrownianSource, Hashable {
  public let normals: NormalSource
  public let t0: Double
  public let t1: Double
  public let finestSteps: Int

  public init(seed: UInt64, t0: Double, t1: Double, finestSteps: Int) {
    precondition(finestSteps >= 1, "BrownianGrid needs at least one step")
    precondition(t0.isFinite && t1.isFinite && t0 != t1, "BrownianGrid needs finite, distinct ends")
    self.normals = NormalSource(seed: seed)
    self.t0 = t0
    self.t1 = t1
    self.finestSteps = finestSteps
  }

  /// The size of a finest step, |t1 − t0| / finestSteps.
  public var fineStep: Double { abs(t1 - t0) / Double(finestSteps) }

  /// A time's place on the fine grid: the fine interval it lies in and how far into it (0 on
  /// the interval's start; never 1: the next interval's start instead).
  @usableFromInline
  struct Place: Equatable {
    @usableFromInline let interval: Int
    @usableFromInline let fraction: Double
    @usableFromInline init(interval: Int, fraction: Double) {
      self.interval = interval
      self.fraction = fraction
    }
  }

  /// Fractions this close to a grid time are that grid time: a uniform grid that divides the
  /// fine one computes its times with rounding of order 1e-16 relative.
  static let snap = 1e-9

  @usableFromInline
  func place(_ t: Double) -> Place {
    let position = (t - t0) / (t1 - t0) * Double(finestSteps)
    let nearest = position.rounded()
    if abs(position - nearest) <= Self.snap * max(1, abs(nearest)) {
      return Place(interval: Int(nearest), fraction: 0)
    }
    let interval = Int(position.rounded(.down))
    return Place(interval: interval, fraction: position - Double(interval))
  }

  /// Throws for times outside [t0, t1], a step against the direction from t0 to t1, or a step
  /// inside one fine interval.
  public func validate(times: [Double]) throws {
    try validateBrownianTimes(times, t0: t0, t1: t1, source: "a Brownian path")
    for i in 1..<max(1, times.count) {
      let a = place(times[i - 1]), b = place(times[i])
      if a.fraction > 0, a.interval == b.interval {
        throw SolveError.invalidConfiguration(
          "the step from t = \(times[i - 1]) to \(times[i]) lies inside one fine interval of a Brownian path of \(finestSteps) steps; steps must be at least |t1 − t0|/\(finestSteps) = \(fineStep) long (use a finer path)")
      }
    }
  }

  public func fill(rows: Range<Int>, width: Int, step: GridStep,
                   increments: UnsafeMutablePointer<Double>, spaceTime: UnsafeMutablePointer<Double>?) {
    let start = place(step.t), end = place(step.next)
    // A step of exactly one fine interval is that interval's increments.
    if start.fraction == 0, end.fraction == 0, end.interval == start.interval + 1 {
      BrownianIncrements(seed: normals.seed).fill(rows: rows, width: width, interval: start.interval,
                                                  size: fineStep, increments: increments, spaceTime: spaceTime)
      return
    }
    let n = rows.count * width
    for e in 0..<n { increments[e] = 0 }
    if let spaceTime { for e in 0..<n { spaceTime[e] = 0 } }
    var firstWhole = start.interval
    if start.fraction > 0 {
      addPiece(of: start.interval, at: start.fraction, part: .right, rows: rows, width: width,
               increments: increments, spaceTime: spaceTime)
      firstWhole += 1
    }
    for interval in firstWhole..<end.interval {
      addWholeInterval(interval, rows: rows, width: width, increments: increments, spaceTime: spaceTime)
    }
    if end.fraction > 0 {
      addPiece(of: end.interval, at: end.fraction, part: .left, rows: rows, width: width,
               increments: increments, spaceTime: spaceTime)
    }
  }

  /// Adds one fine interval to the running (W, Z): Z += ΔZ + W·h, then W += ΔW.
  private func addWholeInterval(_ interval: Int, rows: Range<Int>, width: Int,
                                increments: UnsafeMutablePointer<Double>, spaceTime: UnsafeMutablePointer<Double>?) {
    let hf = fineStep, k = BrownianCoefficients(h: hf)
    let stream = NoiseStream.brownian(interval: interval)
    if let spaceTime {
      normals.generate(rows: rows, stream: stream, count: 2 * width) { rowsInGroup, xi in
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
    } else {
      normals.generate(rows: rows, stream: stream, count: width) { rowsInGroup, xi in
        for row in rowsInGroup {
          for index in 0..<width { increments[(row - rows.lowerBound) * width + index] += k.rootH * xi[row, index] }
        }
      }
    }
  }

  private enum Part { case left, right }

  /// Adds the part of fine interval `interval` before (left) or after (right) the fraction `u`
  /// of it to the running (W, Z). The path at u comes from the interval's own (ΔW, ΔZ) and two
  /// bridge normals ζ₁, ζ₂ by the conditional law (`BridgeCoefficients`), applied in units of
  /// the interval (W ∝ √h, Z ∝ h^{3/2}: `UnitBridge`). Both parts use the same ζ, so a step
  /// ending at u and the next starting there see one path.
  private func addPiece(of interval: Int, at u: Double, part: Part, rows: Range<Int>, width: Int,
                        increments: UnsafeMutablePointer<Double>, spaceTime: UnsafeMutablePointer<Double>?) {
    let hf = fineStep, k = BrownianCoefficients(h: hf)
    let b = UnitBridge(u: u)
    let rootH = k.rootH, hRootH = hf * rootH
    let pieceSize = part == .left ? u * hf : (1 - u) * hf
    let bridge = NoiseStream.brownianBridge(interval: interval)
    normals.generate(rows: rows, stream: .brownian(interval: interval), count: 2 * width) { rowsInGroup, xi in
      normals.generate(rows: rowsInGroup, stream: bridge, count: 2 * width) { _, zeta in
        for row in rowsInGroup {
          for index in 0..<width {
            let e = (row - rows.lowerBound) * width + index
            let first = xi[row, index], second = xi[row, width + index]
            let wholeW = rootH * first, wholeZ = k.c1 * first + k.c2 * second
            let w = first, z = 0.5 * first + 0.288_675_134_594_812_9 * second  // ΔZ/h^{3/2} = ½ξ₁ + ξ₂/(2√3)
            let z1 = zeta[row, index], z2 = zeta[row, width + index]
            let leftW = rootH * (b.wW * w + b.wZ * z + b.w1 * z1)
            let leftZ = hRootH * (b.zW * w + b.zZ * z + b.z1 * z1 + b.z2 * z2)
            let pieceW: Double, pieceZ: Double
            switch part {
            case .left: (pieceW, pieceZ) = (leftW, leftZ)
            case .right: (pieceW, pieceZ) = (wholeW - leftW, wholeZ - leftZ - leftW * pieceSize)
            }
            if let spaceTime { spaceTime[e] += pieceZ + increments[e] * pieceSize }
            increments[e] += pieceW
          }
        }
      }
    }
  }
}
