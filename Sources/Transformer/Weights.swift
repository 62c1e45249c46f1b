// ModelWeights: every parameter of a model as Float32, in Hugging Face's layout (linear weights [out, in];
// Q/K rows in the "rotate half" order; norm weights as the multiplier the kernel applies, so Gemma's
// `1 + w` is folded in on load). A block's tensors are kept by role: which roles a block has follows
// from its descriptor, so a new tensor is one role here, one name per format in TensorNames.swift, and
// its use in the forward and backward. With `native` storage (WeightStorage.swift) the projections, the
// embedding and the unembedding may instead be quantised blocks read in place from the GGUF file.
import Kernels

/// The parameters a block can have. Vectors are stored as one-row matrices.
public enum BlockTensor: Hashable, Sendable, CaseIterable, CustomStringConvertible {
    case attentionNorm
    case query, key, value, output
    case queryBias, keyBias, valueBias
    /// o_proj's bias (GPT-OSS).
    case outputBias
    /// One sink logit per query head (GPT-OSS).
    case attentionSinks
    case queryNorm, keyNorm
    /// Gemma's post_attention_layernorm: normalises the attention output before the residual add.
    case attentionOutputNorm
    case mlpNorm
    case gate, up, down
    /// Gemma's post_feedforward_layernorm.
    case mlpOutputNorm
    /// A mixture-of-experts MLP (MixtureOfExperts.swift): the router [E, D] and its bias, and the experts'
    /// weights stacked by role (gate, up [E·F, D]; down [E·D, F]) and their biases ([E, F]; [E, D]).
    case router, routerBias
    case expertGate, expertUp, expertDown
    case expertGateBias, expertUpBias, expertDownBias

    /// The projection this is the weight of, if any.
    /// (The router is a LoRA target but not a linear projection here: it keeps its own role and path.)
    public var projection: Projection? { Projection.linearModules.first { $0.blockTensor == self } }

    public var isNorm: Bool {
        switch self {
        case .attentionNorm, .queryNorm, .keyNorm, .attentionOutputNorm, .mlpNorm, .mlpOutputNorm: return true
        default: return false
        }
    }

    public var isBias: Bool { self == .queryBias || self == .keyBias || self == .valueBias || self == .outputBias }

    /// The experts' stacked weights and biases, whose files store them per expert or as 3-D tensors (ExpertAssembly.swift).
    public var isExpert: Bool {
        switch self {
        case .expertGate, .expertUp, .expertDown, .expertGateBias, .expertUpBias, .expertDownBias: return true
        default: return false
        }
    }

    /// Whether a block of this config has the tensor.
    public func isPresent(in c: ModelConfig) -> Bool {
        switch self {
        case .attentionNorm, .query, .key, .value, .output, .mlpNorm: return true
        case .gate, .up, .down: return c.block.moe == nil
        case .queryBias: return c.block.biases.contains(.query)
        case .keyBias: return c.block.biases.contains(.key)
        case .valueBias: return c.block.biases.contains(.value)
        case .outputBias: return c.block.biases.contains(.output)
        case .attentionSinks: return c.block.attentionSinks
        case .queryNorm, .keyNorm: return c.block.qkNorm
        case .attentionOutputNorm, .mlpOutputNorm: return c.block.normPlacement == .prePost
        case .router, .expertGate, .expertUp, .expertDown: return c.block.moe != nil
        case .routerBias: return c.block.moe?.routerBias == true
        case .expertGateBias, .expertUpBias, .expertDownBias: return c.block.moe?.expertBiases == true
        }
    }

    /// [rows, cols] for a config (vectors are [1, n]).
    public func shape(_ c: ModelConfig) -> [Int] {
        if let p = projection { return p.shape(c) }
        switch self {
        case .attentionNorm, .attentionOutputNorm, .mlpNorm, .mlpOutputNorm: return [1, c.hiddenSize]
        case .queryNorm, .keyNorm: return [1, c.headDim]
        case .queryBias: return [1, c.queryWidth]
        case .keyBias, .valueBias: return [1, c.kvWidth]
        case .outputBias: return [1, c.hiddenSize]
        case .attentionSinks: return [1, c.headCount]
        default: break
        }
        let E = c.mixture?.experts ?? 0
        switch self {
        case .router: return [E, c.hiddenSize]
        case .routerBias: return [1, E]
        case .expertGate, .expertUp: return [E * c.intermediateSize, c.hiddenSize]
        case .expertDown: return [E * c.hiddenSize, c.intermediateSize]
        case .expertGateBias, .expertUpBias: return [E, c.intermediateSize]
        case .expertDownBias: return [E, c.hiddenSize]
        default: fatalError("unreachable: projections handled above")
        }
    }

    /// The roles a block of this config holds, in a fixed order.
    public static func roles(for c: ModelConfig) -> [BlockTensor] { allCases.filter { $0.isPresent(in: c) } }

