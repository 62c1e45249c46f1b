// The config.json of a Hugging Face causal-LM checkpoint (Llama, Mistral, Qwen2/3, Gemma 3 text), decoded
// field by field so that a missing or mistyped field is reported by name with its fix. This reads the
// fields as written, in both forms that exist (transformers 4 / hub: rope_theta, rope_local_base_freq,
// sliding_window_pattern; transformers 5: rope_parameters, layer_types); what they mean for a family is
// decided in the Transformer target. The five sizes have no default worth guessing and are required.
import Foundation

public struct HFModelConfig: Sendable, Equatable {
    public struct RopeScaling: Sendable, Equatable {
        /// `llama3`, `linear`, `dynamic`, … (`rope_type`, or `type` in older files).
        public var ropeType: String
        public var factor: Double
        public var lowFreqFactor: Double?
        public var highFreqFactor: Double?
        public var originalMaxPositionEmbeddings: Int?
        /// YaRN's fields (rope_type yarn); nil when absent.
        public var betaFast: Double? = nil
        public var betaSlow: Double? = nil
        public var truncate: Bool? = nil
        public var attentionFactor: Double? = nil
        public var mscale: Double? = nil
        public var mscaleAllDim: Double? = nil

        public init(ropeType: String, factor: Double, lowFreqFactor: Double? = nil, highFreqFactor: Double? = nil,
                    originalMaxPositionEmbeddings: Int? = nil) {
            self.ropeType = ropeType
            self.factor = factor
            self.lowFreqFactor = lowFreqFactor
            self.highFreqFactor = highFreqFactor
            self.originalMaxPositionEmbeddings = originalMaxPositionEmbeddings
        }
    }

    public var architectures: [String]
    public var modelType: String?
    public var vocabSize: Int
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    /// `num_key_value_heads`, or `num_attention_heads` when absent (no grouped-query attention).
    public var numKeyValueHeads: Int
    public var headDim: Int?
    public var rmsNormEps: Double
    public var ropeTheta: Double
    public var ropeScaling: RopeScaling?
    public var tieWordEmbeddings: Bool
    public var maxPositionEmbeddings: Int
    public var bosTokenId: Int?
    /// `eos_token_id` as a list, whether the file gives one id, several, or none.
    public var eosTokenIds: [Int]

    // Fields of the families beyond Llama; nil when absent or null.
    /// `layer_types` (transformers 5): "full_attention" / "sliding_attention" per layer.
    public var layerTypes: [String]? = nil
    public var slidingWindow: Int? = nil
    /// Qwen2's `use_sliding_window` and `max_window_layers`.
    public var useSlidingWindow: Bool? = nil
    public var maxWindowLayers: Int? = nil
    /// Gemma 3 (transformers 4 / hub form): every n-th layer is global.
    public var slidingWindowPattern: Int? = nil
    public var ropeLocalBaseFreq: Double? = nil
    /// RoPE parameters per layer type (transformers 5 Gemma 3: rope_parameters.{full,sliding}_attention).
    public var ropeByLayerType: [String: RopeParameters] = [:]
    public var queryPreAttnScalar: Double? = nil
    public var finalLogitSoftcapping: Double? = nil
    public var attnLogitSoftcapping: Double? = nil
    public var attentionBias: Bool? = nil
    public var mlpBias: Bool? = nil
    /// `hidden_activation` (Gemma) or `hidden_act`.
    public var hiddenActivation: String? = nil
    /// Mixture-of-experts models (Mixtral, GPT-OSS): `num_local_experts`, `num_experts_per_tok`.
    public var numLocalExperts: Int? = nil
    public var numExpertsPerToken: Int? = nil
    /// GPT-OSS's clamped SwiGLU constants.
    public var swigluAlpha: Double? = nil
    public var swigluLimit: Double? = nil

    public struct RopeParameters: Sendable, Equatable {
        public var theta: Double?
        public var scaling: RopeScaling?
    }

    /// `head_dim`, or `hidden_size / num_attention_heads` when absent.
    public var resolvedHeadDim: Int { headDim ?? hiddenSize / numAttentionHeads }

    public static func load(_ url: URL) throws -> HFModelConfig {
        try decode(try ModelFileData.read(url, kind: "config.json"), name: url.path)
    }

