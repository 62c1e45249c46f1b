// tokenizer.json loading: four tiny tokenizers trained by tools/tokenizer_reference.py (one
// per pre-tokenizer family, merges in both on-disk forms) against `tokenizers`' own ids, and
// the rejections of shapes Lazarus does not reproduce.

import Foundation
import Testing
@testable import Tokenizer

@Suite("tokenizer.json")
struct TokenizerJSONTests {
    static let reference: TinyReference? = try? Fixtures.decode(TinyReference.self, "tiny_reference")

    @Test("tiny trained tokenizers give the reference ids", arguments: ["tiny_llama3", "tiny_smollm", "tiny_gpt2", "tiny_qwen2"])
    func tinyTokenizerIds(name: String) throws {
        let entry = try #require(Self.reference?.tokenizers[name])
        let url = try #require(Fixtures.url("tokenizer", "json", in: "Fixtures/" + name))
        let tokenizer = try BPETokenizer.load(tokenizerJSON: url)
        #expect(tokenizer.preTokenizerKind.rawValue == entry.kind)
        #expect(tokenizer.vocabularySize == entry.vocabulary_size)
        #expect(tokenizer.bosTokenId == entry.bos_token_id)
        #expect(tokenizer.eosTokenId == entry.eos_token_id)
        #expect(tokenizer.addsBosToken == (entry.bos_token_id != nil))
        #expect(entry.cases.count >= 150)
        expectReferenceIds(tokenizer, entry.cases, name)
    }

    @Test("the Llama 3 one reads BOS from its template and EOS from tokenizer_config.json")
    func llama3Specials() throws {
        let url = try #require(Fixtures.url("tokenizer", "json", in: "Fixtures/tiny_llama3"))
        let tokenizer = try BPETokenizer.load(tokenizerJSON: url)
        #expect(tokenizer.piece(try #require(tokenizer.bosTokenId)) == "<|begin_of_text|>")
        #expect(tokenizer.piece(try #require(tokenizer.eosTokenId)) == "<|end_of_text|>")
        #expect(tokenizer.encode("").count == 1)
        #expect(tokenizer.encode("<|eot_id|>") == [tokenizer.bosTokenId!, tokenizer.tokenId(of: "<|eot_id|>")!])
    }

    // MARK: rejections

