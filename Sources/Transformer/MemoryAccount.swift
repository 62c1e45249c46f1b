// What a model costs in memory, term by term, from its config and how its weights are held: the weights (as
// held, and all Float32), the KV cache of generation at a context length, and the buffers of one forward pass
// and of a logit-lens sweep at a given batch — the ones Forward.swift, HiddenStateCollector and LogitLens
// allocate, counted from their shapes. An account, not a measurement: Tests/TransformerTests/MemoryAccountTests
// and tools/gpt_oss_20b_shape.sh hold it against peak RSS; docs/moe.md has the figures.
import Kernels

public struct MemoryAccount: Sendable, Equatable, Encodable {
    /// The work the activations are counted for.
    public struct Workload: Sendable, Equatable, Encodable {
        /// Prompts in one forward pass (B) and tokens of each (T).
        public var batch: Int
        public var tokens: Int
        /// Prompts of a lens sweep (all layers, last token, full-vocabulary softmax), batched as HiddenStateCollector does.
        public var lensPrompts: Int
        /// Positions the KV cache of generation holds per sequence.
        public var context: Int
        enum CodingKeys: String, CodingKey { case batch, tokens, lensPrompts = "lens_prompts", context }
        public init(batch: Int = 1, tokens: Int = 64, lensPrompts: Int = 300, context: Int) {
            self.batch = batch
            self.tokens = tokens
            self.lensPrompts = lensPrompts
            self.context = context
        }
    }

    public var workload: Workload
    public var parameters: Int
    /// Bytes of the weights as the model holds them (blocks where kept, Float32 elsewhere), and all in Float32.
    public var weightsHeld: Int
    public var weightsFloat32: Int
    /// Of `weightsHeld`, the experts' (mixture-of-experts models; 0 otherwise).
    public var expertsHeld: Int
    /// Float32 keys and values of every layer for `batch` sequences of `context` positions (KVCache.swift).
    public var kvCache: Int
    public var forwardActivations: Int
    public var lensSweepActivations: Int

    /// A forward pass and a lens sweep (no KV cache: neither uses one): the weights and the larger of the two.
    public var forwardAndLensTotal: Int { weightsHeld + max(forwardActivations, lensSweepActivations) }
    /// The same with every weight Float32.
    public var forwardAndLensTotalFloat32: Int { weightsFloat32 + max(forwardActivations, lensSweepActivations) }
    /// Generation at the context length: the weights, the KV cache and one forward of the prompt.
    public var generationTotal: Int { weightsHeld + kvCache + forwardActivations }

    enum CodingKeys: String, CodingKey {
        case workload, parameters, weightsHeld = "weights_held_bytes", weightsFloat32 = "weights_f32_bytes", expertsHeld = "experts_held_bytes"
        case kvCache = "kv_cache_bytes", forwardActivations = "forward_activation_bytes", lensSweepActivations = "lens_sweep_activation_bytes"
        case forwardAndLensTotal = "forward_and_lens_total_bytes", forwardAndLensTotalFloat32 = "forward_and_lens_total_f32_bytes"
        case generationTotal = "generation_total_bytes"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(workload, forKey: .workload)
        try c.encode(parameters, forKey: .parameters)
        try c.encode(weightsHeld, forKey: .weightsHeld)
        try c.encode(weightsFloat32, forKey: .weightsFloat32)
        try c.encode(expertsHeld, forKey: .expertsHeld)
        try c.encode(kvCache, forKey: .kvCache)
        try c.encode(forwardActivations, forKey: .forwardActivations)
        try c.encode(lensSweepActivations, forKey: .lensSweepActivations)
        try c.encode(forwardAndLensTotal, forKey: .forwardAndLensTotal)
        try c.encode(forwardAndLensTotalFloat32, forKey: .forwardAndLensTotalFloat32)
        try c.encode(generationTotal, forKey: .generationTotal)
    }

    /// The account of a loaded model: its weights as they are held.
    public init(model: TransformerModel, workload: Workload) {
        let w = model.weights
        var held = 4 * (w.embedding.values.count + w.finalNorm.count)
        held += w.quantizedEmbedding?.byteCount ?? 0
        if !w.unembeddingIsEmbedding && !model.config.tiedEmbeddings {
            held += 4 * w.unembedding.values.count + (w.quantizedUnembedding?.byteCount ?? 0)
        }
        var experts = 0
        for l in w.layers {
            for (role, m) in l.tensors {
                held += 4 * m.values.count
                if role.isExpert { experts += 4 * m.values.count }
            }
            for (role, q) in l.quantized {
                held += q.byteCount
                if role.isExpert { experts += q.byteCount }
            }
        }
        self.init(config: model.config, weightsHeld: held, expertsHeld: experts, workload: workload)
    }

    /// The account of a config whose weights are held as `type(tensor)` blocks (nil: Float32), as a file would give them.
    public init(config c: ModelConfig, workload: Workload, blockType type: (ModelTensor) -> QuantizedMatrix.BlockType?) {
        func bytes(_ t: ModelTensor, _ shape: [Int]) -> Int {
            let count = shape[0] * shape[1]
            guard let b = type(t), shape[1] % b.valuesPerBlock == 0 else { return 4 * count }
            return count / b.valuesPerBlock * b.bytesPerBlock
        }
        let vd = [c.vocabularySize, c.hiddenSize]
        var held = bytes(.embedding, vd) + 4 * c.hiddenSize
        if !c.tiedEmbeddings { held += bytes(.unembedding, vd) }
        var experts = 0
        for i in 0..<c.layerCount {
            for role in BlockTensor.roles(for: c) {
                let b = bytes(.block(layer: i, role), role.shape(c))
                held += b
                if role.isExpert { experts += b }
            }
        }
        self.init(config: c, weightsHeld: held, expertsHeld: experts, workload: workload)
    }

