// swift-tools-version:6.0
// Lazarus: interpretability experiments on small Llama-family models, on the CPU.
// Targets are layered; each depends only on the ones listed below it.
import PackageDescription

let package = Package(
    name: "Lazarus",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "lazarus", targets: ["LazarusCLI"]),
        .library(name: "Lazarus", targets: ["Experiments", "Training", "Introspection", "Transformer", "Tokenizer", "ModelFiles", "Kernels"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.0"),
    ],
    targets: [
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS"),
        .target(name: "Kernels", dependencies: ["COpenBLAS"]),
        .target(name: "ModelFiles"),
        // Its tests check internal stages (byte alphabet, scalar classes, the two merge loops) in release too.
        .target(name: "Tokenizer", swiftSettings: [.unsafeFlags(["-enable-testing"])]),
        .target(name: "Transformer", dependencies: ["Kernels", "ModelFiles", "Tokenizer"]),
        .target(name: "Introspection", dependencies: ["Transformer", "Tokenizer", "ModelFiles", "Kernels"]),
        .target(name: "Training", dependencies: ["Transformer", "Kernels", "ModelFiles", "Tokenizer"]),
        .target(name: "Experiments", dependencies: ["Training", "Introspection", "Transformer", "Tokenizer", "ModelFiles", "Kernels", "Yams"]),
        .target(name: "Benchmarks", dependencies: ["Training", "Introspection", "Transformer", "Kernels"]),
        .executableTarget(
            name: "LazarusCLI",
            dependencies: [
                "Experiments", "Benchmarks", "Training", "Introspection", "Transformer", "Tokenizer", "ModelFiles", "Kernels",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels"]),
        .testTarget(name: "ModelFilesTests", dependencies: ["ModelFiles"], resources: [.copy("Fixtures")]),
        .testTarget(name: "TokenizerTests", dependencies: ["Tokenizer"], resources: [.copy("Fixtures")]),
        .testTarget(name: "TransformerTests", dependencies: ["Transformer", "ModelFiles", "Tokenizer", "Kernels"], resources: [.copy("Fixtures")]),
        .testTarget(name: "IntrospectionTests", dependencies: ["Introspection", "Experiments", "Training", "Transformer", "Tokenizer", "Kernels"], resources: [.copy("Fixtures")]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Experiments", "Transformer", "Kernels", "ModelFiles", "Tokenizer"]),
        .testTarget(name: "ExperimentsTests", dependencies: ["Experiments", "Training", "Transformer", "Kernels"]),
        // Runs the built `lazarus` executable as a child process (kills, signals, error lines).
        .testTarget(name: "LazarusCLITests", dependencies: ["Training", "Transformer", "ModelFiles"]),
    ],
    swiftLanguageModes: [.v5]
)
