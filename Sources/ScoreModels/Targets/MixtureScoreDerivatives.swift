import CSIMDMath
import Foundation
import SDEKit

/// The derivatives of a Gaussian mixture's score, in closed form.
///
/// With responsibilities r_k(x), precisions P_k = diag(1/v_kj) and u_k = P_k(aμ_k − x), the score
/// is s = Σ_k r_k u_k, and since ∇r_k = r_k(u_k − s) and ∂u_k/∂x = −P_k, its Jacobian (the Hessian
/// of log p_t, symmetric) is
///
/// ```
/// J = Σ_k r_k [(u_k − s)(u_k − s)ᵀ − P_k]
/// ∇·s = tr J = Σ_k r_k (‖u_k − s‖² − Σ_j 1/v_kj)
/// J v = Σ_k r_k [(u_k − s)((u_k − s)·v) − P_k v]
/// ```
///
/// written around s (the responsibility-weighted covariance of the u_k) rather than as
/// Σ r_k u_k u_kᵀ − s sᵀ, which would subtract two large, nearly equal terms where one component
/// dominates.
extension GaussianMixture {
  /// ∇log p_t(x) for each row of `x` into `score`, where x_t | x₀ ~ N(a x₀, s² I), with its
  /// divergence (one value per row) when `divergence` is given, and its Jacobian times
  /// `tangents` into `products` when both are given (m tangents per row: row r's are
  /// r·m ..< (r + 1)·m, d values each).
  ///
  /// - Complexity: O(rows × K × d) for the score and the divergence, and as much again per
  ///   tangent; eight rows at a time on SIMD lanes, each row's result independent of the split.
  public func evaluateDerivatives(_ x: UnsafeBufferPointer<Double>, a: Double, s: Double,
                                  score: UnsafeMutableBufferPointer<Double>,
                                  divergence: UnsafeMutableBufferPointer<Double>?,
                                  tangents: UnsafeBufferPointer<Double>? = nil,
                                  products: UnsafeMutableBufferPointer<Double>? = nil) {
    evaluateDerivatives(x, a: a, s: s, score: score, divergence: divergence, tangents: tangents, products: products,
                        kernel: true)
  }

