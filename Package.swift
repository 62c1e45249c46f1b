// swift-tools-version:6.0
// Lazarus: interpretability experiments on small Llama-family models, on the CPU.
// Targets are layered; each depends only on the ones listed below it.
import PackageDescription

let package = Package(
    name: "Lazarus",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "lazarus", targets: ["LazarusCLI"]),
        .library(name: "Lazarus", targets: ["Experiments", "Training", "Introspection", "Llama", "Tokenizer", "ModelFiles", "Kernels"]),
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
        .target(name: "Llama", dependencies: ["Kernels", "ModelFiles", "Tokenizer"]),
        .target(name: "Introspection", dependencies: ["Llama", "Tokenizer", "Kernels"]),
        .target(name: "Training", dependencies: ["Llama", "Kernels", "ModelFiles", "Tokenizer"]),
        .target(name: "Experiments", dependencies: ["Training", "Introspection", "Llama", "Tokenizer", "ModelFiles", "Kernels", "Yams"]),
        .target(name: "Benchmarks", dependencies: ["Training", "Introspection", "Llama", "Kernels"]),
        .executableTarget(
            name: "LazarusCLI",
            dependencies: [
                "Experiments", "Benchmarks", "Training", "Introspection", "Llama", "Tokenizer", "ModelFiles", "Kernels",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels"]),
        .testTarget(name: "ModelFilesTests", dependencies: ["ModelFiles"], resources: [.copy("Fixtures")]),
        .testTarget(name: "TokenizerTests", dependencies: ["Tokenizer"], resources: [.copy("Fixtures")]),
        .testTarget(name: "LlamaTests", dependencies: ["Llama", "ModelFiles", "Tokenizer", "Kernels"], resources: [.copy("Fixtures")]),
        .testTarget(name: "IntrospectionTests", dependencies: ["Introspection", "Experiments", "Training", "Llama", "Tokenizer", "Kernels"], resources: [.copy("Fixtures")]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Experiments", "Llama", "Kernels", "ModelFiles", "Tokenizer"]),
        .testTarget(name: "ExperimentsTests", dependencies: ["Experiments", "Training", "Llama", "Kernels"]),
        // Runs the built `lazarus` executable as a child process (kills, signals, error lines).
        .testTarget(name: "LazarusCLITests", dependencies: ["Training", "Llama", "ModelFiles"]),
    ],
    swiftLanguageModes: [.v5]
)
