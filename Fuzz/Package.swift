// swift-tools-version: 6.1
// libFuzzer targets for every reader of outside input — safetensors models, .npy and .csv
// samples, JSON configurations — kept out of the library's package. Run with `make fuzz` from
// the repository root (it builds with -sanitize=fuzzer,address).

import Foundation
import PackageDescription

// A path dependency's identity is its folder's name, which is whatever the clone was called.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent

let package = Package(
  name: "SDEKitFuzz",
  dependencies: [.package(path: "..")],
  targets: [
    .target(name: "FuzzDriver"),
    .executableTarget(name: "SafeTensorsFuzz", dependencies: [
      "FuzzDriver", .product(name: "ScoreModels", package: root), .product(name: "SDEKit", package: root),
    ]),
    .executableTarget(name: "NPYFuzz", dependencies: ["FuzzDriver", .product(name: "SampleFiles", package: root)]),
    .executableTarget(name: "CSVFuzz", dependencies: ["FuzzDriver", .product(name: "SampleFiles", package: root)]),
    .executableTarget(name: "ConfigurationFuzz", dependencies: ["FuzzDriver", .product(name: "SampleFiles", package: root)]),
  ]
)
