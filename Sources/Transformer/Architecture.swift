// The families Lazarus runs, each a preset of data: its block descriptor, the names its checkpoints
// use (config.json `architectures`, GGUF `general.architecture`) and its tensor-name table.
// Adding a family is a case here and its config reading (ConfigReading.swift); the forward is shared.

public enum Architecture: String, Sendable, Equatable, CaseIterable, Codable {
    case llama, mistral, qwen2, qwen3, gemma3, mixtral
    case gptOss = "gpt-oss"

    public var displayName: String {
        switch self {
        case .llama: return "Llama"
        case .mistral: return "Mistral"
        case .qwen2: return "Qwen2"
        case .qwen3: return "Qwen3"
        case .gemma3: return "Gemma 3"
        case .mixtral: return "Mixtral"
        case .gptOss: return "GPT-OSS"
        }
    }

    /// The family's block.
    public var block: BlockDescriptor {
        switch self {
        case .llama, .mistral: return .llama
        case .qwen2: return BlockDescriptor(biases: [.query, .key, .value])
        case .qwen3: return BlockDescriptor(qkNorm: true)
        case .gemma3: return BlockDescriptor(normPlacement: .prePost, activation: .gegluTanh, qkNorm: true)
        case .mixtral: return BlockDescriptor(moe: .mixtral)
        case .gptOss: return BlockDescriptor(biases: [.query, .key, .value, .output], attentionSinks: true, moe: .gptOss)
        }
    }

    /// config.json `architectures[0]`.
    public var huggingFaceClass: String {
        switch self {
        case .llama: return "LlamaForCausalLM"
        case .mistral: return "MistralForCausalLM"
        case .qwen2: return "Qwen2ForCausalLM"
        case .qwen3: return "Qwen3ForCausalLM"
        case .gemma3: return "Gemma3ForCausalLM"
        case .mixtral: return "MixtralForCausalLM"
        case .gptOss: return "GptOssForCausalLM"
        }
    }

    /// config.json `model_type` values of the family's text models.
    public var huggingFaceModelTypes: [String] {
        switch self {
        case .llama: return ["llama"]
        case .mistral: return ["mistral"]
        case .qwen2: return ["qwen2"]
        case .qwen3: return ["qwen3"]
        case .gemma3: return ["gemma3_text"]
        case .mixtral: return ["mixtral"]
        case .gptOss: return ["gpt_oss"]
        }
    }

    /// GGUF `general.architecture`; nil where llama.cpp's converter writes the family under another name
    /// (Mistral's dense models are written as `llama`, and load as Llama: llama.cpp does not apply their window either;
    /// Mixtral is written as `llama` with `llama.expert_count`, and ConfigReading tells it apart by that key).
    public var ggufName: String? {
        switch self {
        case .llama: return "llama"
        case .mistral, .mixtral: return nil
        case .qwen2: return "qwen2"
        case .qwen3: return "qwen3"
        case .gemma3: return "gemma3"
        case .gptOss: return "gpt-oss"
        }
    }

    public static func fromHuggingFace(architecture: String?, modelType: String?) -> Architecture? {
        if let a = architecture, !a.isEmpty { return allCases.first { $0.huggingFaceClass == a } }
        guard let t = modelType else { return nil }
        return allCases.first { $0.huggingFaceModelTypes.contains(t) }
    }

    public static func fromGGUF(_ name: String) -> Architecture? { allCases.first { $0.ggufName == name } }

    /// "LlamaForCausalLM, MistralForCausalLM, …" for errors.
    public static var supportedHuggingFaceClasses: String { allCases.map(\.huggingFaceClass).joined(separator: ", ") }
    public static var supportedGGUFNames: String { allCases.compactMap(\.ggufName).joined(separator: ", ") }
}
