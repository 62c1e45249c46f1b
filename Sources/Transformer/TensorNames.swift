// The one table per architecture that maps a parameter to its name in Hugging Face checkpoints, GGUF
// files and PEFT adapters (habit 17), with the two per-format conversions that go with the names:
// llama.cpp's Q/K row permutation and Gemma's `1 + w` norm weights. Nothing else spells a tensor name.

/// A parameter of the whole model.
public enum ModelTensor: Sendable, Hashable, CustomStringConvertible {
    case embedding, finalNorm, unembedding
    /// llama.cpp's per-frequency RoPE divisors (Llama 3 scaling); GGUF only.
    case ropeFrequencies
    case block(layer: Int, BlockTensor)

    public static func projection(layer: Int, _ p: Projection) -> ModelTensor { .block(layer: layer, p.blockTensor) }
    public static func attentionNorm(layer: Int) -> ModelTensor { .block(layer: layer, .attentionNorm) }
    public static func mlpNorm(layer: Int) -> ModelTensor { .block(layer: layer, .mlpNorm) }

    public var description: String {
        switch self {
        case .embedding: return "embedding"
        case .finalNorm: return "final norm"
        case .unembedding: return "unembedding"
        case .ropeFrequencies: return "rope frequencies"
        case let .block(i, role): return "layer \(i) \(role)"
        }
    }
}

public struct TensorNames: Sendable {
    public let architecture: Architecture
    /// Block tensor → (Hugging Face suffix after `model.layers.{i}.`, GGUF suffix after `blk.{i}.`).
    let blockNames: [BlockTensor: (huggingFace: String, gguf: String)]
    /// llama.cpp's converter permutes Q/K rows for the archs it runs with interleaved RoPE (LLAMA_ROPE_TYPE_NORM);
    /// the NeoX-style archs (Qwen, Gemma) keep Hugging Face's order.
    public let ggufPermutesQK: Bool
    /// Added to every norm weight read from safetensors (Gemma's RMSNorm multiplies by 1 + w; llama.cpp's
    /// converter stores 1 + w in the GGUF already, so GGUF norms are read as they are).
    public let safetensorsNormOffset: Float

