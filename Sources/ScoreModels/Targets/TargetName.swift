import Foundation

/// The built-in analytic data distributions (shared/REFERENCE.md), by command-line name.
public enum TargetName: String, CaseIterable, Sendable, Codable {
  case gmm2d8
  case gmm64d16
  case gaussian
  case grid25

  public var summary: String {
    switch self {
    case .gmm2d8: "8 equal Gaussians (std 0.5) on a circle of radius 4, d = 2"
    case .gmm64d16: "16 equal Gaussians (std 0.3) in d = 64, means 2·sin(1 + 0.9k + 1.3j + 0.37kj)"
    case .gaussian: "one diagonal Gaussian, mean (1, −0.5), std (0.7, 1.5), d = 2"
    case .grid25: "5 × 5 grid of equal Gaussians, spacing 2, std 0.2, d = 2"
    }
  }

  public var mixture: GaussianMixture {
    switch self {
    case .gmm2d8:
      return GaussianMixture(
        means: (0..<8).map { k in
          let angle = 2 * Double.pi * Double(k) / 8
          return [4 * cos(angle), 4 * sin(angle)]
        }, standardDeviation: 0.5)
    case .gmm64d16:
      return GaussianMixture(
        means: (0..<16).map { k in
          (0..<64).map { j in
            let (kk, jj) = (Double(k), Double(j))
            return 2 * sin(1.0 + 0.9 * kk + 1.3 * jj + 0.37 * kk * jj)
          }
        }, standardDeviation: 0.3)
    case .gaussian:
      return GaussianMixture(weights: [1], means: [[1, -0.5]], standardDeviations: [[0.7, 1.5]])
    case .grid25:
      var means: [[Double]] = []
      for i in 0..<5 {
        for j in 0..<5 { means.append([2 * Double(i) - 4, 2 * Double(j) - 4]) }
      }
      return GaussianMixture(means: means, standardDeviation: 0.2)
    }
  }
}
