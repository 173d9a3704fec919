// swift-tools-version: 6.1
// SDEKit: SDE and ODE solvers for score-based diffusion models.
// Module order (each depends only on those above it):
// CGSL → SDEKit → GSLIntegrators → ScoreModels → Samplers → SampleFiles → sdekit.

import Foundation
import PackageDescription

let package = Package(
  name: "SDEKit",
  products: [
    .library(name: "SDEKit", targets: ["SDEKit"]),
    .library(name: "GSLIntegrators", targets: ["GSLIntegrators"]),
    .library(name: "ScoreModels", targets: ["ScoreModels"]),
    .library(name: "Samplers", targets: ["Samplers"]),
    .library(name: "SampleFiles", targets: ["SampleFiles"]),
    .executable(name: "sdekit", targets: ["sdekit-tool"]),
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
    /// Reading and writing sample files (.npy, .csv) and run configurations, with typed errors
    /// for every kind of bad input (fuzzed in Fuzz/).
    .target(name: "SampleFiles", dependencies: ["SDEKit", "Samplers"], exclude: ["README.md"]),
    /// The command-line tool's commands, as a library that `sdekit` and `sdekit-mpi` both run.
    .target(
      name: "sdekit",
      dependencies: [
        "SDEKit",
        "GSLIntegrators",
        "ScoreModels",
        "Samplers",
        "SampleFiles",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      exclude: ["README.md"]
    ),
    /// The `sdekit` executable: its main only.
    .executableTarget(name: "sdekit-tool", dependencies: ["sdekit"]),

    // MARK: - Implementation details

    // GSL (GPL-3.0) through pkg-config; libgsl-dev is installed by `make`.
    .systemLibrary(name: "CGSL", pkgConfig: "gsl", providers: [.apt(["libgsl-dev"]), .brew(["gsl"])]),

    // MARK: - Tests

    .testTarget(name: "SDEKitTests", dependencies: ["SDEKit"]),
    .testTarget(name: "GSLIntegratorsTests", dependencies: ["GSLIntegrators"]),
    // Fixtures are read through #filePath, not bundled.
    .testTarget(name: "ScoreModelsTests", dependencies: ["ScoreModels"], exclude: ["Fixtures"]),
    .testTarget(name: "SamplersTests", dependencies: ["Samplers"], exclude: ["Fixtures"]),
    .testTarget(name: "SampleFilesTests", dependencies: ["SampleFiles", "Samplers", "SDEKit"]),
    .testTarget(name: "sdekitTests", dependencies: ["sdekit", "Samplers", "SampleFiles"]),
    // The libraries as a dependent package sees them: plain imports, no @testable.
    .testTarget(name: "PublicAPITests", dependencies: ["SDEKit", "GSLIntegrators", "ScoreModels", "Samplers"]),
  ],
  swiftLanguageModes: [.v6]
)

// MARK: - MPI

// sdekit-mpi (the commands across the ranks of an MPI job) and Open MPI's module exist only with
// SDEKIT_MPI=1, which `make` sets where pkg-config finds ompi-c (libopenmpi-dev), so the package
// builds and tests where MPI is absent. Nothing but sdekit-mpi links MPI.
if ProcessInfo.processInfo.environment["SDEKIT_MPI"] == "1" {
  package.products.append(.executable(name: "sdekit-mpi", targets: ["sdekit-mpi"]))
  package.targets += [
    .systemLibrary(name: "CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]),
    .executableTarget(name: "sdekit-mpi", dependencies: ["sdekit", "CMPI"]),
  ]
}
