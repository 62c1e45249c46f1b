// ModelConfig: the shape of a Llama-family model (SmolLM2, TinyLlama, Llama 2/3/3.2), whichever file it came from.
import Kernels

public struct ModelConfig: Sendable, Equatable {
    public var vocabularySize: Int      // V
    public var hiddenSize: Int          // D
    public var intermediateSize: Int    // F
    public var layerCount: Int          // L
    public var headCount: Int           // H
    public var kvHeadCount: Int         // Hkv
    public var headDim: Int             // Dh
    public var rmsNormEps: Float
    public var ropeTheta: Double
    public var ropeScaling: Llama3RopeScaling?
    /// Per-frequency divisors of the RoPE inverse frequencies (llama.cpp stores Llama 3's scaling this way, as `rope_freqs.weight`).
    public var ropeFrequencyFactors: [Float]?
    public var tiedEmbeddings: Bool
    public var contextLength: Int

    public init(vocabularySize: Int, hiddenSize: Int, intermediateSize: Int, layerCount: Int, headCount: Int,
                kvHeadCount: Int, headDim: Int, rmsNormEps: Float, ropeTheta: Double,
                ropeScaling: Llama3RopeScaling? = nil, ropeFrequencyFactors: [Float]? = nil,
                tiedEmbeddings: Bool, contextLength: Int) {
        self.vocabularySize = vocabularySize
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.layerCount = layerCount
        self.headCount = headCount
        self.kvHeadCount = kvHeadCount
        self.headDim = headDim
        self.rmsNormEps = rmsNormEps
        self.ropeTheta = ropeTheta
        self.ropeScaling = ropeScaling
        self.ropeFrequencyFactors = ropeFrequencyFactors
        self.tiedEmbeddings = tiedEmbeddings
        self.contextLength = contextLength
    }

    public var queryWidth: Int { headCount * headDim }      // H·Dh
    public var kvWidth: Int { kvHeadCount * headDim }       // Hkv·Dh
    /// Query heads that share one key/value head.
    public var groupSize: Int { headCount / kvHeadCount }

    /// Checks the relations the forward pass relies on; `source` names the file for the error.
    public func validate(source: String) throws {
        func fail(_ field: String, _ why: String) -> ModelError { .invalidConfig(file: source, field: field, reason: why) }
        for (name, v) in [("vocabulary size", vocabularySize), ("hidden size", hiddenSize), ("intermediate size", intermediateSize),
                          ("layer count", layerCount), ("head count", headCount), ("key-value head count", kvHeadCount), ("head dim", headDim)] {
            guard v > 0 else { throw fail(name, "must be positive, got \(v)") }
            guard v <= 1 << 24 else { throw fail(name, "implausibly large: \(v)") }
        }
        guard headCount % kvHeadCount == 0 else { throw fail("head count", "\(headCount) query heads are not a multiple of \(kvHeadCount) key-value heads") }
        guard headDim % 2 == 0 else { throw fail("head dim", "RoPE needs an even head dimension, got \(headDim)") }
        guard rmsNormEps > 0, rmsNormEps.isFinite else { throw fail("rms_norm_eps", "must be a positive number, got \(rmsNormEps)") }
        guard ropeTheta > 0, ropeTheta.isFinite else { throw fail("rope_theta", "must be a positive number, got \(ropeTheta)") }
        if let f = ropeFrequencyFactors, f.count != headDim / 2 {
            throw fail("rope_freqs", "has \(f.count) factors, expected head_dim/2 = \(headDim / 2)")
        }
    }

    /// The rotary embedding this configuration implies.
    public func makeRotaryEmbedding() -> RotaryEmbedding {
        RotaryEmbedding(headDim: headDim, theta: ropeTheta, scaling: ropeScaling, frequencyFactors: ropeFrequencyFactors)
    }
}
