import SDEKit

/// A score model that also differentiates its score in x: the divergence ∇·s = tr(∂s/∂x), which
/// the probability-flow log-likelihood integrates, and Jacobian–vector products J v, which
/// Hutchinson's estimator v·(J v) of the trace needs.
///
/// Conform with `scoreAndJacobianProducts` alone and the divergence comes as the trace of d
/// products with the unit vectors (exact, d times a product's cost); a model with a cheaper exact
/// trace (the Gaussian mixtures' closed form) supplies `scoreAndDivergence` as well.
public protocol DivergenceModel: ScoreModel {
  /// The score of every row of `x` into `score`, and the score's Jacobian at each row times that
  /// row's tangent vectors into `products`.
  ///
  /// `tangents` holds `m` tangents per row of `x` (m = tangents.rows / x.rows), each of
  /// dimension d: row r's are tangent rows r·m ..< (r + 1)·m; `products` has the same layout and
  /// receives J(x_r, t) v for each.
  func scoreAndJacobianProducts(_ x: BatchView, t: Double, tangents: BatchView, score: MutableBatchView,
                                products: MutableBatchView)

  /// The score of every row of `x` into `score`, and its divergence ∇·s(x_r, t) into
  /// `divergence[r]`.
  func scoreAndDivergence(_ x: BatchView, t: Double, score: MutableBatchView,
                          divergence: UnsafeMutableBufferPointer<Double>)
}

extension DivergenceModel {
  /// The trace of the Jacobian from d Jacobian–vector products with the unit vectors e_j
  /// (Σ_j (J e_j)_j), in slices of rows small enough that the d² products per row stay a few
  /// hundred kilobytes.
  public func scoreAndDivergence(_ x: BatchView, t: Double, score: MutableBatchView,
                                 divergence: UnsafeMutableBufferPointer<Double>) {
    let d = x.dimension, rows = x.rows
    let slice = max(1, min(rows, Self.unitTangentValues / (d * d)))
    withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 * slice * d * d) { buffer in
      let tangents = UnsafeMutableBufferPointer(rebasing: buffer[0..<(slice * d * d)])
      let products = UnsafeMutableBufferPointer(rebasing: buffer[(slice * d * d)...])
      tangents.initialize(repeating: 0)
      for r in 0..<slice { for j in 0..<d { tangents[(r * d + j) * d + j] = 1 } }
      var first = 0
      while first < rows {
        let count = min(slice, rows - first)
        scoreAndJacobianProducts(
          x.rows(first..<(first + count)), t: t,
          tangents: BatchView(UnsafeBufferPointer(rebasing: tangents[0..<(count * d * d)]), dimension: d),
          score: MutableBatchView(UnsafeMutableBufferPointer(rebasing: score.values[(first * d)..<((first + count) * d)]),
                                  dimension: d),
          products: MutableBatchView(UnsafeMutableBufferPointer(rebasing: products[0..<(count * d * d)]), dimension: d))
        for r in 0..<count {
          var trace = 0.0
          for j in 0..<d { trace += products[(r * d + j) * d + j] }
          divergence[first + r] = trace
        }
        first += count
      }
    }
  }

  /// Values of unit tangents (rows × d × d) handled at once by the default divergence.
  static var unitTangentValues: Int { 1 << 15 }
}

/// A score model whose own log-density log p_t is known in closed form (the exact mixture
/// scores): a likelihood can then end at the model's p_T instead of the prior.
public protocol MarginalLogDensity: ScoreModel {
  /// log p_t(x) for each row of `x` (`output` holds one value per row).
  func logDensity(_ x: BatchView, t: Double, into output: UnsafeMutableBufferPointer<Double>)
}

/// A network that also gives the Jacobian of its prediction in x times tangent vectors (the
/// time input is held fixed), in the layout of `DivergenceModel.scoreAndJacobianProducts`.
public protocol DifferentiableNetwork: DenoisingNetwork {
  func predictWithJacobianProducts(_ x: BatchView, t: Double, tangents: BatchView, prediction: MutableBatchView,
                                   products: MutableBatchView)
}

/// The score's Jacobian is the network's through the parameterisation's conversion, which is
/// affine in the prediction p with x entering too:
///
/// ```
/// score:     s = p                        J_s v = J_p v
/// noise:     s = −p/σ_t                   J_s v = −J_p v / s(t)
/// data:      s = (a p − x)/s²             J_s v = (a J_p v − v)/s²
/// velocity:  s = −(s x + a p)/((a² + s²) s)   J_s v = −(s v + a J_p v)/((a² + s²) s)
/// flow-velocity:  s = −(x + a p)/((a + s) s)   J_s v = −(v + a J_p v)/((a + s) s)
/// ```
extension ParameterisedScore: DivergenceModel where N: DifferentiableNetwork {
  public func scoreAndJacobianProducts(_ x: BatchView, t: Double, tangents: BatchView, score: MutableBatchView,
                                       products: MutableBatchView) {
    network.predictWithJacobianProducts(x, t: process.networkTime(t), tangents: tangents, prediction: score,
                                        products: products)
    let a = process.meanCoefficient(t), s = process.standardDeviation(t)
    parameterisation.convertToScore(score, at: x, a: a, s: s)
    parameterisation.convertToScore(products, at: tangents, a: a, s: s)
  }
}