    /// Decodes config.json bytes; `name` stands for the file in errors.
    public static func decode(_ data: Data, name: String) throws -> HFModelConfig {
        let fields = ConfigFields(object: try JSONFields.object(data, file: name, what: "the config"), file: name)
        var config = HFModelConfig(
            architectures: try fields.optional("architectures", "a list of strings") { value in
                guard let list = value as? [Any] else { return nil }
                let names = list.compactMap { $0 as? String }
                return names.count == list.count ? names : nil
            } ?? [],
            modelType: try fields.optional("model_type", "a string") { $0 as? String },
            vocabSize: try fields.size("vocab_size", "the number of tokens"),
            hiddenSize: try fields.size("hidden_size", "the width of the model"),
            intermediateSize: try fields.size("intermediate_size", "the width of the MLP"),
            numHiddenLayers: try fields.size("num_hidden_layers", "the number of blocks"),
            numAttentionHeads: try fields.size("num_attention_heads", "the number of query heads"),
            numKeyValueHeads: 0,
            headDim: try fields.optional("head_dim", "a whole number ≥ 1") { JSONFields.int($0).flatMap { $0 > 0 ? $0 : nil } },
            rmsNormEps: try fields.optional("rms_norm_eps", "a positive number") { JSONFields.double($0).flatMap { $0 > 0 ? $0 : nil } } ?? 1e-6,
            ropeTheta: 10000,
            ropeScaling: nil,
            tieWordEmbeddings: try fields.optional("tie_word_embeddings", "true or false") { JSONFields.bool($0) } ?? false,
            maxPositionEmbeddings: try fields.optional("max_position_embeddings", "a whole number ≥ 1") { JSONFields.int($0).flatMap { $0 > 0 ? $0 : nil } } ?? 2048,
            bosTokenId: try fields.optional("bos_token_id", "a token id") { JSONFields.int($0).flatMap { $0 >= 0 ? $0 : nil } },
            eosTokenIds: try fields.optional("eos_token_id", "a token id or a list of them") { value in
                if let id = JSONFields.int(value) { return id >= 0 ? [id] : nil }
                guard let list = value as? [Any] else { return nil }
                let ids = list.compactMap { JSONFields.int($0) }.filter { $0 >= 0 }
                return ids.count == list.count ? ids : nil
            } ?? [])
        config.numKeyValueHeads = try fields.optional("num_key_value_heads", "a whole number ≥ 1") {
            JSONFields.int($0).flatMap { $0 > 0 ? $0 : nil }
        } ?? config.numAttentionHeads

        // transformers 5 moves rope_theta and the scaling into `rope_parameters`; read either place.
        let parameters = try fields.optional("rope_parameters", "an object") { $0 as? [String: Any] }
        let theta = try fields.optional("rope_theta", "a positive number") { JSONFields.double($0).flatMap { $0 > 0 ? $0 : nil } }
        if let theta {
            config.ropeTheta = theta
        } else if let parameters, let nested = parameters["rope_theta"] {
            guard let value = JSONFields.double(nested), value > 0 else {
                throw fields.wrongType("rope_parameters.rope_theta", "a positive number", nested)
            }
            config.ropeTheta = value
        }
        if let scaling = try fields.optional("rope_scaling", "an object or null", { $0 as? [String: Any] }) {
            config.ropeScaling = try ropeScaling(scaling, field: "rope_scaling", fields: fields)
        } else if let parameters, let type = parameters["rope_type"] as? String, type != "default" {
            config.ropeScaling = try ropeScaling(parameters, field: "rope_parameters", fields: fields)
        }
        if let parameters {
            // transformers 5 nests Gemma 3's parameters per layer type.
            for (layerType, value) in parameters where layerType.hasSuffix("_attention") {
                guard let nested = value as? [String: Any] else {
                    throw fields.wrongType("rope_parameters.\(layerType)", "an object", value)
                }
                var entry = RopeParameters(theta: nil, scaling: nil)
                if let t = nested["rope_theta"] {
                    guard let v = JSONFields.double(t), v > 0 else { throw fields.wrongType("rope_parameters.\(layerType).rope_theta", "a positive number", t) }
                    entry.theta = v
                }
                if let type = nested["rope_type"] as? String, type != "default" {
                    entry.scaling = try ropeScaling(nested, field: "rope_parameters.\(layerType)", fields: fields)
                }
                config.ropeByLayerType[layerType] = entry
            }
        }
        let positive = { (v: Any) -> Double? in JSONFields.double(v).flatMap { $0 > 0 ? $0 : nil } }
        let positiveInt = { (v: Any) -> Int? in JSONFields.int(v).flatMap { $0 > 0 ? $0 : nil } }
        config.layerTypes = try fields.optional("layer_types", "a list of \"full_attention\" / \"sliding_attention\"") { value in
            guard let list = value as? [Any] else { return nil }
            let names = list.compactMap { $0 as? String }
            return names.count == list.count ? names : nil
        }
        config.slidingWindow = try fields.optional("sliding_window", "a whole number ≥ 1 or null", positiveInt)
        config.useSlidingWindow = try fields.optional("use_sliding_window", "true or false") { JSONFields.bool($0) }
        config.maxWindowLayers = try fields.optional("max_window_layers", "a whole number ≥ 0") { JSONFields.int($0).flatMap { $0 >= 0 ? $0 : nil } }
        config.slidingWindowPattern = try fields.optional("sliding_window_pattern", "a whole number ≥ 1", positiveInt)
        config.ropeLocalBaseFreq = try fields.optional("rope_local_base_freq", "a positive number", positive)
        config.queryPreAttnScalar = try fields.optional("query_pre_attn_scalar", "a positive number", positive)
        config.finalLogitSoftcapping = try fields.optional("final_logit_softcapping", "a positive number or null", positive)
        config.attnLogitSoftcapping = try fields.optional("attn_logit_softcapping", "a positive number or null", positive)
        config.attentionBias = try fields.optional("attention_bias", "true or false") { JSONFields.bool($0) }
        config.mlpBias = try fields.optional("mlp_bias", "true or false") { JSONFields.bool($0) }
        config.hiddenActivation = try fields.optional("hidden_activation", "a string") { $0 as? String }
            ?? fields.optional("hidden_act", "a string") { $0 as? String }
        config.numLocalExperts = try fields.optional("num_local_experts", "a whole number ≥ 1", positiveInt)
        config.numExpertsPerToken = try fields.optional("num_experts_per_tok", "a whole number ≥ 1", positiveInt)
        config.swigluAlpha = try fields.optional("swiglu_alpha", "a positive number", positive)
        config.swigluLimit = try fields.optional("swiglu_limit", "a positive number", positive)
        try config.checkConsistency(fields)
        return config
    }

