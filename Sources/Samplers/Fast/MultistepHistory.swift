import ScoreModels
import SDEKit

/// What a multistep sampler keeps between steps of a tile: the current data prediction and the
/// earlier ones, newest first, with the step sizes h = λ′ − λ that led from each to the next.
/// Made per tile by the driver, so every tile starts with an empty history.
public struct MultistepHistory {
  /// m_i = E[x₀ | x_t] at the current step's start.
  public private(set) var denoised: MutableBatchView
  /// m_{i−1}, m_{i−2}, … (as many as the sampler keeps).
  public private(set) var previousDenoised: [MutableBatchView]
  /// h_{i−1}, h_{i−2}, …: previousStepSizes[k] = λ_{i−k} − λ_{i−k−1}.
  public private(set) var previousStepSizes: [Double]
  /// How many earlier predictions are stored (at most `previousDenoised.count`).
  public private(set) var count = 0
  let owner = BufferOwner()

  /// Room for the current prediction and `depth` earlier ones.
  public init(rows: Int, dimension: Int, depth: Int) {
    let owner = self.owner
    denoised = owner.buffer(rows: rows, dimension: dimension)
    previousDenoised = (0..<depth).map { _ in owner.buffer(rows: rows, dimension: dimension) }
    previousStepSizes = Array(repeating: 0, count: depth)
  }

  /// Makes the current prediction the newest earlier one, reached by a step of size `h` out of
  /// it; the oldest buffer becomes the next current one. Allocates nothing.
  public mutating func push(stepSize h: Double) {
    let depth = previousDenoised.count
    guard depth > 0 else { return }
    let oldest = previousDenoised[depth - 1]
    for k in stride(from: depth - 1, to: 0, by: -1) {
      previousDenoised[k] = previousDenoised[k - 1]
      previousStepSizes[k] = previousStepSizes[k - 1]
    }
    previousDenoised[0] = denoised
    previousStepSizes[0] = h
    denoised = oldest
    count = min(count + 1, depth)
  }
}