    /// Readable names for errors ("query norm", "gate").
    public var description: String {
        switch self {
        case .attentionNorm: return "attention norm"
        case .query: return "query"
        case .key: return "key"
        case .value: return "value"
        case .output: return "output"
        case .queryBias: return "query bias"
        case .keyBias: return "key bias"
        case .valueBias: return "value bias"
        case .outputBias: return "output bias"
        case .attentionSinks: return "attention sinks"
        case .queryNorm: return "query norm"
        case .keyNorm: return "key norm"
        case .attentionOutputNorm: return "attention output norm"
        case .mlpNorm: return "mlp norm"
        case .gate: return "gate"
        case .up: return "up"
        case .down: return "down"
        case .mlpOutputNorm: return "mlp output norm"
        case .router: return "router"
        case .routerBias: return "router bias"
        case .expertGate: return "expert gate"
        case .expertUp: return "expert up"
        case .expertDown: return "expert down"
        case .expertGateBias: return "expert gate bias"
        case .expertUpBias: return "expert up bias"
        case .expertDownBias: return "expert down bias"
        }
    }
}

public struct BlockWeights: Sendable {
    /// Every Float32 tensor of the block by role.
    public var tensors: [BlockTensor: Matrix]
    /// Projections kept as quantised blocks (`native` storage); a role is in `tensors` or here, never both.
    public var quantized: [BlockTensor: QuantizedMatrix] = [:]

    public init(tensors: [BlockTensor: Matrix], quantized: [BlockTensor: QuantizedMatrix] = [:]) {
        self.tensors = tensors
        self.quantized = quantized
    }

    /// Llama's nine tensors.
    public init(attentionNorm: [Float], query: Matrix, key: Matrix, value: Matrix, output: Matrix,
                mlpNorm: [Float], gate: Matrix, up: Matrix, down: Matrix) {
        tensors = [.attentionNorm: Matrix(rows: 1, cols: attentionNorm.count, values: attentionNorm),
                   .query: query, .key: key, .value: value, .output: output,
                   .mlpNorm: Matrix(rows: 1, cols: mlpNorm.count, values: mlpNorm), .gate: gate, .up: up, .down: down]
    }

    /// A matrix the block must have (the loader checked it against the descriptor).
    public subscript(role: BlockTensor) -> Matrix {
        get {
            guard let m = tensors[role] else {
                preconditionFailure(quantized[role] != nil
                    ? "the \(role) weight is quantised (native storage): load the model with .f32 weights, or use ModelWeights.dequantized(), to train or read it as Float32"
                    : "block has no \(role) tensor")
            }
            return m
        }
        set { tensors[role] = newValue }
    }

    /// A vector (norm weight or bias) as a flat array, or nil when the block has none.
    public func vector(_ role: BlockTensor) -> [Float]? { tensors[role]?.values }

    public var attentionNorm: [Float] { self[.attentionNorm].values }
    public var mlpNorm: [Float] { self[.mlpNorm].values }

    /// The weight of one of the seven LoRA-targetable projections, as Float32 (f32 storage only).
    public func weight(of projection: Projection) -> Matrix { self[projection.blockTensor] }

    /// The weight of a projection as the forward multiplies by it: Float32 or quantised blocks.
    public func linearWeight(of projection: Projection) -> LinearWeight {
        if let q = quantized[projection.blockTensor] { return .quantized(q) }
        return .dense(self[projection.blockTensor])
    }
}

public struct ModelWeights: Sendable {
    /// [V, D]; [0, D] when `quantizedEmbedding` holds it.
    public var embedding: Matrix
    public var layers: [BlockWeights]
    public var finalNorm: [Float]       // [D]
    /// [V, D]; for a tied model this is the embedding matrix itself (shared storage, copy-on-write); [0, D] when quantised.
    public var unembedding: Matrix
    /// `native` storage: the embedding and unembedding as the file's blocks (the same value for a tied model).
    public var quantizedEmbedding: QuantizedMatrix?
    public var quantizedUnembedding: QuantizedMatrix?

    public init(embedding: Matrix, layers: [BlockWeights], finalNorm: [Float], unembedding: Matrix,
                quantizedEmbedding: QuantizedMatrix? = nil, quantizedUnembedding: QuantizedMatrix? = nil) {
        self.embedding = embedding
        self.layers = layers
        self.finalNorm = finalNorm
        self.unembedding = unembedding
        self.quantizedEmbedding = quantizedEmbedding
        self.quantizedUnembedding = quantizedUnembedding
    }

    /// Whether any weight is kept quantised (then only inference runs: the backward needs Float32 weights).
    public var isNative: Bool {
        quantizedEmbedding != nil || quantizedUnembedding != nil || layers.contains { !$0.quantized.isEmpty }
    }