    private static func ropeScaling(_ object: [String: Any], field: String, fields: ConfigFields) throws -> RopeScaling {
        guard let type = (object["rope_type"] ?? object["type"]) as? String else {
            throw fields.problem("\(field).rope_type", "is missing; it names the RoPE scaling (e.g. llama3) — re-download config.json")
        }
        func number(_ key: String) throws -> Double? {
            guard let value = object[key], !(value is NSNull) else { return nil }
            guard let number = JSONFields.double(value), number > 0 else {
                throw fields.wrongType("\(field).\(key)", "a positive number", value)
            }
            return number
        }
        let factor = try number("factor")
        guard factor != nil || type == "default" else {
            throw fields.problem("\(field).factor", "is missing; \(type) RoPE scaling needs it — re-download config.json")
        }
        let original = try number("original_max_position_embeddings")
        guard original.map({ $0 == $0.rounded() && $0 < 1e15 }) ?? true else {
            throw fields.problem("\(field).original_max_position_embeddings", "must be a whole number")
        }
        var scaling = RopeScaling(ropeType: type, factor: factor ?? 1, lowFreqFactor: try number("low_freq_factor"),
                                  highFreqFactor: try number("high_freq_factor"), originalMaxPositionEmbeddings: original.map { Int($0) })
        scaling.betaFast = try number("beta_fast")
        scaling.betaSlow = try number("beta_slow")
        scaling.attentionFactor = try number("attention_factor")
        scaling.mscale = try number("mscale")
        scaling.mscaleAllDim = try number("mscale_all_dim")
        if let value = object["truncate"], !(value is NSNull) {
            guard let flag = JSONFields.bool(value) else { throw fields.wrongType("\(field).truncate", "true or false", value) }
            scaling.truncate = flag
        }
        return scaling
    }

    private func checkConsistency(_ fields: ConfigFields) throws {
        guard numAttentionHeads % numKeyValueHeads == 0 else {
            throw fields.problem("num_key_value_heads", "is \(numKeyValueHeads), which does not divide num_attention_heads (\(numAttentionHeads)); the config is corrupt")
        }
        guard headDim != nil || hiddenSize % numAttentionHeads == 0 else {
            throw fields.problem("hidden_size", "is \(hiddenSize), which num_attention_heads (\(numAttentionHeads)) does not divide, and there is no head_dim; the config is corrupt")
        }
        guard ropeScaling?.ropeType != "llama3" || (ropeScaling?.lowFreqFactor != nil && ropeScaling?.highFreqFactor != nil
                                                    && ropeScaling?.originalMaxPositionEmbeddings != nil) else {
            throw fields.problem("rope_scaling", "is of type llama3 but lacks low_freq_factor, high_freq_factor or original_max_position_embeddings; re-download config.json")
        }
    }
}

/// Reads named fields of one JSON object, turning absence and wrong types into errors that name them.
struct ConfigFields {
    let object: [String: Any]
    let file: String

    func problem(_ field: String, _ reason: String) -> ModelFileError {
        ModelFileError(file: file, field: field, reason: reason)
    }

    func wrongType(_ field: String, _ expected: String, _ value: Any) -> ModelFileError {
        let shown = value is String ? "\"\(value)\"" : (JSONFields.bool(value).map { "\($0)" } ?? "\(value)")
        return problem(field, "must be \(expected), found \(JSONFields.typeName(value)) (\(shown.prefix(60))); fix config.json")
    }

    /// The field converted by `convert`; nil when absent or null; an error when present but not convertible.
    func optional<T>(_ key: String, _ expected: String, _ convert: (Any) -> T?) throws -> T? {
        guard let value = object[key], !(value is NSNull) else { return nil }
        guard let converted = convert(value) else { throw wrongType(key, expected, value) }
        return converted
    }

    /// A required whole number ≥ 1.
    func size(_ key: String, _ meaning: String) throws -> Int {
        guard let value = try optional(key, "a whole number ≥ 1", { JSONFields.int($0).flatMap { $0 > 0 ? $0 : nil } }) else {
            throw problem(key, "is missing; a causal-LM config.json needs it (\(meaning)) — re-download config.json from the model's repository")
        }
        return value
    }
}
