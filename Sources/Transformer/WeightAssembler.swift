// Builds ModelWeights from any TensorSource: looks each parameter's name up in the architecture's
// table, checks its shape, applies the per-format conversions (llama.cpp's Q/K permutation, Gemma's
// `1 + w` norms from safetensors) and, at the end, refuses tensors the model would not use — a file
// whose metadata was changed to a smaller model must not load with its extra blocks ignored.
import Kernels

struct WeightAssembler {
    let source: any TensorSource
    let names: TensorNames
    let config: ModelConfig
    /// The file's tensor names read so far (ExpertAssembly.swift adds the experts').
    var used: Set<String> = []

    init(source: any TensorSource, config: ModelConfig) {
        self.source = source
        self.names = TensorNames(config.architecture)
        self.config = config
    }

    func name(of t: ModelTensor) -> String? {
        source.format == .gguf ? names.gguf(t) : names.huggingFace(t)
    }

    func contains(_ t: ModelTensor) -> Bool { name(of: t).flatMap(source.shape(of:)) != nil }

    /// The tensor as a [rows, cols] matrix (`shape` [1, n] accepts a 1-D tensor of n values).
    mutating func matrix(_ t: ModelTensor, shape: [Int]) throws -> Matrix {
        guard let name = name(of: t), let found = source.shape(of: name) else {
            throw ModelError.missingTensor(file: source.location, name: name(of: t) ?? t.description)
        }
        let isVector = shape[0] == 1
        guard found == shape || (isVector && found == [shape[1]]) else {
            throw ModelError.tensorShape(file: source.location, name: name, expected: isVector ? [shape[1]] : shape, found: found)
        }
        used.insert(name)
        var m = Matrix(rows: shape[0], cols: shape[1], values: try source.floats(name))
        if source.format == .gguf && names.ggufPermutesQK, case let .block(_, role) = t {
            // Shapes were checked above, so the head counts divide the rows.
            if role == .query { m = QKPermutation.toHuggingFace(m, heads: config.headCount) }
            if role == .key { m = QKPermutation.toHuggingFace(m, heads: config.kvHeadCount) }
        }
        if source.format == .safetensors && names.safetensorsNormOffset != 0 && isNorm(t) {
            let offset = names.safetensorsNormOffset
            for i in m.values.indices { m.values[i] += offset }
        }
        return m
    }

    private func isNorm(_ t: ModelTensor) -> Bool {
        switch t {
        case .finalNorm: return true
        case let .block(_, role): return role.isNorm
        default: return false
        }
    }

    mutating func assemble() throws -> ModelWeights {
        let c = config
        let embedding = try matrix(.embedding, shape: [c.vocabularySize, c.hiddenSize])
        let roles = BlockTensor.roles(for: c)
        var layers: [BlockWeights] = []
        for i in 0..<c.layerCount {
            var tensors: [BlockTensor: Matrix] = [:]
            for role in roles {
                tensors[role] = role.isExpert ? try expertMatrix(layer: i, role) : try matrix(.block(layer: i, role), shape: role.shape(c))
            }
            layers.append(BlockWeights(tensors: tensors))
        }
        let finalNorm = try matrix(.finalNorm, shape: [1, c.hiddenSize]).values
        let unembedding: Matrix
        if c.tiedEmbeddings {
            unembedding = embedding
            // Some tied checkpoints still store lm_head.weight; a tied config always uses the embedding.
            if let n = name(of: .unembedding) { used.insert(n) }
        } else {
            unembedding = try matrix(.unembedding, shape: [c.vocabularySize, c.hiddenSize])
        }
        if c.ropeFrequencyFactors != nil { used.insert(names.gguf(.ropeFrequencies)) }
        try refuseUnused()
        let weights = ModelWeights(embedding: embedding, layers: layers, finalNorm: finalNorm, unembedding: unembedding)
        try weights.validate(against: c, source: source.location)
        return weights
    }

    /// Every tensor in the file must have been read: a leftover one means the metadata and the tensors disagree.
    private func refuseUnused() throws {
        // Buffers some exporters save beside the weights, which carry nothing the model needs.
        let ignorable = ["rotary_emb.inv_freq"]
        guard let extra = source.tensorNames.first(where: { n in !used.contains(n) && !ignorable.contains { n.hasSuffix($0) } }) else { return }
        let unusedCount = source.tensorNames.filter { !used.contains($0) }.count
        throw ModelError.unusedTensor(file: source.location, name: extra, count: unusedCount,
                                      model: "\(config.architecture.displayName), \(config.layerCount) blocks")
    }
}
