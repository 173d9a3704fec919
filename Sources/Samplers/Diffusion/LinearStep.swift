import ScoreModels
import SDEKit

/// The buffer of a sampler whose step evaluates the score once: ∇log p_t at the step's start.
public struct ScoreBuffer {
  public let gradient: MutableBatchView
  let owner = BufferOwner()

  public init(rows: Int, dimension: Int) { gradient = owner.buffer(rows: rows, dimension: dimension) }
}

/// x ← m·x + v·∇log p_t(x) + σ·z: the form of every step of DDPM, DDIM, the predictors and the
/// Langevin corrector, which differ only in (m, v, σ).
@inline(__always)
func linearUpdate(_ x: MutableBatchView, m: Double, v: Double, gradient: BatchView, sigma: Double, noise z: BatchView?) {
  let x = x.values, g = gradient.values
  if let z = z?.values, sigma != 0 {
    for e in 0..<x.count { x[e] = m * x[e] + v * g[e] + sigma * z[e] }
  } else {
    for e in 0..<x.count { x[e] = m * x[e] + v * g[e] }
  }
}
