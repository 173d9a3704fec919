// swift-tools-version: 6.1
// A libFuzzer target for the safetensors reader, kept out of the library's package. Run with
// `make fuzz` from the repository root (it builds with -sanitize=fuzzer,address).

import Foundation
import PackageDescription

// A path dependency's identity is its folder's name, which is whatever the clone was called.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent

let package = Package(
  name: "SDEKitFuzz",
  dependencies: [.package(path: "..")],
  targets: [
    .executableTarget(name: "SafeTensorsFuzz", dependencies: [.product(name: "ScoreModels", package: root)]),
  ]
)
