// From a file's metadata to a ModelConfig, per family: what config.json (both transformers 4 and 5
// forms) and GGUF metadata say, and what a family takes from its defaults when a file does not say it.
// A feature Lazarus does not implement is refused here, naming the file, the key and the value.
import Foundation
import Kernels
import ModelFiles

extension ModelConfig {
    // MARK: config.json

    public static func fromHuggingFace(_ hf: HFModelConfig, source: String) throws -> ModelConfig {
        func fail(_ field: String, _ why: String) -> ModelError { .invalidConfig(file: source, field: field, reason: why) }
        let named = hf.architectures.first
        guard let arch = Architecture.fromHuggingFace(architecture: named, modelType: hf.modelType) else {
            throw ModelError.unsupportedModel(file: source, reason: "architecture '\(named ?? hf.modelType ?? "")' is not supported (supported: \(Architecture.supportedHuggingFaceClasses))")
        }
        if let act = hf.hiddenActivation {
            let expected = arch == .gemma3 ? ["gelu_pytorch_tanh"] : ["silu", "swish"]
            guard expected.contains(act) else {
                throw fail(arch == .gemma3 ? "hidden_activation" : "hidden_act", "'\(act)' is not implemented for \(arch.displayName) (Lazarus implements \(expected[0]))")
            }
        }
        if hf.attnLogitSoftcapping != nil {
            throw fail("attn_logit_softcapping", "\(hf.attnLogitSoftcapping!) is set; attention-logit soft-capping is not implemented")
        }
        if hf.mlpBias == true { throw fail("mlp_bias", "true is not implemented (MLP projections without biases only)") }
        if hf.attentionBias == true && arch != .qwen2 && arch != .gptOss {
            throw fail("attention_bias", "true is not implemented for \(arch.displayName) (only Qwen2's q/k/v biases and GPT-OSS's q/k/v/o biases)")
        }
        guard hf.numAttentionHeads > 0 else { throw fail("num_attention_heads", "must be positive") }
        let layers = hf.numHiddenLayers
        let scaling = hf.ropeByLayerType["full_attention"]?.scaling ?? hf.ropeScaling
        var config = ModelConfig(
            architecture: arch, block: arch.block,
            vocabularySize: hf.vocabSize, hiddenSize: hf.hiddenSize, intermediateSize: hf.intermediateSize, layerCount: layers,
            headCount: hf.numAttentionHeads, kvHeadCount: hf.numKeyValueHeads, headDim: hf.headDim ?? hf.hiddenSize / hf.numAttentionHeads,
            rmsNormEps: Float(hf.rmsNormEps), ropeTheta: hf.ropeByLayerType["full_attention"]?.theta ?? hf.ropeTheta,
            ropeScaling: try llama3Scaling(scaling?.ropeType == "yarn" ? nil : scaling, field: "rope_scaling", source: source),
            tiedEmbeddings: hf.tieWordEmbeddings, contextLength: hf.maxPositionEmbeddings)

        config.layerKinds = try layerKinds(hf, arch: arch, source: source)
        if config.layerKinds.contains(.sliding) {
            guard let w = hf.slidingWindow else { throw fail("sliding_window", "is missing or null, but layers are marked sliding_attention") }
            config.slidingWindow = w
        }
        switch arch {
        case .gemma3:
            let local = hf.ropeByLayerType["sliding_attention"]
            if local?.scaling != nil { throw fail("rope_parameters.sliding_attention.rope_type", "scaled RoPE on sliding layers is not implemented") }
            // transformers' Gemma 3 defaults where a file leaves them out: local base 1e4, scalar 256.
            config.localRopeTheta = local?.theta ?? hf.ropeLocalBaseFreq ?? 10_000
            config.attentionScale = Float(1 / (hf.queryPreAttnScalar ?? 256).squareRoot())
            config.embeddingScale = Float(Double(hf.hiddenSize).squareRoot())
            config.finalLogitSoftcap = hf.finalLogitSoftcapping.map { Float($0) }
        case .mixtral, .gptOss:
            guard let experts = hf.numLocalExperts else { throw fail("num_local_experts", "is missing; a \(arch.displayName) config.json gives its expert count") }
            guard let perToken = hf.numExpertsPerToken else { throw fail("num_experts_per_tok", "is missing; a \(arch.displayName) config.json gives it") }
            config.mixture = MixtureShape(experts: experts, perToken: perToken)
            if arch == .gptOss {
                // transformers' GptOssConfig defaults where a file leaves them out.
                config.block.moe?.activation = .clampedSwiGLU(alpha: Float(hf.swigluAlpha ?? 1.702), limit: Float(hf.swigluLimit ?? 7.0))
                if hf.attentionBias == false { config.block.biases = [] }
            }
        default:
            if let c = hf.finalLogitSoftcapping { throw fail("final_logit_softcapping", "\(c) is not part of a \(arch.displayName) model") }
        }
        config.ropeYarn = try yarnScaling(scaling, field: hf.ropeByLayerType.isEmpty ? "rope_scaling" : "rope_parameters.full_attention", source: source)
        try config.validate(source: source)
        return config
    }

