// How a loaded model holds its weights: `f32` (every tensor decoded to Float32 on load: the exact path, for
// training, probes, lenses and the reference tests) or `native` (the projections, embedding and unembedding
// kept as the GGUF file's quantised blocks, multiplied by fused kernels: inference only).
import Kernels

public enum WeightStorage: String, Sendable, CaseIterable, Codable {
    case f32, native
    /// A mixture-of-experts model's expert weights kept as blocks, everything else Float32: the experts are frozen
    /// in LoRA training, so this is the storage that trains (QLoRA-style) within a quantised model's memory.
    case nativeExperts = "native-experts"

    /// Whether expert weights stored in a block type stay quantised (QuantizedExperts.swift).
    public var keepsExpertsQuantized: Bool { self != .f32 }
}

/// How far `native` logits move from `f32` ones: the largest |Δ log-prob| (natural log, over the whole vocabulary at
/// the last token) on the default model's nine reference prompts, measured on an AMD EPYC (AVX-512 VNNI).
/// Tests/TransformerTests/NativeWeightsTests.swift holds each path to twice its figure; docs/performance.md.
public enum NativeAccuracy {
    /// The default path where the CPU has AVX-512 VNNI (int16 activations).
    public static let defaultModelMaxLogProbDelta = 0.005
    /// avx512vnni-int8 (int8 activations, as ggml): never a default.
    public static let defaultModelMaxLogProbDeltaInt8 = 0.8
    /// scalar and avx2 (float activations, the f32 weights' exact values): the order of the sums only.
    public static let defaultModelMaxLogProbDeltaFloat = 0.0001

    /// The figure of a kernel path.
    public static func defaultModelMaxLogProbDelta(path: KernelPath) -> Double {
        switch path {
        case .scalar, .avx2: return defaultModelMaxLogProbDeltaFloat
        case .avx512vnni: return defaultModelMaxLogProbDelta
        case .avx512vnniInt8: return defaultModelMaxLogProbDeltaInt8
        }
    }
}