    public init(_ architecture: Architecture) {
        self.architecture = architecture
        var names: [BlockTensor: (String, String)] = [
            .attentionNorm: ("input_layernorm.weight", "attn_norm.weight"),
            .query: ("self_attn.q_proj.weight", "attn_q.weight"),
            .key: ("self_attn.k_proj.weight", "attn_k.weight"),
            .value: ("self_attn.v_proj.weight", "attn_v.weight"),
            .output: ("self_attn.o_proj.weight", "attn_output.weight"),
            .queryBias: ("self_attn.q_proj.bias", "attn_q.bias"),
            .keyBias: ("self_attn.k_proj.bias", "attn_k.bias"),
            .valueBias: ("self_attn.v_proj.bias", "attn_v.bias"),
            .queryNorm: ("self_attn.q_norm.weight", "attn_q_norm.weight"),
            .keyNorm: ("self_attn.k_norm.weight", "attn_k_norm.weight"),
            .mlpNorm: ("post_attention_layernorm.weight", "ffn_norm.weight"),
            .gate: ("mlp.gate_proj.weight", "ffn_gate.weight"),
            .up: ("mlp.up_proj.weight", "ffn_up.weight"),
            .down: ("mlp.down_proj.weight", "ffn_down.weight"),
        ]
        // GPT-OSS and Mixtral: the attention extras, the router and the experts. The experts' Hugging Face names
        // are each family's own layout (ExpertAssembly.swift reads them): Mixtral one tensor per expert
        // ("{e}" stands for its index), GPT-OSS gate and up interleaved in one input-major gate_up_proj.
        // GGUF stacks each role into one [E, rows, cols] tensor for both (llama.cpp's ffn_*_exps).
        names[.outputBias] = ("self_attn.o_proj.bias", "attn_output.bias")
        names[.attentionSinks] = ("self_attn.sinks", "attn_sinks.weight")
        names[.routerBias] = ("mlp.router.bias", "ffn_gate_inp.bias")
        names[.expertGateBias] = ("mlp.experts.gate_up_proj_bias", "ffn_gate_exps.bias")
        names[.expertUpBias] = ("mlp.experts.gate_up_proj_bias", "ffn_up_exps.bias")
        names[.expertDownBias] = ("mlp.experts.down_proj_bias", "ffn_down_exps.bias")
        if architecture == .mixtral {
            names[.router] = ("block_sparse_moe.gate.weight", "ffn_gate_inp.weight")
            names[.expertGate] = ("block_sparse_moe.experts.{e}.w1.weight", "ffn_gate_exps.weight")
            names[.expertUp] = ("block_sparse_moe.experts.{e}.w3.weight", "ffn_up_exps.weight")
            names[.expertDown] = ("block_sparse_moe.experts.{e}.w2.weight", "ffn_down_exps.weight")
        } else {
            names[.router] = ("mlp.router.weight", "ffn_gate_inp.weight")
            names[.expertGate] = ("mlp.experts.gate_up_proj", "ffn_gate_exps.weight")
            names[.expertUp] = ("mlp.experts.gate_up_proj", "ffn_up_exps.weight")
            names[.expertDown] = ("mlp.experts.down_proj", "ffn_down_exps.weight")
        }
        if architecture == .gptOss {
            // llama.cpp names GPT-OSS's MLP pre-norm (HF post_attention_layernorm) post_attention_norm.
            names[.mlpNorm] = ("post_attention_layernorm.weight", "post_attention_norm.weight")
        }
        if architecture == .gemma3 {
            // Gemma's post_attention_layernorm follows the attention; its MLP norm is pre_feedforward_layernorm.
            names[.attentionOutputNorm] = ("post_attention_layernorm.weight", "post_attention_norm.weight")
            names[.mlpNorm] = ("pre_feedforward_layernorm.weight", "ffn_norm.weight")
            names[.mlpOutputNorm] = ("post_feedforward_layernorm.weight", "post_ffw_norm.weight")
        }
        blockNames = names
        ggufPermutesQK = architecture == .llama || architecture == .mistral || architecture == .mixtral
        safetensorsNormOffset = architecture == .gemma3 ? 1 : 0
    }

    public func huggingFace(_ t: ModelTensor) -> String? {
        switch t {
        case .embedding: return "model.embed_tokens.weight"
        case .finalNorm: return "model.norm.weight"
        case .unembedding: return "lm_head.weight"
        case .ropeFrequencies: return nil
        case let .block(i, role): return blockNames[role].map { "model.layers.\(i).\($0.huggingFace)" }
        }
    }

    /// How the experts' tensors of a format are laid out (ExpertAssembly.swift).
    public func expertLayout(_ format: ModelFormat) -> ExpertLayout {
        if format == .gguf { return .stacked }
        return architecture == .mixtral ? .perExpert : .fusedInputMajor
    }

    public func gguf(_ t: ModelTensor) -> String {
        switch t {
        case .embedding: return "token_embd.weight"
        case .finalNorm: return "output_norm.weight"
        case .unembedding: return "output.weight"
        case .ropeFrequencies: return "rope_freqs.weight"
        case let .block(i, role): return "blk.\(i).\(blockNames[role]?.gguf ?? "?")"
        }
    }

    /// PEFT's module path of a projection (keys `base_model.model.<path>.lora_A.weight`).
    public func peftModule(layer: Int, _ p: Projection) -> String {
        p == .router ? "model.layers.\(layer).\(peftRouterModule)" : "model.layers.\(layer).\(p.huggingFaceModule).\(p.huggingFaceName)"
    }

    /// The router's module in transformers 5's tree, whose `weight` PEFT adapts as a `target_parameters` entry:
    /// Mixtral's MixtralTopKRouter sits at `mlp.gate` (its checkpoints still name it block_sparse_moe.gate),
    /// GPT-OSS's GptOssTopKRouter at `mlp.router`.
    public var peftRouterModule: String { architecture == .mixtral ? "mlp.gate" : "mlp.router" }
}