  /// `evaluateDerivatives`, with `kernel` false keeping every row on the Swift path (which the
  /// C kernel is tested against bit for bit).
  func evaluateDerivatives(_ x: UnsafeBufferPointer<Double>, a: Double, s: Double,
                           score: UnsafeMutableBufferPointer<Double>,
                           divergence: UnsafeMutableBufferPointer<Double>?,
                           tangents: UnsafeBufferPointer<Double>?,
                           products: UnsafeMutableBufferPointer<Double>?, kernel: Bool) {
    typealias Lanes = VectorMath.Lanes
    let d = dimension, K = components
    let perRow = (tangents != nil && products != nil && !x.isEmpty) ? tangents!.count / x.count : 0
    withTerms(a: a, s: s) { terms in
      // Two-dimensional rows under components that share one variance (gmm2d8, grid25), with at
      // most one tangent per row: whole blocks of eight rows through one C kernel, which keeps a
      // block in registers (as the score's own kernel does). The same operations in the same
      // order as `sharedVarianceBlock`: the same bits.
      var kernelRows = 0
      if kernel, d == 2, terms.hasSharedVariance, perRow <= 1 {
        kernelRows = x.count / 16 * 8
        let p = terms.inverseVariance[0]
        VectorMath.withAlignedTemporaryAllocation(of: VectorMath.Lanes.self, capacity: K + 1) { scratch in
          let termVectors = OpaquePointer(scratch.baseAddress!)
          let unused = UnsafeMutableRawPointer(scratch.baseAddress! + K).assumingMemoryBound(to: Double.self)
          for start in stride(from: 0, to: 2 * kernelRows, by: 16) {
            sdekit_shared_mixture_derivatives2(
              x.baseAddress! + start, K, terms.bias, terms.scaledCentres, terms.centres, p,
              perRow == 1 ? tangents!.baseAddress! + start : nil, termVectors, score.baseAddress! + start,
              divergence.map { $0.baseAddress! + start / 2 } ?? unused,
              perRow == 1 ? products!.baseAddress! + start : nil)
          }
        }
      }
      guard kernelRows * d < x.count else { return }
      // The rest (every row when the kernel does not apply): the Swift path.
      let x = UnsafeBufferPointer(rebasing: x[(kernelRows * d)...])
      let score = UnsafeMutableBufferPointer(rebasing: score[(kernelRows * d)...])
      let divergence = divergence.map { UnsafeMutableBufferPointer(rebasing: $0[kernelRows...]) }
      let tangents = perRow == 0 ? nil : tangents.map { UnsafeBufferPointer(rebasing: $0[(kernelRows * perRow * d)...]) }
      let products = perRow == 0 ? nil : products.map { UnsafeMutableBufferPointer(rebasing: $0[(kernelRows * perRow * d)...]) }
      // Σ_j 1/v_kj per component, the trace of P_k.
      withUnsafeTemporaryAllocation(of: Double.self, capacity: K) { precisionTraces in
        for k in 0..<K {
          var sum = 0.0
          for j in 0..<d { sum += terms.inverseVariances[k * d + j] }
          precisionTraces[k] = sum
        }
        // The score, a tangent and its product, by coordinate.
        VectorMath.withAlignedTemporaryAllocation(of: Lanes.self, capacity: 3 * d) { scratch in
          let gradient = scratch.baseAddress!, tangent = gradient + d, product = gradient + 2 * d
          evaluateBlocks(x, terms, needsLargest: false) { block, rows, columns, _, exponentials, total in
            let inverseTotal = 1 / total
            for k in 0..<K { exponentials[k] *= inverseTotal }
            if terms.hasSharedVariance {
              sharedVarianceBlock(block: block, rows: rows, columns: columns, responsibilities: exponentials,
                                  terms: terms, gradient: gradient, tangent: tangent, product: product, score: score,
                                  divergence: divergence, tangents: tangents, products: products, perRow: perRow)
              return
            }
            // u_kj − s_j for component k and coordinate j.
            @inline(__always) func spread(_ k: Int, _ j: Int) -> Lanes {
              let index = k &* d &+ j
              return (Lanes(repeating: terms.centres[index]) - columns[j]) * terms.inverseVariances[index] - gradient[j]
            }
            for j in 0..<d {
              var sum = Lanes()
              for k in 0..<K {
                let index = k &* d &+ j
                sum += exponentials[k] * (Lanes(repeating: terms.centres[index]) - columns[j]) * terms.inverseVariances[index]
              }
              gradient[j] = sum
            }
            VectorMath.storeRows(rows, ofColumns: gradient, dimension: d, to: score.baseAddress! + block * d)
            if let divergence {
              var trace = Lanes()
              for k in 0..<K {
                var squared = Lanes()
                for j in 0..<d {
                  let w = spread(k, j)
                  squared += w * w
                }
                trace += exponentials[k] * (squared - precisionTraces[k])
              }
              for lane in 0..<rows { divergence[block + lane] = trace[lane] }
            }
            guard perRow > 0, let tangents, let products else { return }
            for i in 0..<perRow {
              for j in 0..<d {
                var lanes = Lanes()
                for lane in 0..<rows { lanes[lane] = tangents[((block + lane) * perRow + i) * d + j] }
                tangent[j] = lanes
                product[j] = Lanes()
              }
              for k in 0..<K {
                var projection = Lanes()
                for j in 0..<d { projection += spread(k, j) * tangent[j] }
                let weighted = exponentials[k] * projection
                for j in 0..<d {
                  product[j] += weighted * spread(k, j)
                    - exponentials[k] * terms.inverseVariances[k &* d &+ j] * tangent[j]
                }
              }
              for lane in 0..<rows {
                for j in 0..<d { products[((block + lane) * perRow + i) * d + j] = product[j][lane] }
              }
            }
          }
        }
      }
    }
  }
}

