// How a loaded model holds its weights: `f32` (every tensor decoded to Float32 on load: the exact path, for
// training, probes, lenses and the reference tests) or `native` (the projections, embedding and unembedding
// kept as the GGUF file's quantised blocks, multiplied by fused kernels: inference only).
public enum WeightStorage: String, Sendable, CaseIterable, Codable {
    case f32, native
}

public enum NativeAccuracy {
    /// The largest |Δ log-prob| (natural log, over the whole vocabulary at the last token) between `native` and
    /// `f32` weights on the default model's reference prompts, measured with the AVX-512 VNNI kernels
    /// (Tests/TransformerTests/NativeWeightsTests.swift holds it to twice this; docs/performance.md).
    public static let defaultModelMaxLogProbDelta = 0.8
}
