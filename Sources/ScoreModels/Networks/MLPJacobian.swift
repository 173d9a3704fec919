import Foundation
import SDEKit

/// Jacobian–vector products of the MLP, by forward-mode differentiation: each tangent is carried
/// through the layers beside the activations, in the network's own scalar type.
///
/// ```
/// z_l = W_l a_{l−1} + b_l,   a_l = silu(z_l)          (a_0 = [x, time features])
/// ż_l = W_l ȧ_{l−1},         ȧ_l = silu′(z_l) ⊙ ż_l   (ȧ_0 = [v, 0]: t is held fixed)
/// silu′(z) = σ(z)(1 + z(1 − σ(z)))
/// ```
///
/// The output's tangent ż_L is J v. A row's m tangents go through one product per layer with
/// the weights (rows·m × inputs times inputsᵀ × outputs), like a forward pass over m times the
/// rows; the first layer multiplies only the d columns of W₀ that x reaches. The same layers as
/// `forward` (gemm, then the bias), with silu written out here since its derivative needs σ(z).
extension MLP: DifferentiableNetwork {
  public func predictWithJacobianProducts(_ x: BatchView, t: Double, tangents: BatchView, prediction: MutableBatchView,
                                          products: MutableBatchView) {
    // The work in a function called with the concrete scalar, which the optimiser specialises:
    // reached through the protocol from another module, the generic body ran every float
    // operation through witness tables (30 times slower than the forward pass).
    switch self {
    case let network as MLP<Float>:
      jacobianVectorProducts(network, x, t: t, tangents: tangents, prediction: prediction, products: products)
    case let network as MLP<Double>:
      jacobianVectorProducts(network, x, t: t, tangents: tangents, prediction: prediction, products: products)
    default:
      jacobianVectorProducts(self, x, t: t, tangents: tangents, prediction: prediction, products: products)
    }
  }
}

/// `MLP.predictWithJacobianProducts` for a network of scalar type S.
private func jacobianVectorProducts<S: NetworkScalar>(
  _ network: MLP<S>, _ x: BatchView, t: Double, tangents: BatchView, prediction: MutableBatchView,
  products: MutableBatchView
) {
  let architecture = network.architecture, parameters = network.parameters
  let d = architecture.dimension, rows = x.rows
  guard rows > 0 else { return }
  let perRow = tangents.rows / rows
  let layers = architecture.layers, width = d + architecture.timeFeatures
  let widest = layers.map(\.outputs).max()!
  // Tiles of rows, as `predict` takes them, sized so a tile's tangents stay in cache.
  let tileRows = max(1, min(rows, jacobianTileRows / max(1, perRow)))
  var input = [S](repeating: 0, count: tileRows * width)
  var values = ([S](repeating: 0, count: tileRows * widest), [S](repeating: 0, count: tileRows * widest))
  let tangentCount = tileRows * max(1, perRow) * max(widest, d)
  var derivatives = ([S](repeating: 0, count: tangentCount), [S](repeating: 0, count: tangentCount))
  var features = [S](repeating: 0, count: architecture.timeFeatures)
  features.withUnsafeMutableBufferPointer { architecture.embed(t, into: $0.baseAddress!) }

  input.withUnsafeMutableBufferPointer { input in
    values.0.withUnsafeMutableBufferPointer { value0 in
      values.1.withUnsafeMutableBufferPointer { value1 in
        derivatives.0.withUnsafeMutableBufferPointer { tangent0 in
          derivatives.1.withUnsafeMutableBufferPointer { tangent1 in
            var first = 0
            while first < rows {
              let count = min(tileRows, rows - first), tangentRows = count * perRow
              for r in 0..<count {
                for j in 0..<d { input[r * width + j] = S(x[first + r, j]) }
                for i in 0..<architecture.timeFeatures { input[r * width + d + i] = features[i] }
              }
              // The input's tangents: x's d coordinates only.
              for e in 0..<(tangentRows * d) { tangent1[e] = S(tangents.values[first * perRow * d + e]) }
              var activation = UnsafePointer(input.baseAddress!)
              var tangent = UnsafePointer(tangent1.baseAddress!)
              for (l, layer) in layers.enumerated() {
                let z = l % 2 == 0 ? value0 : value1
                let ż = l % 2 == 0 ? tangent0 : tangent1
                parameters.weights[l].withUnsafeBufferPointer { w in
                  S.gemm(transposeA: false, transposeB: true, m: count, n: layer.outputs, k: layer.inputs, alpha: 1,
                         a: activation, lda: layer.inputs, b: w.baseAddress!, ldb: layer.inputs, beta: 0,
                         c: z.baseAddress!, ldc: layer.outputs)
                  if tangentRows > 0 {
                    // The first layer's tangent inputs are d wide: only W₀'s first d columns.
                    let k = l == 0 ? d : layer.inputs
                    S.gemm(transposeA: false, transposeB: true, m: tangentRows, n: layer.outputs, k: k, alpha: 1,
                           a: tangent, lda: k, b: w.baseAddress!, ldb: layer.inputs, beta: 0,
                           c: ż.baseAddress!, ldc: layer.outputs)
                  }
                }
                let zRows = UnsafeMutableBufferPointer(rebasing: z[0..<(count * layer.outputs)])
                parameters.biases[l].withUnsafeBufferPointer { S.addBias($0, to: zRows, silu: false) }
                if l < layers.count - 1 {
                  siluWithDerivative(zRows, tangents: ż, perRow: perRow, width: layer.outputs)
                }
                activation = UnsafePointer(z.baseAddress!)
                tangent = UnsafePointer(ż.baseAddress!)
              }
              for e in 0..<(count * d) { prediction[first * d + e] = Double(activation[e]) }
              for e in 0..<(tangentRows * d) { products[first * perRow * d + e] = Double(tangent[e]) }
              first += count
            }
          }
        }
      }
    }
  }
}

/// z ← silu(z) on `z` (rows × width) and each of a row's `perRow` tangent rows ż ← silu′(z) ⊙ ż.
private func siluWithDerivative<S: NetworkScalar>(_ z: UnsafeMutableBufferPointer<S>, tangents: UnsafeMutableBufferPointer<S>,
                                                  perRow: Int, width: Int) {
  let rows = z.count / width
  for r in 0..<rows {
    for o in 0..<width {
      let value = z[r * width + o]
      let sigma = 1 / (1 + S.exp(-value))
      let slope = sigma * (1 + value * (1 - sigma))
      for i in 0..<perRow { tangents[(r * perRow + i) * width + o] *= slope }
      z[r * width + o] = value * sigma
    }
  }
}

/// Rows times tangents per tile of a Jacobian–vector pass (as `predict`'s 256-row tiles).
private let jacobianTileRows = 256