    /// A minimal valid tokenizer.json: bytes "a", "b", merge "a b", one special token.
    private static func minimal() -> [String: Any] {
        var vocab: [String: Int] = [:]
        for (id, scalar) in ByteLevelAlphabet.scalarForByte.enumerated() { vocab[String(scalar)] = id + 1 }
        vocab["ab"] = 257
        return [
            "added_tokens": [["id": 0, "content": "<s>", "special": true, "lstrip": false, "rstrip": false, "single_word": false, "normalized": false]],
            "normalizer": NSNull(),
            "pre_tokenizer": ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true],
            "post_processor": NSNull(),
            "decoder": ["type": "ByteLevel"],
            "model": ["type": "BPE", "vocab": vocab, "merges": ["a b"]],
        ]
    }

    private static func load(_ json: [String: Any]) throws -> BPETokenizer {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lazarus-tokenizer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("tokenizer.json")
        try JSONSerialization.data(withJSONObject: json).write(to: url)
        return try BPETokenizer.load(tokenizerJSON: url)
    }

    private static func rejection(_ change: (inout [String: Any]) -> Void) -> TokenizerError? {
        var json = minimal()
        change(&json)
        do {
            _ = try load(json)
            return nil
        } catch let error as TokenizerError {
            return error
        } catch {
            return TokenizerError(file: "?", field: "?", reason: "not a TokenizerError: \(error)")
        }
    }

    private static func setModel(_ json: inout [String: Any], _ key: String, _ value: Any) {
        var model = json["model"] as! [String: Any]
        model[key] = value
        json["model"] = model
    }

    @Test("the minimal file loads and merges")
    func minimalLoads() throws {
        let tokenizer = try Self.load(Self.minimal())
        #expect(tokenizer.encode("ab<s>ab") == [257, 0, 257])
        #expect(tokenizer.vocabularySize == 258)
        #expect(tokenizer.preTokenizerKind == .gpt2)
        var pairs = Self.minimal()
        Self.setModel(&pairs, "merges", [["a", "b"]])
        #expect(try Self.load(pairs).encode("ab") == [257])
    }

    @Test("each unsupported or broken field is named")
    func rejections() {
        let cases: [(String, (inout [String: Any]) -> Void)] = [
            ("normalizer", { $0["normalizer"] = ["type": "NFKC"] }),
            ("pre_tokenizer", { $0["pre_tokenizer"] = ["type": "Metaspace"] }),
            ("pre_tokenizer", { $0["pre_tokenizer"] = ["type": "ByteLevel", "add_prefix_space": true] }),
            ("pre_tokenizer", { $0["pre_tokenizer"] = ["type": "Sequence", "pretokenizers": [
                ["type": "Split", "pattern": ["Regex": "\\p{N}{1,2}"], "behavior": "Isolated", "invert": false],
                ["type": "ByteLevel", "add_prefix_space": false, "use_regex": false]]] }),
            ("decoder", { $0["decoder"] = ["type": "WordPiece"] }),
            ("post_processor", { $0["post_processor"] = ["type": "BertProcessing"] }),
            ("post_processor.single", { $0["post_processor"] = ["type": "TemplateProcessing", "single": [
                ["Sequence": ["id": "A"]], ["SpecialToken": ["id": "<s>"]]], "special_tokens": [:]] }),
            ("model.type", { Self.setModel(&$0, "type", "WordPiece") }),
            ("model.byte_fallback", { Self.setModel(&$0, "byte_fallback", true) }),
            ("model.vocab", { Self.setModel(&$0, "vocab", ["a": 0, "b": 0]) }),
            ("model.vocab[\"a\"]", { Self.setModel(&$0, "vocab", ["a": 7]) }),
            ("model.vocab", { Self.setModel(&$0, "vocab", ["<s>": 0, "a": 2]); Self.setModel(&$0, "merges", [String]()) }),
            ("merges[0]", { Self.setModel(&$0, "merges", ["a c"]) }),
            ("merges[0]", { Self.setModel(&$0, "merges", ["b a"]) }),
            ("model.merges[0]", { Self.setModel(&$0, "merges", ["a  b"]) }),
            ("model.merges[0]", { Self.setModel(&$0, "merges", [["a", "b", "c"]]) }),
            ("model.merges[0]", { Self.setModel(&$0, "merges", [17]) }),
            ("model.vocab", { Self.setModel(&$0, "vocab", "nope") }),
            ("model", { $0["model"] = nil }),
            ("added_tokens[0]", { $0["added_tokens"] = [["id": 0, "content": "<s>", "lstrip": true]] }),
            ("added_tokens[0]", { $0["added_tokens"] = [["id": 5, "content": "<s>"]] }),
            ("added_tokens[0]", { $0["added_tokens"] = [["id": -1, "content": "<s>"]] }),
            ("added_tokens[0]", { $0["added_tokens"] = [["id": 0, "content": ""]] }),
        ]
        for (field, change) in cases {
            let error = Self.rejection(change)
            #expect(error?.field == field, "expected a rejection of \(field), got \(error.map(\.description) ?? "none")")
            #expect(error?.file == "tokenizer.json")
        }
    }

    @Test("garbage is rejected, not trapped on")
    func garbage() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lazarus-tokenizer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("tokenizer.json")
        for text in ["", "{", "[]", "null", "{\"model\": 3}", "\u{FEFF}{}"] {
            try Data(text.utf8).write(to: url)
            #expect(throws: TokenizerError.self, "\(text.debugDescription)") { try BPETokenizer.load(tokenizerJSON: url) }
        }
        #expect(throws: TokenizerError.self) { try BPETokenizer.load(tokenizerJSON: folder.appendingPathComponent("absent.json")) }
        try Data("{\"eos_token\": 3}".utf8).write(to: folder.appendingPathComponent("tokenizer_config.json"))
        try JSONSerialization.data(withJSONObject: Self.minimal()).write(to: url)
        #expect(throws: TokenizerError(file: "tokenizer_config.json", field: "eos_token", reason: "neither a string nor {\"content\": string}")) {
            try BPETokenizer.load(tokenizerJSON: url)
        }
        try Data("{\"eos_token\": \"</s>\"}".utf8).write(to: folder.appendingPathComponent("tokenizer_config.json"))
        #expect(throws: TokenizerError.self) { try BPETokenizer.load(tokenizerJSON: url) }
        try Data("{\"eos_token\": {\"content\": \"<s>\"}}".utf8).write(to: folder.appendingPathComponent("tokenizer_config.json"))
        #expect(try BPETokenizer.load(tokenizerJSON: url).eosTokenId == 0)
    }
}
