/// Where a solve gets its Brownian increments from.
///
/// For a step it fills, for each of `rows.count` rows and each of `width` Wiener processes, the
/// increment ΔW = W(next) − W(t) and, when `spaceTime` is not nil, the space–time integral
/// ΔZ = ∫ₜ^{next} (W(s) − W(t)) ds that stochastic Runge–Kutta schemes need. Outputs are
/// row-major, `rows.count × width`. Rows are absolute sample indices, so a row's noise is the
/// same however the batch is split.
///
/// A source may address its noise by the step's index (`BrownianIncrements`: every grid gets
/// independent increments, cheapest) or by the step's times (`BrownianGrid`: one path that every
/// grid samples, so two samplers with different grids, or a solve and its reference, share it).
///
/// Reverse-time solves use |h|: a reverse-time SDE is a forward SDE in τ = t0 − t.
public protocol BrownianSource: Sendable {
  /// Throws if this source cannot serve a solve over `times` (e.g. times outside its interval).
  func validate(times: [Double]) throws

  func fill(rows: Range<Int>, width: Int, step: GridStep,
            increments: UnsafeMutablePointer<Double>, spaceTime: UnsafeMutablePointer<Double>?)

  /// The step's noise as standard normals, ΔW/√|h| (`rows.count × width`): what samplers that
  /// add Gaussian noise of their own scale (DDPM, DDIM, ancestral steps) draw, so that they too
  /// can run on a shared path.
  func fillStandardNormals(rows: Range<Int>, width: Int, step: GridStep, into output: UnsafeMutablePointer<Double>)
}

extension BrownianSource {
  public func validate(times: [Double]) throws {}

  @inlinable
  public func fillStandardNormals(rows: Range<Int>, width: Int, step: GridStep,
                                  into output: UnsafeMutablePointer<Double>) {
    fill(rows: rows, width: width, step: step, increments: output, spaceTime: nil)
    let scale = 1 / step.size.squareRoot()
    for e in 0..<(rows.count * width) { output[e] *= scale }
  }
}

/// Throws unless every time lies in [t0, t1] (to rounding) and every step runs from t0 towards
/// t1: what a source defined over an interval (`BrownianGrid`, `BrownianTree`) can serve. Both
/// place a time by its distance from their t0, so a step against that direction would ask for a
/// negative length (a grid's ranges, a tree's forward walk): a solve from 1 to 0 needs a source
/// built with t0 = 1, t1 = 0, as the reverse-time samplers build theirs (T to ε).
func validateBrownianTimes(_ times: [Double], t0: Double, t1: Double, source: String) throws {
  let tolerance = 1e-12 * abs(t1 - t0)
  let (low, high) = (min(t0, t1) - tolerance, max(t0, t1) + tolerance)
  for t in times where !(t >= low && t <= high) {
    throw SolveError.invalidConfiguration(
      "\(source) over [\(min(t0, t1)), \(max(t0, t1))] cannot serve time \(t), which lies outside it")
  }
  for i in times.indices.dropFirst() where (times[i] - times[i - 1]) * (t1 - t0) < 0 {
    throw SolveError.invalidConfiguration(
      "\(source) runs from t0 = \(t0) to t1 = \(t1); the step from \(times[i - 1]) to \(times[i]) runs the other way (build it with its ends in the solve's order)")
  }
}

/// The coefficients that turn two independent standard normals ξ₁, ξ₂ into an exact joint
/// sample of (ΔW, ΔZ) over a step of size h: ΔW = √h ξ₁, ΔZ = c₁ξ₁ + c₂ξ₂ with c₁ = ½h^{3/2}
/// and c₂ = c₁/√3, so Var ΔZ = h³/3 and Cov(ΔW, ΔZ) = h²/2.
@usableFromInline
struct BrownianCoefficients {
  @usableFromInline let rootH: Double
  @usableFromInline let c1: Double
  @usableFromInline let c2: Double

  @inlinable
  init(h: Double) {
    rootH = h.squareRoot()
    c1 = 0.5 * h * rootH
    c2 = c1 * 0.577_350_269_189_625_8
  }
}

/// Independent increments per step, keyed by (seed, sample row, step index): the stream
/// `.brownian(interval: step)`.
///
/// Normal numbers 0..<width of (row, step) give ΔW; numbers width..<2·width give the second
/// normal of ΔZ, so ΔW is the same whether or not ΔZ is asked for.
public struct BrownianIncrements: BrownianSource, Hashable {
  public let normals: NormalSource

  public init(seed: UInt64) { self.normals = NormalSource(seed: seed) }

  @inlinable
  public func fill(rows: Range<Int>, width: Int, step: GridStep,
                   increments: UnsafeMutablePointer<Double>, spaceTime: UnsafeMutablePointer<Double>?) {
    fill(rows: rows, width: width, interval: step.index, size: step.size, increments: increments,
         spaceTime: spaceTime)
  }

  /// ξ₁ itself: the same numbers as ΔW/√|h| without the rounding of a multiply and a divide.
  @inlinable
  public func fillStandardNormals(rows: Range<Int>, width: Int, step: GridStep,
                                  into output: UnsafeMutablePointer<Double>) {
    normals.fill(rows: rows, stream: .brownian(interval: step.index), count: width, scale: 1, into: output)
  }

  /// ΔW (and ΔZ) of interval `interval` of size `size`.
  @inlinable
  func fill(rows: Range<Int>, width: Int, interval: Int, size h: Double,
            increments: UnsafeMutablePointer<Double>, spaceTime: UnsafeMutablePointer<Double>?) {
    let k = BrownianCoefficients(h: h)
    let stream = NoiseStream.brownian(interval: interval)
    if let spaceTime {
      normals.generate(rows: rows, stream: stream, count: 2 * width) { rowsInGroup, xi in
        // A whole group of one-wide rows as vectors: each number's column is 32 rows in order.
        if width == 1 && rowsInGroup.count == 32 {
          let offset = xi.firstRow &- rows.lowerBound
          for block in stride(from: 0, to: 32, by: 8) {
            let first = UnsafeRawPointer(xi.columns + block).load(as: SIMD8<Double>.self)
            let second = UnsafeRawPointer(xi.columns + (32 &+ block)).load(as: SIMD8<Double>.self)
            UnsafeMutableRawPointer(increments + (offset &+ block)).storeBytes(of: k.rootH * first, as: SIMD8<Double>.self)
            UnsafeMutableRawPointer(spaceTime + (offset &+ block))
              .storeBytes(of: k.c1 * first + k.c2 * second, as: SIMD8<Double>.self)
          }
          return
        }
        // Rows inner, in the group's order.
        for index in 0..<width {
          for row in rowsInGroup {
            let e = (row - rows.lowerBound) * width + index
            let first = xi[row, index], second = xi[row, width + index]
            increments[e] = k.rootH * first
            spaceTime[e] = k.c1 * first + k.c2 * second
          }
        }
      }
    } else {
      normals.fill(rows: rows, stream: stream, count: width, scale: k.rootH, into: increments)
    }
  }
}
