import Foundation
import SDEKit

/// Built-in data sets to train a denoiser on: the analytic targets and three 2-D toy sets
/// generated here (a sample is a pure function of (seed, row), like everything random in SDEKit).
public enum TrainingData: Sendable, Hashable {
  case target(TargetName)
  /// Two interleaving half circles (as scikit-learn's make_moons), Gaussian noise 0.05.
  case moons
  /// A 2-D Swiss roll: (θ cos θ, θ sin θ)/(3π) for θ uniform in [1.5π, 4.5π], noise 0.02.
  case swissRoll
  /// Uniform on the dark squares of a 4 × 4 checkerboard over [−2, 2]².
  case checkerboard

  /// The names `sdekit train --data` accepts besides a .npy path.
  public static var names: [String] {
    TargetName.allCases.map(\.rawValue) + ["moons", "swiss-roll", "checkerboard"]
  }

  public init?(name: String) {
    switch name {
    case "moons": self = .moons
    case "swiss-roll": self = .swissRoll
    case "checkerboard": self = .checkerboard
    default:
      guard let target = TargetName(rawValue: name) else { return nil }
      self = .target(target)
    }
  }

  public var dimension: Int {
    if case .target(let target) = self { return target.mixture.dimension }
    return 2
  }

  /// `count` samples.
  public func samples(count: Int, seed: UInt64) -> StateBatch {
    if case .target(let target) = self { return target.mixture.sample(count: count, seed: seed) }
    var out = StateBatch(count: count, dimension: 2)
    let philox = NoiseStream.dataSet.generator(seed: seed), normals = NormalSource(seed: seed)
    for i in 0..<count {
      let words = philox.block(UInt32(truncatingIfNeeded: i), UInt32(truncatingIfNeeded: i >> 32), 0, 0)
      let u1 = (Double(words.0) + 0.5) * 0x1p-32, u2 = (Double(words.1) + 0.5) * 0x1p-32
      let z0 = normals.normal(row: i, stream: .dataSet, index: 0), z1 = normals.normal(row: i, stream: .dataSet, index: 1)
      let point: (Double, Double)
      switch self {
      case .moons:
        let angle = Double.pi * u1
        point = words.2 & 1 == 0 ? (cos(angle), sin(angle)) : (1 - cos(angle), 0.5 - sin(angle))
        out[i, 0] = point.0 + 0.05 * z0
        out[i, 1] = point.1 + 0.05 * z1
      case .swissRoll:
        let theta = 1.5 * Double.pi * (1 + 2 * u1)
        out[i, 0] = theta * cos(theta) / (3 * Double.pi) + 0.02 * z0
        out[i, 1] = theta * sin(theta) / (3 * Double.pi) + 0.02 * z1
      case .checkerboard:
        // Column c ∈ 0…3 and a row of the same parity give the dark squares.
        let column = Int(words.2 % 4), row = 2 * Int(words.3 % 2) + (column % 2)
        out[i, 0] = -2 + Double(column) + u1
        out[i, 1] = -2 + Double(row) + u2
      case .target:
        preconditionFailure("handled above")
      }
    }
    return out
  }
}