extension GaussianMixture {
  /// `evaluateDerivatives` for one block of eight rows when every component is isotropic with
  /// one shared variance v (every built-in target), precision p = 1/v: with the responsibility-
  /// weighted centre m = Σ_k r_k aμ_k, u_k − s = p(aμ_k − m), so
  ///
  /// ```
  /// s = p (m − x),   ∇·s = p² Σ_k r_k ‖aμ_k − m‖² − d p,   J v = p² Σ_k r_k (aμ_k − m)((aμ_k − m)·v) − p v
  /// ```
  ///
  /// about half the operations of the general form, which recomputes u_k − s per coordinate.
  @inline(__always)
  func sharedVarianceBlock(block: Int, rows: Int, columns: UnsafeMutableBufferPointer<VectorMath.Lanes>,
                           responsibilities: UnsafeMutableBufferPointer<VectorMath.Lanes>, terms: Terms,
                           gradient: UnsafeMutablePointer<VectorMath.Lanes>, tangent: UnsafeMutablePointer<VectorMath.Lanes>,
                           product: UnsafeMutablePointer<VectorMath.Lanes>, score: UnsafeMutableBufferPointer<Double>,
                           divergence: UnsafeMutableBufferPointer<Double>?, tangents: UnsafeBufferPointer<Double>?,
                           products: UnsafeMutableBufferPointer<Double>?, perRow: Int) {
    typealias Lanes = VectorMath.Lanes
    let d = dimension, K = components, p = terms.inverseVariance[0], centres = terms.centres
    // m into `gradient` first, then the score from it; m stays in `product` while needed.
    for j in 0..<d {
      var sum = Lanes()
      for k in 0..<K { sum += responsibilities[k] * centres[k &* d &+ j] }
      product[j] = sum
      gradient[j] = p * (sum - columns[j])
    }
    VectorMath.storeRows(rows, ofColumns: gradient, dimension: d, to: score.baseAddress! + block * d)
    if let divergence {
      var spread = Lanes()
      for k in 0..<K {
        var squared = Lanes()
        for j in 0..<d {
          let w = centres[k &* d &+ j] - product[j]
          squared += w * w
        }
        spread += responsibilities[k] * squared
      }
      let trace = (p * p) * spread - Double(d) * p
      for lane in 0..<rows { divergence[block + lane] = trace[lane] }
    }
    guard perRow > 0, let tangents, let products else { return }
    // The centre m moves to `gradient` (the score is stored), freeing `product` for J v.
    for j in 0..<d { gradient[j] = product[j] }
    for i in 0..<perRow {
      // One tangent per row of a whole block: eight consecutive rows, moved as the state is.
      let contiguous = perRow == 1 && rows == 8
      if contiguous {
        VectorMath.loadColumns(ofEightRows: tangents.baseAddress! + block * d, dimension: d, into: tangent)
      } else {
        for j in 0..<d {
          var lanes = Lanes()
          for lane in 0..<rows { lanes[lane] = tangents[((block + lane) * perRow + i) * d + j] }
          tangent[j] = lanes
        }
      }
      for j in 0..<d { product[j] = -p * tangent[j] }
      for k in 0..<K {
        var projection = Lanes()
        for j in 0..<d { projection += (centres[k &* d &+ j] - gradient[j]) * tangent[j] }
        let weighted = (p * p) * responsibilities[k] * projection
        for j in 0..<d { product[j] += weighted * (centres[k &* d &+ j] - gradient[j]) }
      }
      if contiguous {
        VectorMath.storeRows(8, ofColumns: product, dimension: d, to: products.baseAddress! + block * d)
      } else {
        for lane in 0..<rows {
          for j in 0..<d { products[((block + lane) * perRow + i) * d + j] = product[j][lane] }
        }
      }
    }
  }
}

extension ExactMixtureScore: DivergenceModel {
  public func scoreAndJacobianProducts(_ x: BatchView, t: Double, tangents: BatchView, score: MutableBatchView,
                                       products: MutableBatchView) {
    mixture.evaluateDerivatives(x.values, a: process.meanCoefficient(t), s: process.standardDeviation(t),
                                score: score.values, divergence: nil, tangents: tangents.values,
                                products: products.values)
  }

  public func scoreAndDivergence(_ x: BatchView, t: Double, score: MutableBatchView,
                                 divergence: UnsafeMutableBufferPointer<Double>) {
    mixture.evaluateDerivatives(x.values, a: process.meanCoefficient(t), s: process.standardDeviation(t),
                                score: score.values, divergence: divergence)
  }
}

extension ExactMixtureScore: MarginalLogDensity {}
