// swift-tools-version: 6.1
// SDEKit: SDE and ODE solvers for score-based diffusion models.
// Module order (each depends only on those above it): SDEKit → sdekit.
// GSLIntegrators, ScoreModels and Samplers join this list with their own issues.

import PackageDescription

let package = Package(
  name: "SDEKit",
  products: [
    .library(name: "SDEKit", targets: ["SDEKit"]),
    .executable(name: "sdekit", targets: ["sdekit"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
  ],
  targets: [
    // MARK: - Public targets

    .target(name: "SDEKit"),
    .executableTarget(
      name: "sdekit",
      dependencies: [
        "SDEKit",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),

    // MARK: - Tests

    .testTarget(name: "SDEKitTests", dependencies: ["SDEKit"]),
    .testTarget(name: "sdekitTests", dependencies: ["sdekit"]),
  ],
  swiftLanguageModes: [.v6]
)
