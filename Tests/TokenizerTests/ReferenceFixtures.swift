// Test-only: the fixtures written by tools/tokenizer_reference.py, and where the SmolLM2 GGUF
// is found. The ids in them come from Hugging Face `tokenizers`, never from this package.

import Foundation
import Testing
import Tokenizer

/// A reference text with the ids and the decoding `tokenizers` gave for it.
protocol ReferenceCase {
    var text: String { get }
    var ids: [Int] { get }
    var decoded: String { get }
}

/// Expects `tokenizer` to give every case's ids and decoding; names the first texts that differ.
func expectReferenceIds(_ tokenizer: any TextTokenizer, _ cases: [some ReferenceCase], _ label: String,
                        sourceLocation: SourceLocation = #_sourceLocation) {
    var wrong: [String] = []
    for item in cases {
        let ids = tokenizer.encode(item.text)
        if ids != item.ids { wrong.append(item.text) }
        #expect(tokenizer.decode(ids) == item.decoded, "\(label): \(item.text.debugDescription)", sourceLocation: sourceLocation)
    }
    #expect(wrong.isEmpty, "\(label): \(wrong.count) of \(cases.count) differ, e.g. \(wrong.prefix(5).map(\.debugDescription))",
            sourceLocation: sourceLocation)
}

enum Fixtures {
    static func url(_ name: String, _ ext: String, in folder: String = "Fixtures") -> URL? {
        Bundle.module.url(forResource: name, withExtension: ext, subdirectory: folder)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ name: String) throws -> T {
        guard let url = url(name, "json") else { throw CocoaError(.fileNoSuchFile) }
        return try JSONDecoder().decode(type, from: Data(contentsOf: url))
    }
}

/// smollm2_reference.json: ids and pre-tokenizer pieces under the three kinds, SmolLM2 vocabulary.
struct SmolLM2Reference: Decodable {
    struct Case: Decodable {
        let text: String
        let smollm: [Int]
        let gpt2: [Int]
        let llama3: [Int]
        let qwen2: [Int]
        let pieces: [String: [String]]?
        let decoded: String?

        func ids(_ kind: PreTokenizerKind) -> [Int] {
            switch kind {
            case .smollm: return smollm
            case .gpt2: return gpt2
            case .llama3: return llama3
            case .qwen2: return qwen2
            case .gpt4o: preconditionFailure("smollm2_reference.json has no o200k ids (O200kPreTokenizerTests checks that rule)")
            }
        }
    }

    /// The pre-tokenizer kinds this reference records.
    static let kinds: [PreTokenizerKind] = [.smollm, .gpt2, .llama3, .qwen2]

    let source: String
    let vocabulary_size: Int
    let cases: [Case]

    static let shared: SmolLM2Reference? = try? Fixtures.decode(SmolLM2Reference.self, "smollm2_reference")
}

/// tiny_reference.json: ids of the tiny trained tokenizers.
struct TinyReference: Decodable {
    struct Case: Decodable, ReferenceCase {
        let text: String
        let ids: [Int]
        let decoded: String
    }

    struct Entry: Decodable {
        let kind: String
        let vocabulary_size: Int
        let bos_token_id: Int?
        let eos_token_id: Int?
        let cases: [Case]
    }

    let source: String
    let tokenizers: [String: Entry]
}

/// The SmolLM2 GGUF: $LAZARUS_DEFAULT_MODEL, else the shared models folder, else models/ at the
/// package root. Tests that need it are skipped, and say why, when it is absent.
enum SmolLM2 {
    static let fileName = "SmolLM2-135M-Instruct.Q4_1.gguf"

    static let modelURL: URL? = {
        var candidates: [String] = []
        if let path = ProcessInfo.processInfo.environment["LAZARUS_DEFAULT_MODEL"], !path.isEmpty { candidates.append(path) }
        candidates.append("/work/main/models/" + fileName)
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(packageRoot.appendingPathComponent("models").appendingPathComponent(fileName).path)
        return candidates.map { URL(fileURLWithPath: $0) }.first { FileManager.default.fileExists(atPath: $0.path) }
    }()

    static var isAvailable: Bool { modelURL != nil }

    static let metadata: GGUFTokenizerMetadata? = modelURL.flatMap { try? GGUFTokenizerMetadata.read($0) }

    /// One tokenizer per kind, built once: building one takes a few hundred milliseconds.
    static let tokenizers: [PreTokenizerKind: BPETokenizer] = {
        guard let metadata else { return [:] }
        var built: [PreTokenizerKind: BPETokenizer] = [:]
        for kind in PreTokenizerKind.allCases { built[kind] = try? metadata.makeTokenizer(preTokenizer: kind) }
        return built
    }()

    static var smollm: BPETokenizer? { tokenizers[.smollm] }
}

/// gemma3_reference.json and tiny_sentencepiece_reference.json: ids from transformers / `tokenizers`.
struct SentencePieceReference: Decodable {
    struct Case: Decodable, ReferenceCase {
        let text: String
        let ids: [Int]
        let decoded: String
        let decoded_without_bos: String?
        let llama_cpp_agrees: Bool?
    }

    struct Entry: Decodable {
        let vocabulary_size: Int
        let bos_token_id: Int?
        let eos_token_id: Int?
        let unknown_token_id: Int?
        let adds_bos: Bool
        let cases: [Case]
    }

    let source: String
    let tokenizers: [String: Entry]
}

struct Gemma3Reference: Decodable {
    let source: String
    let model_file: String
    let vocabulary_size: Int
    let llama_cpp: String?
    let cases: [SentencePieceReference.Case]
}

/// The Gemma 3 270M GGUF: $LAZARUS_GEMMA_MODEL, else models/ at the package root (where
/// `scripts/bootstrap.sh --gemma` puts it), else the machine's model cache.
enum Gemma3 {
    static let fileName = "gemma-3-270m-q4_k_m.gguf"

    static let modelURL: URL? = {
        var candidates: [String] = []
        if let path = ProcessInfo.processInfo.environment["LAZARUS_GEMMA_MODEL"], !path.isEmpty { candidates.append(path) }
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(packageRoot.appendingPathComponent("models").appendingPathComponent(fileName).path)
        candidates.append("/work/models-cache/" + fileName)
        return candidates.map { URL(fileURLWithPath: $0) }.first { FileManager.default.fileExists(atPath: $0.path) }
    }()

    static var isAvailable: Bool { modelURL != nil }

    static let metadata: GGUFTokenizerMetadata? = modelURL.flatMap { try? GGUFTokenizerMetadata.read($0) }

    static let tokenizer: (any TextTokenizer)? = metadata.flatMap { try? $0.vocabulary.makeTokenizer(file: fileName) }
}