    init(config c: ModelConfig, weightsHeld: Int, expertsHeld: Int, workload: Workload) {
        self.workload = workload
        self.parameters = Self.parameterCount(c)
        self.weightsHeld = weightsHeld
        self.weightsFloat32 = 4 * parameters
        self.expertsHeld = expertsHeld
        self.kvCache = 4 * c.layerCount * 2 * workload.batch * workload.context * c.kvWidth
        self.forwardActivations = Self.forwardBytes(c, batch: workload.batch, tokens: workload.tokens, capturedRows: 0)
        self.lensSweepActivations = Self.lensSweepBytes(c, prompts: workload.lensPrompts, tokens: workload.tokens)
    }

    /// Every parameter of the config (an expert's weights count once per expert).
    public static func parameterCount(_ c: ModelConfig) -> Int {
        let perLayer = BlockTensor.roles(for: c).reduce(0) { $0 + $1.shape(c)[0] * $1.shape(c)[1] }
        return c.vocabularySize * c.hiddenSize * (c.tiedEmbeddings ? 1 : 2) + c.layerCount * perLayer + c.hiddenSize
    }

    /// The buffers of one forward pass of `batch` prompts of `tokens` (N = B·T rows) without saved activations,
    /// logits at the last token, `capturedRows` rows of hidden states kept per residual layer (Forward.swift):
    /// x, xn, delta [N, D]; q, the attention output [N, H·Dh]; k, v [N, Hkv·Dh]; the dense MLP's gate, up and
    /// gated [N, F] (allocated for every family); for experts the router logits and their softmax copy [N, E] and
    /// one expert's rows at a time (its input and output [n, D], gate, up and activation [n, F], at most n = N);
    /// the logits [B, V]; and a quantised product's decoded tile (2^18 values, QuantizedMatrix.tiled).
    public static func forwardBytes(_ c: ModelConfig, batch: Int, tokens: Int, capturedRows: Int) -> Int {
        let N = batch * tokens, D = c.hiddenSize, F = c.intermediateSize
        var floats = N * (3 * D + 2 * c.queryWidth + 2 * c.kvWidth + 3 * F)
        if let m = c.mixture { floats += N * (2 * m.experts + 2 * D + 3 * F + 2 * m.perToken) }
        floats += batch * c.vocabularySize + (c.layerCount + 1) * capturedRows * D + (1 << 18)
        return 4 * floats
    }

    /// A logit-lens sweep at every layer over `prompts` prompts of `tokens` (HiddenStateCollector: batches of at most
    /// 256 prompts and 1024 tokens, the last token's hidden state at every layer and the final logits kept for all
    /// prompts; LogitLens: one chunk of at most 160 rows of normed states and full-vocabulary probabilities).
    public static func lensSweepBytes(_ c: ModelConfig, prompts: Int, tokens: Int) -> Int {
        let perBatch = max(1, min(prompts, 256, 1024 / max(1, tokens)))
        let chunk = min(prompts, 160)
        let kept = (c.layerCount + 1) * prompts * c.hiddenSize + prompts * c.vocabularySize + chunk * (c.hiddenSize + c.vocabularySize)
        return forwardBytes(c, batch: perBatch, tokens: tokens, capturedRows: perBatch) + 4 * kept
    }
}

extension ModelConfig {
    /// GPT-OSS-20B's shape (openai/gpt-oss-20b config.json): 24 layers of width 2880, 32 experts of width 2880
    /// with 4 per token, 64 query heads and 8 key-value heads of 64, vocabulary 201088, sliding window 128 on
    /// alternate layers, YaRN factor 32 over 4096 positions (131072 in all), RoPE base 150000, untied embeddings.
    public static var gptOss20BShape: ModelConfig {
        var c = ModelConfig(vocabularySize: 201_088, hiddenSize: 2880, intermediateSize: 2880, layerCount: 24, headCount: 64, kvHeadCount: 8,
                            headDim: 64, rmsNormEps: 1e-5, ropeTheta: 150_000, tiedEmbeddings: false, contextLength: 131_072)
        c.architecture = .gptOss
        c.block = Architecture.gptOss.block
        c.mixture = MixtureShape(experts: 32, perToken: 4)
        c.layerKinds = (0..<24).map { $0 % 2 == 0 ? .sliding : .global }
        c.slidingWindow = 128
        c.ropeYarn = YarnRopeScaling(factor: 32, originalMaxPositions: 4096, truncate: false)
        return c
    }

    /// How ggml-org's MXFP4 GGUF of GPT-OSS-20B holds it (12.1 GB): experts MXFP4; embeddings, unembedding and
    /// attention projections Q8_0 (kept as blocks with native weights); router, norms, biases and sinks F32.
    public static func gptOss20BFileTypes(_ t: ModelTensor) -> QuantizedMatrix.BlockType? {
        switch t {
        case .embedding, .unembedding: return .q8_0
        case let .block(_, role):
            if role == .expertGate || role == .expertUp || role == .expertDown { return .mxfp4 }
            return role.projection != nil ? .q8_0 : nil
        default: return nil
        }
    }
}
