// swift-tools-version: 6.1
// SDEKit: SDE and ODE solvers for score-based diffusion models.
// Module order (each depends only on those above it): CGSL → SDEKit → GSLIntegrators → sdekit.
// ScoreModels and Samplers join this list with their own issues.

import PackageDescription

let package = Package(
  name: "SDEKit",
  products: [
    .library(name: "SDEKit", targets: ["SDEKit"]),
    .library(name: "GSLIntegrators", targets: ["GSLIntegrators"]),
    .executable(name: "sdekit", targets: ["sdekit"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
  ],
  targets: [
    // MARK: - Public targets

    .target(name: "SDEKit"),
    .target(name: "GSLIntegrators", dependencies: ["SDEKit", "CGSL"]),
    .executableTarget(
      name: "sdekit",
      dependencies: [
        "SDEKit",
        "GSLIntegrators",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),

    // MARK: - Implementation details

    // GSL (GPL-3.0) through pkg-config; libgsl-dev is installed by `make`.
    .systemLibrary(name: "CGSL", pkgConfig: "gsl", providers: [.apt(["libgsl-dev"])]),

    // MARK: - Tests

    .testTarget(name: "SDEKitTests", dependencies: ["SDEKit"]),
    .testTarget(name: "GSLIntegratorsTests", dependencies: ["GSLIntegrators"]),
    .testTarget(name: "sdekitTests", dependencies: ["sdekit"]),
  ],
  swiftLanguageModes: [.v6]
)
