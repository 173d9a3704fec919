// swift-tools-version: 6.1
// SDEKit: SDE and ODE solvers for score-based diffusion models.
// Module order (each depends only on those above it):
// CGSL → SDEKit → GSLIntegrators → ScoreModels → Samplers → sdekit.

import PackageDescription

let package = Package(
  name: "SDEKit",
  products: [
    .library(name: "SDEKit", targets: ["SDEKit"]),
    .library(name: "GSLIntegrators", targets: ["GSLIntegrators"]),
    .library(name: "ScoreModels", targets: ["ScoreModels"]),
    .library(name: "Samplers", targets: ["Samplers"]),
    .executable(name: "sdekit", targets: ["sdekit"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
  ],
  targets: [
    // MARK: - Public targets

    /// OpenBLAS's CBLAS (libopenblas-dev; Homebrew's openblas), for training the learned score
    /// networks; on Apple platforms ScoreModels takes the CBLAS of Accelerate instead.
    .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"]), .brew(["openblas"])]),
    /// Vector kernels in C where Swift's SIMD types compile poorly (see the header): exp, Philox
    /// and the ziggurat's candidates, transposes, the mixture scores, the solvers' per-step updates.
    /// Each is compiled for several instruction-set levels through target attributes (no flags,
    /// which a dependency could not set) and one level is picked at run time.
    .target(name: "CSIMDMath"),

    .target(name: "SDEKit", dependencies: ["CSIMDMath"], exclude: ["README.md"]),
    .target(name: "GSLIntegrators", dependencies: ["SDEKit", "CGSL"], exclude: ["README.md"]),
    .target(
      name: "ScoreModels",
      dependencies: [
        "SDEKit", "CSIMDMath",
        .target(name: "COpenBLAS", condition: .when(platforms: [.linux, .android, .windows, .openbsd, .wasi])),
      ],
      exclude: ["README.md"]
    ),
    .target(name: "Samplers", dependencies: ["SDEKit", "GSLIntegrators", "ScoreModels"], exclude: ["README.md"]),
    .executableTarget(
      name: "sdekit",
      dependencies: [
        "SDEKit",
        "GSLIntegrators",
        "ScoreModels",
        "Samplers",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      exclude: ["README.md"]
    ),

    // MARK: - Implementation details

    // GSL (GPL-3.0) through pkg-config; libgsl-dev is installed by `make`.
    .systemLibrary(name: "CGSL", pkgConfig: "gsl", providers: [.apt(["libgsl-dev"]), .brew(["gsl"])]),

    // MARK: - Tests

    .testTarget(name: "SDEKitTests", dependencies: ["SDEKit"]),
    .testTarget(name: "GSLIntegratorsTests", dependencies: ["GSLIntegrators"]),
    // Fixtures are read through #filePath, not bundled.
    .testTarget(name: "ScoreModelsTests", dependencies: ["ScoreModels"], exclude: ["Fixtures"]),
    .testTarget(name: "SamplersTests", dependencies: ["Samplers"]),
    .testTarget(name: "sdekitTests", dependencies: ["sdekit", "Samplers"]),
  ],
  swiftLanguageModes: [.v6]
)
