// swift-tools-version:6.0
// Lazarus: interpretability experiments on small Llama-family models, on the CPU.
// Targets are layered; each depends only on the ones listed below it.
import PackageDescription

let package = Package(
    name: "Lazarus",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "lazarus", targets: ["LazarusCLI"]),
        .library(name: "Lazarus", targets: ["Experiments", "Training", "Introspection", "Optimization", "Datasets", "Transformer", "Tokenizer", "ModelFiles", "Kernels"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.0"),
    ],
    targets: [
        // The BLAS loader (C): dlopens scipy-openblas32 from .lazarus-deps/ (or the system OpenBLAS) on first use,
        // checks its core against CPUID and sizes its threads to the free cores. Nothing links a BLAS at build time.
        .target(name: "COpenBLAS", path: "Sources/COpenBLAS", linkerSettings: [.linkedLibrary("dl"), .linkedLibrary("pthread")]),
        // Fused dequantise-and-dot over GGUF blocks (scalar, AVX2, AVX-512 VNNI in one binary, chosen by CPUID).
        .target(name: "CQuantKernels", dependencies: ["COpenBLAS"], path: "Sources/CQuantKernels"),
        .target(name: "Kernels", dependencies: ["COpenBLAS", "CQuantKernels"]),
        .target(name: "ModelFiles"),
        // Its tests check internal stages (byte alphabet, scalar classes, the two merge loops) in release too.
        .target(name: "Tokenizer", swiftSettings: [.unsafeFlags(["-enable-testing"])]),
        .target(name: "Transformer", dependencies: ["Kernels", "ModelFiles", "Tokenizer"]),
        // Losses and optimisers below both Training and Introspection (LoRA, probes and lenses share them).
        .target(name: "Optimization", dependencies: ["Kernels"]),
        // Task data the experiments and the tests draw from (the arithmetic problems).
        .target(name: "Datasets", dependencies: ["Kernels"]),
        .target(name: "Introspection", dependencies: ["Transformer", "Optimization", "Tokenizer", "ModelFiles", "Kernels"]),
        .target(name: "Training", dependencies: ["Transformer", "Optimization", "Kernels", "ModelFiles", "Tokenizer"]),
        .target(name: "Experiments", dependencies: ["Training", "Introspection", "Optimization", "Datasets", "Transformer", "Tokenizer", "ModelFiles", "Kernels", "Yams"]),
        .target(name: "Benchmarks", dependencies: ["Training", "Introspection", "Optimization", "Transformer", "Kernels"]),
        .executableTarget(
            name: "LazarusCLI",
            dependencies: [
                "Experiments", "Benchmarks", "Training", "Introspection", "Optimization", "Transformer", "Tokenizer", "ModelFiles", "Kernels",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // What the test targets share: the default model, finite differences, seeded inputs, the tiny family folders.
        .target(name: "LazarusTestSupport", dependencies: ["Transformer", "Kernels"], path: "Tests/TestSupport"),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels", "ModelFiles", "LazarusTestSupport"]),
        .testTarget(name: "OptimizationTests", dependencies: ["Optimization", "Kernels", "LazarusTestSupport"]),
        .testTarget(name: "ModelFilesTests", dependencies: ["ModelFiles"], resources: [.copy("Fixtures")]),
        .testTarget(name: "TokenizerTests", dependencies: ["Tokenizer", "LazarusTestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "TransformerTests", dependencies: ["Transformer", "ModelFiles", "Tokenizer", "Kernels", "LazarusTestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "IntrospectionTests", dependencies: ["Introspection", "Datasets", "Training", "Transformer", "Tokenizer", "ModelFiles", "Kernels", "LazarusTestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Benchmarks", "Optimization", "Datasets", "Transformer", "Kernels", "ModelFiles", "Tokenizer", "LazarusTestSupport"]),
        .testTarget(name: "ExperimentsTests", dependencies: ["Experiments", "Datasets", "Training", "Transformer", "Kernels"]),
        // Runs the built `lazarus` executable as a child process (kills, signals, error lines).
        .testTarget(name: "LazarusCLITests", dependencies: ["Training", "Transformer", "ModelFiles"]),
    ],
    swiftLanguageModes: [.v5]
)