    /// The same weights with every quantised tensor decoded to Float32 (bit-identical to loading with `.f32`).
    public func dequantized() -> ModelWeights {
        var out = self
        if let q = quantizedEmbedding { out.embedding = q.dequantized(); out.quantizedEmbedding = nil }
        if let q = quantizedUnembedding {
            out.unembedding = unembeddingIsEmbedding ? out.embedding : q.dequantized()
            out.quantizedUnembedding = nil
        }
        for i in out.layers.indices {
            for (role, q) in out.layers[i].quantized { out.layers[i].tensors[role] = q.dequantized() }
            out.layers[i].quantized = [:]
        }
        return out
    }

    /// True when the quantised unembedding is the embedding's own blocks (a tied model), so decoding keeps one copy.
    public var unembeddingIsEmbedding = false

    /// The unembedding as the readout multiplies by it.
    public var unembeddingWeight: LinearWeight {
        if let q = quantizedUnembedding { return .quantized(q) }
        return .dense(unembedding)
    }

    /// Writes embedding row `id` (D values) at row `row` of `x` (the forward's lookup).
    func copyEmbeddingRow(_ id: Int, into x: inout Matrix, row: Int) {
        let d = x.cols
        if let q = quantizedEmbedding {
            x.values.withUnsafeMutableBufferPointer { q.decodeRow(id, into: $0.baseAddress! + row * d) }
        } else {
            for j in 0..<d { x.values[row * d + j] = embedding.values[id * d + j] }
        }
    }

    /// Checks every shape, and that each block has exactly the roles its descriptor implies; `source` names the file.
    public func validate(against c: ModelConfig, source: String) throws {
        func check(_ name: String, _ found: [Int], _ expected: [Int]) throws {
            if found != expected { throw ModelError.tensorShape(file: source, name: name, expected: expected, found: found) }
        }
        let vd = [c.vocabularySize, c.hiddenSize]
        try check("embedding", quantizedEmbedding.map { [$0.rows, $0.cols] } ?? [embedding.rows, embedding.cols], vd)
        try check("unembedding", quantizedUnembedding.map { [$0.rows, $0.cols] } ?? [unembedding.rows, unembedding.cols], vd)
        try check("final norm", [finalNorm.count], [c.hiddenSize])
        guard layers.count == c.layerCount else {
            throw ModelError.invalidConfig(file: source, field: "layers", reason: "found \(layers.count) blocks, config says \(c.layerCount)")
        }
        let roles = BlockTensor.roles(for: c)
        for (i, l) in layers.enumerated() {
            for role in roles {
                let shape: [Int]
                if let m = l.tensors[role] { shape = [m.rows, m.cols] }
                else if let q = l.quantized[role] { shape = [q.rows, q.cols] }
                else { throw ModelError.missingTensor(file: source, name: "layer \(i) \(role)") }
                try check("layer \(i) \(role)", shape, role.shape(c))
                if l.tensors[role] != nil && l.quantized[role] != nil {
                    throw ModelError.invalidConfig(file: source, field: "layer \(i) \(role)", reason: "held both as Float32 and as quantised blocks")
                }
            }
            if let extra = (Array(l.tensors.keys) + Array(l.quantized.keys)).first(where: { !roles.contains($0) }) {
                throw ModelError.invalidConfig(file: source, field: "layer \(i)", reason: "has a \(extra) tensor that a \(c.architecture.displayName) block does not use")
            }
        }
    }
}

/// What a LoRA adapter can adapt: the seven linear projections of a block, named as Hugging Face and PEFT
/// name them, and a mixture-of-experts block's router (RouterLoRA.swift; its PEFT name is the family's).
public enum Projection: String, CaseIterable, Sendable, Codable {
    case query = "q_proj", key = "k_proj", value = "v_proj", output = "o_proj"
    case gate = "gate_proj", up = "up_proj", down = "down_proj"
    /// The router of a mixture-of-experts block ([E, D]); transformers 5 keeps it as a bare parameter, not an
    /// nn.Linear, so PEFT adapts it through `target_parameters` (PEFTAdapterFiles.swift).
    case router = "router"

    /// The seven nn.Linear projections (PEFT `target_modules`; `--targets all`).
    public static let linearModules: [Projection] = [.query, .key, .value, .output, .gate, .up, .down]

    public var huggingFaceName: String { rawValue }
    /// "self_attn" or "mlp": the module that holds it in transformers.
    public var huggingFaceModule: String {
        switch self {
        case .query, .key, .value, .output: return "self_attn"
        case .gate, .up, .down, .router: return "mlp"
        }
    }
    public var blockTensor: BlockTensor {
        switch self {
        case .query: return .query
        case .key: return .key
        case .value: return .value
        case .output: return .output
        case .gate: return .gate
        case .up: return .up
        case .down: return .down
        case .router: return .router
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
        case .router: return [c.mixture?.experts ?? 0, c.hiddenSize]
        }
    }
}
