import ScoreModels
import SDEKit

/// The probability-flow ODE augmented with the running integral of its drift's divergence: the
/// vector field whose solution from the data at ε to T gives log p_ε(x) = log p_T(x_T) + ∫_ε^T ∇·f̃.
///
/// With f̃(x, t) = c(t) x − ½ g(t)² s(x, t), the divergence is d·c(t) − ½ g(t)² ∇·s. Each state row
/// holds
///
/// ```
/// [ x (d) | ℓ_1 … ℓ_m | row ]      dx/dt = f̃(x, t),   dℓ_i/dt = d·c(t) − ½ g(t)² δ_i,   d row/dt = 0
/// ```
///
/// where, with the exact divergence, m = 1, δ = ∇·s and there is no row column; with Hutchinson's
/// estimator m is the number of probes, δ_i = v_i·(J v_i) for the row's probe v_i, and the last
/// column carries the row's index into the probe table. The probes ride along with their row
/// that way through every solver — tiles of a batch, one GSL system, per-sample solves — which
/// see only rows of state. The index column's derivative, and so its error estimate, is exactly
/// zero. Only the score's divergence is estimated: the process's own d·c(t) is exact.
struct LikelihoodField<P: DiffusionProcess, S: DivergenceModel>: VectorField {
  let process: P
  let score: S
  /// d, the data's dimension.
  let dimension: Int
  /// nil for the exact divergence.
  let probes: ProbeTable?
  let progress: SamplingProgress?

  /// Values per state row.
  var width: Int { Self.width(dimension: dimension, probes: probes) }

  static func width(dimension: Int, probes: ProbeTable?) -> Int {
    probes.map { dimension + $0.perRow + 1 } ?? dimension + 1
  }

  func evaluate(_ y: BatchView, t: Double, into output: MutableBatchView) {
    progress?(t)
    let d = dimension, rows = y.rows, width = y.dimension
    let c = process.driftRate(t), g = process.diffusion(t), half = 0.5 * g * g
    let linear = Double(d) * c
    let perRow = probes?.perRow ?? 0
    let scratchCount = 2 * rows * d + (probes == nil ? rows : 2 * rows * perRow * d)
    withUnsafeTemporaryAllocation(of: Double.self, capacity: scratchCount) { scratch in
      let x = UnsafeMutableBufferPointer(rebasing: scratch[0..<(rows * d)])
      let gradient = UnsafeMutableBufferPointer(rebasing: scratch[(rows * d)..<(2 * rows * d)])
      for r in 0..<rows { for j in 0..<d { x[r * d + j] = y[r, j] } }
      let xView = BatchView(UnsafeBufferPointer(x), dimension: d)
      if let probes {
        let count = rows * perRow * d
        let tangents = UnsafeMutableBufferPointer(rebasing: scratch[(2 * rows * d)..<(2 * rows * d + count)])
        let products = UnsafeMutableBufferPointer(rebasing: scratch[(2 * rows * d + count)..<(2 * rows * d + 2 * count)])
        for r in 0..<rows {
          let row = probes.row(indexValue: y[r, width - 1])
          for e in 0..<(perRow * d) { tangents[r * perRow * d + e] = probes.values[row * perRow * d + e] }
        }
        score.scoreAndJacobianProducts(xView, t: t, tangents: BatchView(UnsafeBufferPointer(tangents), dimension: d),
                                       score: MutableBatchView(gradient, dimension: d),
                                       products: MutableBatchView(products, dimension: d))
        for r in 0..<rows {
          for i in 0..<perRow {
            var form = 0.0
            let base = (r * perRow + i) * d
            for j in 0..<d { form += tangents[base + j] * products[base + j] }
            output[r, d + i] = linear - half * form
          }
          output[r, width - 1] = 0
        }
      } else {
        let divergence = UnsafeMutableBufferPointer(rebasing: scratch[(2 * rows * d)..<(2 * rows * d + rows)])
        score.scoreAndDivergence(xView, t: t, score: MutableBatchView(gradient, dimension: d), divergence: divergence)
        for r in 0..<rows { output[r, d] = linear - half * divergence[r] }
      }
      for r in 0..<rows {
        for j in 0..<d { output[r, j] = c * x[r * d + j] - half * gradient[r * d + j] }
      }
    }
  }
}

/// Hutchinson's probe vectors for a run's rows: `perRow` probes of dimension d per row, drawn
/// once for the whole path from the stream `.probes`. Row i's values are the normal numbers
/// 0 ..< perRow·d of (seed, firstSample + i) — Gaussian probes — or their signs — Rademacher
/// probes (a normal's sign is a fair coin) — so a row's probes depend on (seed, row) alone, and
/// its first probes are the same whatever the number of probes.
struct ProbeTable: Sendable {
  let perRow: Int
  let rows: Int
  /// rows × perRow × d, row-major.
  let values: [Double]

  init(rows: Int, dimension: Int, perRow: Int, distribution: ProbeDistribution, seed: UInt64, firstSample: Int) {
    self.perRow = perRow
    self.rows = rows
    var values = [Double](repeating: 0, count: rows * perRow * dimension)
    values.withUnsafeMutableBufferPointer { buffer in
      NormalSource(seed: seed).fill(rows: firstSample..<(firstSample + rows), stream: .probes,
                                    count: perRow * dimension, scale: 1, into: buffer.baseAddress!)
      if distribution == .rademacher {
        for e in buffer.indices { buffer[e] = buffer[e] < 0 ? -1 : 1 }
      }
    }
    self.values = values
  }

  private init(perRow: Int, rows: Int, values: [Double]) {
    self.perRow = perRow
    self.rows = rows
    self.values = values
  }

  /// Row `row`'s probes alone, as a one-row table.
  func slice(row: Int) -> ProbeTable {
    let size = values.count / rows
    return ProbeTable(perRow: perRow, rows: 1, values: Array(values[(row * size)..<((row + 1) * size)]))
  }

  /// The table row a state's index column names. Solvers that difference the field to build a
  /// Jacobian (GSL's implicit steppers) nudge that column too; rounding keeps the row.
  func row(indexValue: Double) -> Int {
    // Nearest by truncation of value + ½ (never negative): rounded() was a libm call per row.
    let row = Int(indexValue + 0.5)
    precondition(row >= 0 && row < rows, "likelihood state row index \(indexValue) outside 0..<\(rows)")
    return row
  }
}
