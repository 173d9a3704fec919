import Foundation
import ScoreModels
import SDEKit

/// Data on L discrete levels per coordinate (8-bit images: L = 256), given as the integers
/// 0 … L − 1, and the two conventions that turn a continuous model's density into a
/// probability of such data.
///
/// The model works on a continuous range [low, high]: `centered` is [−1, 1] (DDPM, score_sde's
/// `data.centered`), `unit` is [0, 1].
///
/// - Probability flow (score_sde's `likelihood.py` and its `uniform_dequantization`): level k
///   becomes y = low + (high − low)(k + u)/L with u ~ U(0, 1) from the stream `.dequantisation`,
///   and by Jensen's inequality over u,
///
///   ```
///   log P(k) ≥ E_u[log p(y)] + d · log((high − low)/L)
///   bits/dim = −(log p(y) + d log((high − low)/L)) / (d ln 2) = −log p(y)/(d ln 2) + log₂ L − log₂(high − low)
///   ```
///
///   which for L = 256 is score_sde's offset of 7 bits on [−1, 1] (`7 − inverse_scaler(−1)`) and 8
///   on [0, 1].
/// - The DDPM bound (Ho et al. 2020, §3.3): level k is the centre low + (high − low) k/(L − 1)
///   (for L = 256 on [−1, 1], k/127.5 − 1), and the decoder gives the probability of the cell
///   of half-width (high − low)/(2(L − 1)) around it, the end cells reaching to ±∞.
public struct DiscreteLevels: Sendable, Hashable, Codable {
  /// The continuous range the model sees.
  public enum Range: String, Sendable, Hashable, Codable, CaseIterable {
    /// [−1, 1].
    case centered
    /// [0, 1].
    case unit

    public var bounds: (low: Double, high: Double) {
      switch self {
      case .centered: (-1, 1)
      case .unit: (0, 1)
      }
    }
  }

  public var levels: Int
  public var range: Range

  public init(levels: Int = 256, range: Range = .centered) {
    self.levels = levels
    self.range = range
  }

  /// Throws unless there are at least two levels and every value is an integer in 0 ..< levels.
  public func validate(_ data: StateBatch) throws {
    guard levels >= 2 else { throw DiffusionError.invalidSetting("discrete data need at least 2 levels, got \(levels)") }
    if let index = data.values.firstIndex(where: { !($0 >= 0 && $0 <= Double(levels - 1) && $0.rounded() == $0) }) {
      throw DiffusionError.invalidSetting(
        "data row \(index / data.dimension), coordinate \(index % data.dimension) is \(data.values[index]); with \(levels) discrete levels every value must be an integer in 0...\(levels - 1)")
    }
  }

  /// log((high − low)/L): the log-volume of a level's cell in the model's range, per dimension.
  public var logCellWidth: Double {
    let (low, high) = range.bounds
    return Foundation.log((high - low) / Double(levels))
  }

  /// The probability-flow convention's points: y = low + (high − low)(k + u)/L, with u number j
  /// of row (firstSample + i) of the stream `.dequantisation` (one Philox block per four
  /// coordinates: word j mod 4 of the block at counter (j/4, 0, row low, row high)).
  public func dequantised(_ data: StateBatch, seed: UInt64, firstSample: Int = 0) -> StateBatch {
    let (low, high) = range.bounds, scale = (high - low) / Double(levels)
    let generator = NoiseStream.dequantisation.generator(seed: seed), step = NoiseStream.dequantisation.address.step
    var out = data
    let d = data.dimension
    for i in 0..<data.count {
      let row = UInt64(firstSample + i)
      for quad in stride(from: 0, to: d, by: 4) {
        let words = generator.block(UInt32(quad / 4), step, UInt32(truncatingIfNeeded: row),
                                    UInt32(truncatingIfNeeded: row >> 32))
        let all = [words.0, words.1, words.2, words.3]
        for j in quad..<min(d, quad + 4) {
          let u = (Double(all[j - quad]) + 0.5) * 0x1p-32
          out[i, j] = low + scale * (data[i, j] + u)
        }
      }
    }
    return out
  }

  /// The DDPM convention's points: each level's centre low + (high − low) k/(L − 1).
  public func centres(_ data: StateBatch) -> StateBatch {
    let (low, high) = range.bounds, spacing = (high - low) / Double(levels - 1)
    var out = data
    for e in out.values.indices { out.values[e] = low + spacing * data.values[e] }
    return out
  }

  /// Half the spacing of the level centres: the decoder's cell is the centre ± this.
  public var halfWidth: Double {
    let (low, high) = range.bounds
    return (high - low) / Double(2 * (levels - 1))
  }

  /// The lowest and highest centre, whose cells reach to −∞ and +∞.
  var extremeCentres: (low: Double, high: Double) { range.bounds }
}

/// Bits per dimension of a log-likelihood in nats: −log p / (d ln 2).
public func bitsPerDimension(logLikelihood: Double, dimension: Int) -> Double {
  -logLikelihood / (Double(dimension) * Foundation.log(2.0))
}