    private static func layerKinds(_ hf: HFModelConfig, arch: Architecture, source: String) throws -> [AttentionKind] {
        let n = hf.numHiddenLayers
        if let types = hf.layerTypes {
            guard types.count == n else {
                throw ModelError.invalidConfig(file: source, field: "layer_types", reason: "lists \(types.count) layers for num_hidden_layers \(n)")
            }
            return try types.enumerated().map { i, t in
                guard let kind = AttentionKind(rawValue: t) else {
                    throw ModelError.invalidConfig(file: source, field: "layer_types[\(i)]", reason: "'\(t)' is not implemented (full_attention or sliding_attention)")
                }
                return kind
            }
        }
        switch arch {
        case .gemma3:
            // Every sliding_window_pattern-th layer is global (transformers' default pattern: 6).
            let pattern = hf.slidingWindowPattern ?? 6
            return (0..<n).map { ($0 + 1) % pattern == 0 ? .global : .sliding }
        case .mistral, .mixtral:
            return Array(repeating: hf.slidingWindow == nil ? .global : .sliding, count: n)
        case .gptOss:
            // GptOssConfig's default: layers alternate sliding, full, sliding, … from layer 0.
            return (0..<n).map { $0 % 2 == 0 ? .sliding : .global }
        case .qwen2, .qwen3:
            // Qwen's window applies from layer max_window_layers on, and only with use_sliding_window.
            guard hf.useSlidingWindow == true else { return Array(repeating: .global, count: n) }
            let first = hf.maxWindowLayers ?? n
            return (0..<n).map { $0 >= first ? .sliding : .global }
        case .llama:
            return Array(repeating: .global, count: n)
        }
    }

    /// YaRN from config.json's rope parameters (transformers' defaults: beta_fast 32, beta_slow 1, truncate true).
    static func yarnScaling(_ s: HFModelConfig.RopeScaling?, field: String, source: String) throws -> YarnRopeScaling? {
        guard let s, s.ropeType == "yarn" else { return nil }
        guard let original = s.originalMaxPositionEmbeddings else {
            throw ModelError.invalidConfig(file: source, field: "\(field).original_max_position_embeddings", reason: "is missing; YaRN scaling needs it")
        }
        var attentionFactor = s.attentionFactor
        if attentionFactor == nil, let m = s.mscale, let all = s.mscaleAllDim {
            // transformers: get_mscale(factor, mscale) / get_mscale(factor, mscale_all_dim).
            func mscale(_ k: Double) -> Double { s.factor <= 1 ? 1 : 0.1 * k * log(s.factor) + 1 }
            attentionFactor = mscale(m) / mscale(all)
        }
        return YarnRopeScaling(factor: s.factor, originalMaxPositions: Double(original), betaFast: s.betaFast ?? 32,
                               betaSlow: s.betaSlow ?? 1, truncate: s.truncate ?? true, attentionFactor: attentionFactor)
    }

