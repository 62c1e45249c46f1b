// ModelConfig: the shape of a model and its block descriptor, whichever file and family it came from.
// Llama's values are the defaults; a family (Architecture.swift) sets what differs.
import Kernels

public struct ModelConfig: Sendable, Equatable {
    public var architecture: Architecture
    public var block: BlockDescriptor
    public var vocabularySize: Int      // V
    public var hiddenSize: Int          // D
    public var intermediateSize: Int    // F
    public var layerCount: Int          // L
    public var headCount: Int           // H
    public var kvHeadCount: Int         // Hkv
    public var headDim: Int             // Dh
    public var rmsNormEps: Float
    /// RoPE base of global layers (and of every layer when there is no local base).
    public var ropeTheta: Double
    public var ropeScaling: Llama3RopeScaling?
    /// Per-frequency divisors of the RoPE inverse frequencies (llama.cpp stores Llama 3's scaling this way, as `rope_freqs.weight`).
    public var ropeFrequencyFactors: [Float]?
    public var tiedEmbeddings: Bool
    public var contextLength: Int
    /// Per layer: full causal attention or a sliding window. [L]
    public var layerKinds: [AttentionKind]
    /// W, for the sliding layers.
    public var slidingWindow: Int?
    /// RoPE base of sliding layers (Gemma 3: 1e4 where global layers use 1e6); nil: `ropeTheta`.
    public var localRopeTheta: Double?
    /// q·k multiplier; nil: 1/√Dh. Gemma: 1/√query_pre_attn_scalar.
    public var attentionScale: Float?
    /// Multiplies the embedding rows (Gemma: √D, rounded to Float32 as transformers does).
    public var embeddingScale: Float?
    /// c in logits = c·tanh(logits / c) (final_logit_softcapping), or nil.
    public var finalLogitSoftcap: Float?
    /// E experts, k per token, for a block whose descriptor has a mixture-of-experts MLP (F is then each expert's width).
    public var mixture: MixtureShape?
    /// YaRN scaling of the global layers' RoPE (GPT-OSS), or nil.
    public var ropeYarn: YarnRopeScaling?

    public init(architecture: Architecture = .llama, block: BlockDescriptor = .llama,
                vocabularySize: Int, hiddenSize: Int, intermediateSize: Int, layerCount: Int, headCount: Int,
                kvHeadCount: Int, headDim: Int, rmsNormEps: Float, ropeTheta: Double,
                ropeScaling: Llama3RopeScaling? = nil, ropeFrequencyFactors: [Float]? = nil,
                tiedEmbeddings: Bool, contextLength: Int, layerKinds: [AttentionKind]? = nil, slidingWindow: Int? = nil,
                localRopeTheta: Double? = nil, attentionScale: Float? = nil, embeddingScale: Float? = nil,
                finalLogitSoftcap: Float? = nil, mixture: MixtureShape? = nil, ropeYarn: YarnRopeScaling? = nil) {
        self.architecture = architecture
        self.block = block
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
        self.layerKinds = layerKinds ?? Array(repeating: .global, count: max(0, layerCount))
        self.slidingWindow = slidingWindow
        self.localRopeTheta = localRopeTheta
        self.attentionScale = attentionScale
        self.embeddingScale = embeddingScale
        self.finalLogitSoftcap = finalLogitSoftcap
        self.mixture = mixture
        self.ropeYarn = ropeYarn
    }

    public var queryWidth: Int { headCount * headDim }      // H·Dh
    public var kvWidth: Int { kvHeadCount * headDim }       // Hkv·Dh
    /// Query heads that share one key/value head.
    public var groupSize: Int { headCount / kvHeadCount }

    /// The sliding window of layer l, or nil for a global layer.
    public func window(layer l: Int) -> Int? { layerKinds[l] == .sliding ? slidingWindow : nil }

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
        if let t = localRopeTheta, !(t > 0 && t.isFinite) { throw fail("local rope base", "must be a positive number, got \(t)") }
        if let f = ropeFrequencyFactors, f.count != headDim / 2 {
            throw fail("rope_freqs", "has \(f.count) factors, expected head_dim/2 = \(headDim / 2)")
        }
        guard layerKinds.count == layerCount else {
            throw fail("layer_types", "lists \(layerKinds.count) layers for \(layerCount) blocks")
        }
        if layerKinds.contains(.sliding) {
            guard let w = slidingWindow, w > 0 else { throw fail("sliding_window", "sliding layers need a positive window, got \(slidingWindow.map(String.init) ?? "none")") }
        }
        if let s = attentionScale, !(s > 0 && s.isFinite) { throw fail("attention scale", "must be a positive number, got \(s)") }
        if let s = embeddingScale, !(s > 0 && s.isFinite) { throw fail("embedding scale", "must be a positive number, got \(s)") }
        if let c = finalLogitSoftcap, !(c > 0 && c.isFinite) { throw fail("final_logit_softcapping", "must be a positive number, got \(c)") }
        if block.moe != nil {
            guard let m = mixture else { throw fail("num_local_experts", "a mixture-of-experts block needs its expert count and experts per token") }
            guard m.experts > 0, m.experts <= 1 << 16 else { throw fail("num_local_experts", "must be between 1 and 65536, got \(m.experts)") }
            guard m.perToken > 0, m.perToken <= m.experts else {
                throw fail("num_experts_per_tok", "must be between 1 and the expert count \(m.experts), got \(m.perToken)")
            }
        } else if mixture != nil {
            throw fail("num_local_experts", "is set, but a \(architecture.displayName) block has no experts")
        }
        if let y = ropeYarn {
            guard y.factor > 0, y.factor.isFinite, y.originalMaxPositions >= 1, y.originalMaxPositions.isFinite,
                  y.betaFast > 0, y.betaSlow > 0, y.betaFast.isFinite, y.betaSlow.isFinite, y.magnitude > 0, y.magnitude.isFinite else {
                throw fail("rope_scaling", "YaRN needs a positive factor, original_max_position_embeddings, beta_fast and beta_slow")
            }
            if ropeScaling != nil { throw fail("rope_scaling", "has both llama3 and YaRN scaling") }
        }
    }

    /// The rotary embedding of layer l (global and sliding layers may have different bases; llama3
    /// scaling and rope_freqs apply to global layers, as the models that have them define).
    public func makeRotaryEmbedding(layer l: Int) -> RotaryEmbedding {
        if layerKinds[l] == .sliding, let local = localRopeTheta {
            return RotaryEmbedding(headDim: headDim, theta: local)
        }
        return makeRotaryEmbedding()
    }

    /// The rotary embedding of the global layers (GPT-OSS: every layer, with YaRN).
    public func makeRotaryEmbedding() -> RotaryEmbedding {
        if let yarn = ropeYarn { return yarn.rotaryEmbedding(headDim: headDim, theta: ropeTheta) }
        return RotaryEmbedding(headDim: headDim, theta: ropeTheta, scaling: ropeScaling, frequencyFactors: ropeFrequencyFactors)
    }
}
