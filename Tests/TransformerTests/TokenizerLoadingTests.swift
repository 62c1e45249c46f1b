// The loader's tokenizer paths: the real Gemma 3 GGUF read by ModelFiles and built by
// ModelLoader.tokenizerFromGGUF gives transformers' ids (the fixture tools/sentencepiece_reference.py
// wrote for the Tokenizer tests); an unknown pre-tokenizer fails on load; `default-gemma` resolves.
import Foundation
import ModelFiles
import Testing
import Tokenizer
import Transformer

@Suite("loading tokenizers")
struct TokenizerLoadingTests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// $LAZARUS_GEMMA_MODEL, else models/ (scripts/bootstrap.sh --gemma), else the machine's cache.
    static let gemmaURL: URL? = {
        var candidates: [String] = []
        if let path = ProcessInfo.processInfo.environment["LAZARUS_GEMMA_MODEL"], !path.isEmpty { candidates.append(path) }
        candidates.append(packageRoot.appendingPathComponent("models/gemma-3-270m-q4_k_m.gguf").path)
        candidates.append("/work/models-cache/gemma-3-270m-q4_k_m.gguf")
        return candidates.map { URL(fileURLWithPath: $0) }.first { FileManager.default.fileExists(atPath: $0.path) }
    }()

    struct Reference: Decodable {
        struct Case: Decodable {
            let text: String
            let ids: [Int]
        }
        let vocabulary_size: Int
        let cases: [Case]
    }

    @Test("Gemma 3's tokenizer, read from the GGUF by the loader, gives transformers' ids",
          .enabled(if: gemmaURL != nil, "the Gemma 3 GGUF is not installed: run scripts/bootstrap.sh --gemma"))
    func gemmaThroughTheLoader() throws {
        let url = try #require(Self.gemmaURL)
        let fixture = Self.packageRoot.appendingPathComponent("Tests/TokenizerTests/Fixtures/gemma3_reference.json")
        let reference = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: fixture))
        let file = try GGUFFile(contentsOf: url)
        let tokenizer = try ModelLoader.tokenizerFromGGUF(file, source: url.lastPathComponent)
        #expect(tokenizer is SentencePieceTokenizer)
        #expect(tokenizer.vocabularySize == reference.vocabulary_size)
        let wrong = reference.cases.filter { tokenizer.encode($0.text) != $0.ids }.map(\.text)
        #expect(wrong.isEmpty, "\(wrong.count) of \(reference.cases.count) differ, e.g. \(wrong.prefix(3).map(\.debugDescription))")
    }

    /// A GGUF holding only a byte-level tokenizer's keys.
    static func tokenizerOnlyGGUF(model: String, pre: String?) throws -> GGUFFile {
        var w = GGUFWriter()
        w.set("general.architecture", .string("llama"))
        w.set("tokenizer.ggml.model", .string(model))
        if let pre { w.set("tokenizer.ggml.pre", .string(pre)) }
        w.set("tokenizer.ggml.tokens", .array(["a", "b", "ab"].map { .string($0) }))
        w.set("tokenizer.ggml.merges", .array([.string("a b")]))
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lazarus-tok-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("t.gguf")
        try w.write(to: url)
        return try GGUFFile(contentsOf: url)
    }

    @Test("an unknown or absent pre-tokenizer, or an unknown tokenizer model, fails on load naming the key")
    func unknownPreTokenizer() throws {
        for (model, pre, key) in [("gpt2", "tekken", "tokenizer.ggml.pre"), ("gpt2", nil, "tokenizer.ggml.pre"), ("bert", "gpt2", "tokenizer.ggml.model")] {
            let file = try Self.tokenizerOnlyGGUF(model: model, pre: pre)
            let error = #expect(throws: TokenizerError.self) { try ModelLoader.tokenizerFromGGUF(file, source: "t.gguf") }
            #expect(error?.field == key)
            #expect(error?.file == "t.gguf")
        }
        let qwen = try ModelLoader.tokenizerFromGGUF(try Self.tokenizerOnlyGGUF(model: "gpt2", pre: "qwen2"), source: "t.gguf")
        #expect((qwen as? BPETokenizer)?.preTokenizerKind == .qwen2)
        #expect(qwen.encode("ab") == [2])
    }

    @Test("default-gemma names the Gemma file, from its variable or models/, or says how to fetch it")
    func defaultGemmaResolves() {
        let named = ModelLoader.namedModels.first { $0.name == "default-gemma" }
        #expect(named?.file == "gemma-3-270m-q4_k_m.gguf")
        if let path = ProcessInfo.processInfo.environment["LAZARUS_GEMMA_MODEL"], !path.isEmpty {
            #expect((try? ModelLoader.resolve("default-gemma"))?.path == path)
            return
        }
        do {
            let url = try ModelLoader.resolve("default-gemma")
            #expect(url.lastPathComponent == "gemma-3-270m-q4_k_m.gguf")
            #expect(FileManager.default.fileExists(atPath: url.path))
        } catch {
            #expect("\(error)".contains("scripts/bootstrap.sh --gemma"))
        }
    }
}