    static func llama3Scaling(_ s: HFModelConfig.RopeScaling?, field: String, source: String) throws -> Llama3RopeScaling? {
        guard let s else { return nil }
        guard s.ropeType == "llama3" else {
            throw ModelError.invalidConfig(file: source, field: "\(field).rope_type", reason: "'\(s.ropeType)' is not supported (only llama3 and yarn scaling)")
        }
        return Llama3RopeScaling(factor: s.factor, lowFrequencyFactor: s.lowFreqFactor ?? 1, highFrequencyFactor: s.highFreqFactor ?? 4,
                                 originalMaxPositions: Double(s.originalMaxPositionEmbeddings ?? 8192))
    }

    // MARK: GGUF

    /// `vocabularyFallback`: the tokenizer's size, for files without `<arch>.vocab_size`.
    public static func fromGGUF(_ file: GGUFFile, vocabularyFallback: Int) throws -> ModelConfig {
        let source = file.url.path
        func fail(_ field: String, _ why: String) -> ModelError { .invalidConfig(file: source, field: field, reason: why) }
        let archName = file.string("general.architecture") ?? ""
        guard var arch = Architecture.fromGGUF(archName) else {
            throw ModelError.unsupportedModel(file: source, reason: "general.architecture '\(archName)' is not supported (supported: \(Architecture.supportedGGUFNames))")
        }
        let p = archName + "."
        let mixture = try GGUFMixtureMetadata(file, prefix: p)
        // llama.cpp writes Mixtral as `llama` with experts.
        if arch == .llama && mixture != nil { arch = .mixtral }
        func required(_ key: String) throws -> Int {
            guard let v = file.int(p + key) else { throw fail(p + key, "missing or not an integer") }
            return v
        }
        let hidden = try required("embedding_length")
        let heads = try required("attention.head_count")
        guard heads > 0 else { throw fail(p + "attention.head_count", "must be positive") }
        let layers = try required("block_count")
        // The blocks in the tensor table must be exactly those the metadata announces.
        try file.checkBlockCount(layers, key: p + "block_count")
        let headDim = file.int(p + "attention.key_length") ?? file.int(p + "rope.dimension_count") ?? hidden / heads
        let scalingType = file.string(p + "rope.scaling.type")
        if let scaling = scalingType, scaling != "none", !(scaling == "yarn" && arch == .gptOss) {
            throw fail(p + "rope.scaling.type", "'\(scaling)' is not implemented for GGUF '\(archName)' files (Llama 3 scaling comes as rope_freqs.weight; YaRN is read for gpt-oss)")
        }
        if let cap = file.double(p + "attn_logit_softcapping") {
            throw fail(p + "attn_logit_softcapping", "\(cap) is set; attention-logit soft-capping is not implemented")
        }
        var ropeFactors: [Float]? = nil
        let names = TensorNames(arch)
        if file.tensor(named: names.gguf(.ropeFrequencies)) != nil {
            ropeFactors = try file.dequantizedTensor(named: names.gguf(.ropeFrequencies))
        }
        var config = ModelConfig(
            architecture: arch, block: arch.block,
            vocabularySize: file.int(p + "vocab_size") ?? vocabularyFallback, hiddenSize: hidden,
            intermediateSize: try required("feed_forward_length"), layerCount: layers, headCount: heads,
            kvHeadCount: file.int(p + "attention.head_count_kv") ?? heads, headDim: headDim,
            rmsNormEps: Float(file.double(p + "attention.layer_norm_rms_epsilon") ?? 1e-5),
            ropeTheta: file.double(p + "rope.freq_base") ?? 10_000, ropeFrequencyFactors: ropeFactors,
            tiedEmbeddings: file.tensor(named: names.gguf(.unembedding)) == nil,
            contextLength: file.int(p + "context_length") ?? 2048)
        let window = file.int(p + "attention.sliding_window")
        switch arch {
        case .gemma3:
            // The GGUF carries neither the sliding/global pattern nor query_pre_attn_scalar, and older files
            // not the local RoPE base. Lazarus takes what transformers and llama.cpp both take: every sixth
            // layer global, local base 1e4, and the scalar where the two agree (below).
            guard let window, window > 0 else {
                throw fail(p + "attention.sliding_window", "missing: a Gemma 3 GGUF needs its sliding window (512 in the released models); the file is incomplete")
            }
            config.layerKinds = (0..<layers).map { ($0 + 1) % 6 == 0 ? .global : .sliding }
            config.slidingWindow = window
            // Newer converters write the local base; the released 270M file does not.
            config.localRopeTheta = file.double(p + "rope.freq_base_swa") ?? 10_000
            // transformers' default scalar is 256 and llama.cpp's is head_dim (hidden/heads for the 62-block 27B):
            // they agree only at head_dim 256, and the 27B's shape is known. Anything else cannot be read right.
            let scalar: Double
            if headDim == 256 {
                scalar = 256
            } else if layers == 62 && hidden == 5376 && heads == 32 {
                scalar = Double(hidden) / Double(heads)
            } else {
                throw fail(p + "attention.key_length", "is \(headDim); a Gemma 3 GGUF does not store query_pre_attn_scalar, which is known only for head_dim 256 (and the 27B model) — load this model from its Hugging Face folder, whose config.json gives it")
            }
            config.attentionScale = Float(1 / scalar.squareRoot())
            config.embeddingScale = Float(Double(hidden).squareRoot())
            config.finalLogitSoftcap = file.double(p + "final_logit_softcapping").map { Float($0) }
            config.rmsNormEps = Float(file.double(p + "attention.layer_norm_rms_epsilon") ?? 1e-6)
        case .qwen2, .qwen3, .llama, .mistral, .mixtral:
            // llama.cpp does not apply a window for these archs either; a window key would be silently
            // ignored there, so it is refused here rather than guessed.
            if let window { throw fail(p + "attention.sliding_window", "\(window) is set; sliding-window attention is not implemented for GGUF '\(archName)' files") }
        case .gptOss:
            // llama.cpp's gpt-oss: sliding on even layers (swa pattern 2), the window from the file.
            guard let window, window > 0 else { throw fail(p + "attention.sliding_window", "missing: a gpt-oss GGUF needs its sliding window (128 in the released models)") }
            config.layerKinds = (0..<layers).map { $0 % 2 == 0 ? .sliding : .global }
            config.slidingWindow = window
            if let yarn = try GGUFYarnMetadata(file, prefix: p) {
                // The file does not say transformers' `truncate`; GPT-OSS's config.json has it false.
                config.ropeYarn = YarnRopeScaling(factor: yarn.factor, originalMaxPositions: Double(yarn.originalContextLength),
                                                  betaFast: yarn.betaFast ?? 32, betaSlow: yarn.betaSlow ?? 1, truncate: false,
                                                  attentionFactor: yarn.attentionFactor)
            }
        }
        if arch.block.moe != nil {
            guard let mixture else { throw fail(p + "expert_count", "missing: a \(arch.displayName) GGUF gives expert_count and expert_used_count") }
            config.mixture = MixtureShape(experts: mixture.expertCount, perToken: mixture.expertsPerToken)
            if let f = mixture.expertWidth { config.intermediateSize = f }
        } else if let mixture {
            throw fail(p + "expert_count", "\(mixture.expertCount) experts: mixture-of-experts blocks are not implemented for GGUF '\(archName)' files")
        }
        try config.validate(source: source)
        return config
    }
}
