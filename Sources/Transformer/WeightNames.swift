// The one table that maps a Llama parameter to its name in Hugging Face checkpoints and in GGUF files
// (habit 17). Loaders look names up here; nothing else spells a tensor name.

public enum ModelTensor: Sendable, Hashable {
    case embedding, finalNorm, unembedding
    case attentionNorm(layer: Int), mlpNorm(layer: Int)
    case projection(layer: Int, Projection)
    /// llama.cpp's per-frequency RoPE divisors (Llama 3 scaling); GGUF only.
    case ropeFrequencies

    public var huggingFaceName: String? {
        switch self {
        case .embedding: return "model.embed_tokens.weight"
        case .finalNorm: return "model.norm.weight"
        case .unembedding: return "lm_head.weight"
        case let .attentionNorm(i): return "model.layers.\(i).input_layernorm.weight"
        case let .mlpNorm(i): return "model.layers.\(i).post_attention_layernorm.weight"
        case let .projection(i, p): return "model.layers.\(i).\(p.huggingFaceModule).\(p.huggingFaceName).weight"
        case .ropeFrequencies: return nil
        }
    }

    public var ggufName: String {
        switch self {
        case .embedding: return "token_embd.weight"
        case .finalNorm: return "output_norm.weight"
        case .unembedding: return "output.weight"
        case let .attentionNorm(i): return "blk.\(i).attn_norm.weight"
        case let .mlpNorm(i): return "blk.\(i).ffn_norm.weight"
        case let .projection(i, p):
            let short: String
            switch p {
            case .query: short = "attn_q"
            case .key: short = "attn_k"
            case .value: short = "attn_v"
            case .output: short = "attn_output"
            case .gate: short = "ffn_gate"
            case .up: short = "ffn_up"
            case .down: short = "ffn_down"
            }
            return "blk.\(i).\(short).weight"
        case .ropeFrequencies: return "rope_freqs.weight"
        }
    }
}
