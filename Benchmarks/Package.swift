// swift-tools-version: 6.1
// SDEKit's benchmarks, kept out of the library's dependency graph so `make test` never builds
// them. Run with `make bench` from the repository root.

import Foundation
import PackageDescription

// A path dependency's identity is its folder's name, which is whatever the clone was called.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent

let package = Package(
  name: "SDEKitBenchmarks",
  platforms: [.macOS(.v13)],
  dependencies: [
    .package(path: ".."),
    // The MallocInterposer trait is what lets 1.38.1 resolve from the local mirror.
    .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
  ],
  targets: [
    .executableTarget(
      name: "SolverBenchmarks",
      dependencies: [
        .product(name: "SDEKit", package: root),
        .product(name: "ScoreModels", package: root),
        .product(name: "Samplers", package: root),
        .product(name: "Benchmark", package: "benchmark"),
      ],
      path: "Benchmarks/SolverBenchmarks",
      swiftSettings: [.unsafeFlags(["-target-cpu", "native"])],
      plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
    ),
  ]
)
