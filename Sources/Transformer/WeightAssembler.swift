// Builds ModelWeights from any TensorSource: looks each parameter's name up in the architecture's
// table, checks its shape, applies the per-format conversions (llama.cpp's Q/K permutation, Gemma's
// `1 + w` norms from safetensors) and, at the end, refuses tensors the model would not use — a file
// whose metadata was changed to a smaller model must not load with its extra blocks ignored.
// With `native` storage, projections, embedding and unembedding stored in a block type the kernels
// multiply stay as the file's blocks (checked against the shape); everything else is decoded as before.
import Kernels

struct WeightAssembler {
    let source: any TensorSource
    let names: TensorNames
    let config: ModelConfig
    let storage: WeightStorage
    /// The file's tensor names read so far (ExpertAssembly.swift adds the experts').
    var used: Set<String> = []

    init(source: any TensorSource, config: ModelConfig, storage: WeightStorage = .f32) {
        self.source = source
        self.names = TensorNames(config.architecture)
        self.config = config
        self.storage = storage
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

    /// The tensor as quantised blocks when storage is native and the file holds it in a type with kernels; else nil.
    mutating func quantized(_ t: ModelTensor, shape: [Int]) throws -> QuantizedMatrix? {
        guard storage == .native, let name = name(of: t), let found = source.shape(of: name), found == shape,
              let blocks = source.quantizedBlocks(name), let type = QuantizedMatrix.BlockType(ggmlType: blocks.ggmlType) else { return nil }
        var q: QuantizedMatrix
        do {
            q = try QuantizedMatrix(type: type, rows: shape[0], cols: shape[1], data: blocks.bytes, offset: blocks.offset, byteCount: blocks.byteCount)
        } catch let e as QuantizedMatrix.ShapeError {
            throw ModelError.invalidConfig(file: source.location, field: "tensor '\(name)'", reason: "\(e.reason); the file is corrupt — re-download it")
        }
        used.insert(name)
        if source.format == .gguf && names.ggufPermutesQK, case let .block(_, role) = t {
            if role == .query { q = q.reorderingRows(QKPermutation.huggingFaceRowOrder(rows: q.rows, heads: config.headCount)) }
            if role == .key { q = q.reorderingRows(QKPermutation.huggingFaceRowOrder(rows: q.rows, heads: config.kvHeadCount)) }
        }
        return q
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
        let vd = [c.vocabularySize, c.hiddenSize]
        let notDense = Matrix(rows: 0, cols: c.hiddenSize)
        let quantizedEmbedding = try quantized(.embedding, shape: vd)
        let embedding = quantizedEmbedding == nil ? try matrix(.embedding, shape: vd) : notDense
        let roles = BlockTensor.roles(for: c)
        var layers: [BlockWeights] = []
        for i in 0..<c.layerCount {
            var tensors: [BlockTensor: Matrix] = [:]
            var blocks: [BlockTensor: QuantizedMatrix] = [:]
            for role in roles {
                // Experts: blocks when the storage keeps them (QuantizedExperts.swift), else float32 (stacked, MXFP4 decoded).
                if role.isExpert {
                    if let q = try quantizedExpert(layer: i, role) { blocks[role] = q } else { tensors[role] = try expertMatrix(layer: i, role) }
                    continue
                }
                if role.projection != nil, let q = try quantized(.block(layer: i, role), shape: role.shape(c)) { blocks[role] = q; continue }
                tensors[role] = try matrix(.block(layer: i, role), shape: role.shape(c))
            }
            layers.append(BlockWeights(tensors: tensors, quantized: blocks))
        }
        let finalNorm = try matrix(.finalNorm, shape: [1, c.hiddenSize]).values
        let unembedding: Matrix
        let quantizedUnembedding: QuantizedMatrix?
        if c.tiedEmbeddings {
            unembedding = embedding
            quantizedUnembedding = quantizedEmbedding
            // Some tied checkpoints still store lm_head.weight; a tied config always uses the embedding.
            if let n = name(of: .unembedding) { used.insert(n) }
        } else {
            quantizedUnembedding = try quantized(.unembedding, shape: vd)
            unembedding = quantizedUnembedding == nil ? try matrix(.unembedding, shape: vd) : notDense
        }
        if c.ropeFrequencyFactors != nil { used.insert(names.gguf(.ropeFrequencies)) }
        try refuseUnused()
        var weights = ModelWeights(embedding: embedding, layers: layers, finalNorm: finalNorm, unembedding: unembedding,
                                   quantizedEmbedding: quantizedEmbedding, quantizedUnembedding: quantizedUnembedding)
        weights.unembeddingIsEmbedding = c.tiedEmbeddings && quantizedEmbedding != nil
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
