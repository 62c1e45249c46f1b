// What a transformer block is made of, as data: the norms and where they sit, the MLP's gate, the
// optional biases and QK-norm. The forward and backward read this; a family is a preset of it
// (Architecture.swift), not a fork of the code. Per-layer attention (window, RoPE base) lives in ModelConfig.

/// Where each sublayer's RMSNorms sit.
public enum NormPlacement: String, Sendable, Equatable, Codable {
    /// x + f(Norm(x)) (Llama, Qwen, Mistral).
    case pre
    /// x + PostNorm(f(Norm(x))) (Gemma 2/3: four norms per block).
    case prePost = "pre+post"
}

/// The MLP's gated activation: h = act(gate(x)) ⊙ up(x).
public enum GatedActivation: String, Sendable, Equatable, Codable {
    /// silu (Llama, Qwen, Mistral).
    case swiglu = "SwiGLU"
    /// gelu with PyTorch's tanh approximation (Gemma: hidden_activation gelu_pytorch_tanh).
    case gegluTanh = "GeGLU(tanh)"
}

public struct BlockDescriptor: Sendable, Equatable {
    public var normPlacement: NormPlacement
    public var activation: GatedActivation
    /// Projections that add a bias (Qwen2: q, k, v).
    public var biases: Set<Projection>
    /// RMSNorm over each query and key head (weight [Dh]) before RoPE (Qwen3, Gemma 3).
    public var qkNorm: Bool
    /// One extra softmax logit per query head with no value (GPT-OSS's attention sinks, weight [H]).
    public var attentionSinks: Bool
    /// A mixture-of-experts MLP in place of the dense one (Mixtral, GPT-OSS); see MixtureOfExperts.swift.
    public var moe: MixtureOfExpertsBlock?

    public init(normPlacement: NormPlacement = .pre, activation: GatedActivation = .swiglu,
                biases: Set<Projection> = [], qkNorm: Bool = false, attentionSinks: Bool = false,
                moe: MixtureOfExpertsBlock? = nil) {
        self.normPlacement = normPlacement
        self.activation = activation
        self.biases = biases
        self.qkNorm = qkNorm
        self.attentionSinks = attentionSinks
        self.moe = moe
    }

    /// Llama's block: pre-norms, SwiGLU, no biases, no QK-norm.
    public static let llama = BlockDescriptor()

    /// The block's features in words, for `model info`.
    public var featureList: [String] {
        var f = [normPlacement == .pre ? "pre-norm" : "pre+post norms"]
        if let moe {
            f.append("mixture of experts (\(moe.routing.rawValue); \(moe.activation.name) experts\(moe.expertBiases ? " with biases" : "")\(moe.routerBias ? "; router bias" : ""))")
        } else {
            f.append(activation.rawValue)
        }
        if !biases.isEmpty { f.append("biases on " + Projection.allCases.filter(biases.contains).map(\.rawValue).joined(separator: ",")) }
        if qkNorm { f.append("QK-norm") }
        if attentionSinks { f.append("attention sinks") }
        return f
    }
}

/// One layer's attention: full causal, or a sliding window, each with its own RoPE base.
public enum AttentionKind: String, Sendable, Equatable, Codable {
    case global = "full_attention"
    case sliding = "sliding_attention"
}
