// ModelWeights: every parameter of a Llama model as Float32, in Hugging Face's layout
// (linear weights [out, in]; Q/K rows in the "rotate half" order). Loaders convert into this.
import Kernels

public struct BlockWeights: Sendable {
    public var attentionNorm: [Float]   // [D]
    public var query: Matrix            // [H·Dh, D]
    public var key: Matrix              // [Hkv·Dh, D]
    public var value: Matrix            // [Hkv·Dh, D]
    public var output: Matrix           // [D, H·Dh]
    public var mlpNorm: [Float]         // [D]
    public var gate: Matrix             // [F, D]
    public var up: Matrix               // [F, D]
    public var down: Matrix             // [D, F]

    public init(attentionNorm: [Float], query: Matrix, key: Matrix, value: Matrix, output: Matrix,
                mlpNorm: [Float], gate: Matrix, up: Matrix, down: Matrix) {
        self.attentionNorm = attentionNorm
        self.query = query
        self.key = key
        self.value = value
        self.output = output
        self.mlpNorm = mlpNorm
        self.gate = gate
        self.up = up
        self.down = down
    }

    /// The weight of one of the seven LoRA-targetable projections.
    public func weight(of projection: Projection) -> Matrix {
        switch projection {
        case .query: return query
        case .key: return key
        case .value: return value
        case .output: return output
        case .gate: return gate
        case .up: return up
        case .down: return down
        }
    }
}

public struct ModelWeights: Sendable {
    public var embedding: Matrix        // [V, D]
    public var layers: [BlockWeights]
    public var finalNorm: [Float]       // [D]
    /// [V, D]; for a tied model this is the embedding matrix itself (shared storage, copy-on-write).
    public var unembedding: Matrix

    public init(embedding: Matrix, layers: [BlockWeights], finalNorm: [Float], unembedding: Matrix) {
        self.embedding = embedding
        self.layers = layers
        self.finalNorm = finalNorm
        self.unembedding = unembedding
    }

    /// Checks every shape against the config; `source` names the file.
    public func validate(against c: ModelConfig, source: String) throws {
        func check(_ name: String, _ found: [Int], _ expected: [Int]) throws {
            if found != expected { throw ModelError.tensorShape(file: source, name: name, expected: expected, found: found) }
        }
        try check("embedding", [embedding.rows, embedding.cols], [c.vocabularySize, c.hiddenSize])
        try check("unembedding", [unembedding.rows, unembedding.cols], [c.vocabularySize, c.hiddenSize])
        try check("final norm", [finalNorm.count], [c.hiddenSize])
        guard layers.count == c.layerCount else {
            throw ModelError.invalidConfig(file: source, field: "layers", reason: "found \(layers.count) blocks, config says \(c.layerCount)")
        }
        for (i, l) in layers.enumerated() {
            try check("layer \(i) attention norm", [l.attentionNorm.count], [c.hiddenSize])
            try check("layer \(i) mlp norm", [l.mlpNorm.count], [c.hiddenSize])
            for p in Projection.allCases {
                let w = l.weight(of: p)
                try check("layer \(i) \(p.huggingFaceName)", [w.rows, w.cols], p.shape(c))
            }
        }
    }
}

/// The seven linear projections of a Llama block, named as Hugging Face and PEFT name them.
public enum Projection: String, CaseIterable, Sendable, Codable {
    case query = "q_proj", key = "k_proj", value = "v_proj", output = "o_proj"
    case gate = "gate_proj", up = "up_proj", down = "down_proj"

    public var huggingFaceName: String { rawValue }
    /// "self_attn" or "mlp": the module that holds it in transformers.
    public var huggingFaceModule: String {
        switch self {
        case .query, .key, .value, .output: return "self_attn"
        case .gate, .up, .down: return "mlp"
        }
    }
    /// [out, in] for a config.
    public func shape(_ c: ModelConfig) -> [Int] {
        switch self {
        case .query: return [c.queryWidth, c.hiddenSize]
        case .key, .value: return [c.kvWidth, c.hiddenSize]
        case .output: return [c.hiddenSize, c.queryWidth]
        case .gate, .up: return [c.intermediateSize, c.hiddenSize]
        case .down: return [c.hiddenSize, c.intermediateSize]
        }
    }
}
