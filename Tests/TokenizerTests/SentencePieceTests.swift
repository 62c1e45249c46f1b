// SentencePiece-style BPE: the real Gemma 3 tokenizer built from its GGUF against transformers'
// ids (tools/sentencepiece_reference.py), tiny trained tokenizer.json files of four shapes
// against `tokenizers`, a tiny Llama-architecture GGUF against transformers, the vocabulary-order merge rule against an explicit list built as
// transformers builds it, and the one-line errors for malformed vocabularies.

import Foundation
import LazarusTestSupport
import Testing
import LazarusTestSupport
@testable import Tokenizer

private let gemmaMissing: Comment = "the Gemma 3 GGUF is not installed: run scripts/bootstrap.sh --gemma (or set LAZARUS_GEMMA_MODEL)"

@Suite("SentencePiece-style BPE")
struct SentencePieceTests {
    static let gemmaReference: Gemma3Reference? = try? Fixtures.decode(Gemma3Reference.self, "gemma3_reference")
    static let tinyReference: SentencePieceReference? = try? Fixtures.decode(SentencePieceReference.self, "tiny_sentencepiece_reference")

    // MARK: Gemma 3, from the real GGUF

    @Test("Gemma 3 ids equal transformers' tokenizer built from the same GGUF", .enabled(if: Gemma3.isAvailable, gemmaMissing))
    func gemmaIds() throws {
        let reference = try #require(Self.gemmaReference)
        let metadata = try #require(Gemma3.metadata)
        let start = Date()
        let tokenizer = try metadata.vocabulary.makeTokenizer(file: Gemma3.fileName)
        print("Gemma 3 tokenizer built in \(String(format: "%.2f", Date().timeIntervalSince(start))) s")
        #expect(tokenizer is SentencePieceTokenizer)
        #expect(tokenizer.vocabularySize == reference.vocabulary_size)
        #expect(reference.cases.count >= 250)
        expectReferenceIds(tokenizer, reference.cases, "Gemma 3")
    }

    @Test("Gemma 3: BOS added, EOS, special-token texts as their ids, bytes back exactly", .enabled(if: Gemma3.isAvailable, gemmaMissing))
    func gemmaSpecials() throws {
        let tokenizer = try #require(Gemma3.tokenizer)
        #expect(tokenizer.bosTokenId == 2)
        #expect(tokenizer.eosTokenId == 1)
        #expect(tokenizer.addsBosToken)
        #expect(tokenizer.encode("") == [2])
        let turn = try #require(tokenizer.tokenId(of: "<start_of_turn>"))
        #expect(tokenizer.encode("<start_of_turn>") == [2, turn])
        #expect(tokenizer.specialTokenIds.contains(turn))
        #expect(tokenizer.piece(turn) == "<start_of_turn>")
        // Byte fallback: a scalar outside the vocabulary comes back whole through its byte tokens.
        let text = "a\u{10FFFF}b  c\t\n"
        #expect(tokenizer.decodeBytes(tokenizer.encode(text)) == Array(("<bos>" + text).utf8))
        #expect(tokenizer.kindDescription.hasPrefix("SentencePiece-style BPE"))
    }

    @Test("Gemma 3 encodes 3000 prompts and a 100 KB text quickly", .enabled(if: Gemma3.isAvailable, gemmaMissing))
    func gemmaSpeed() throws {
        let tokenizer = try #require(Gemma3.tokenizer)
        var generator = SplitMix64(seed: 42)
        let prompts = (0..<3000).map { _ in "\(generator.next() % 50 + 1) * \(generator.next() % 50 + 1) = multiply: \(generator.next() % 2500)" }
        // A stretch between special tokens is one word to Gemma's tokenizer, merged whole.
        let long = String(repeating: "The quick brown fox jumps over the lazy dog, 12 times; naïve café 😀.\n", count: 1_400)
        let clock = ContinuousClock()
        var total = 0
        let short = clock.measure { for prompt in prompts { total += tokenizer.encode(prompt).count } }
        var longCount = 0
        let whole = clock.measure { longCount = tokenizer.encode(long).count }
        print("Gemma 3: 3000 prompts in \(short), \(long.utf8.count) bytes (\(longCount) tokens) in \(whole)")
        #expect(total > 3000 * 8)
        #expect(longCount > 1_400 * 10)
        // Generous bounds for a busy 2-core machine; the printed figures are what to read.
        #expect(short < .seconds(2), "3000 prompts took \(short)")
        #expect(whole < .seconds(5), "100 KB took \(whole)")
    }

    // MARK: tiny tokenizer.json files

    @Test("tiny SentencePiece-style tokenizer.json files give the reference ids", arguments: ["metaspace", "gemma_style", "prepend", "llama_style"])
    func tinyIds(shape: String) throws {
        let entry = try #require(Self.tinyReference?.tokenizers[shape])
        let url = try #require(Fixtures.url("tokenizer", "json", in: "Fixtures/tiny_sentencepiece/" + shape))
        let loaded = try TokenizerJSON.load(url)
        let tokenizer = try #require(loaded as? SentencePieceTokenizer)
        #expect(tokenizer.vocabularySize == entry.vocabulary_size)
        #expect(tokenizer.bosTokenId == entry.bos_token_id)
        #expect(tokenizer.eosTokenId == entry.eos_token_id)
        #expect(tokenizer.unknownTokenId == entry.unknown_token_id)
        #expect(tokenizer.addsBosToken == entry.adds_bos)
        #expect(tokenizer.byteFallback)
        #expect(entry.cases.count >= 250)
        expectReferenceIds(tokenizer, entry.cases, shape)
        // The decoders drop the prefix "▁" from the first token only, which BOS hides above
        // (where there is no BOS, this drops a real token: still a reference to match).
        for item in entry.cases {
            #expect(tokenizer.decode(Array(item.ids.dropFirst())) == item.decoded_without_bos, "\(shape): \(item.text.debugDescription)")
        }
    }

    @Test("vocabulary keys are kept byte for byte: \"é\" and \"e\\u{301}\" are two entries, as in Gemma's file")
    func canonicallyEquivalentKeys() throws {
        // Written by hand: JSONSerialization would merge the two keys as Swift's String does.
        let json = #"""
        {"model": {"type": "BPE", "unk_token": "<unk>", "fuse_unk": true, "byte_fallback": false, "ignore_merges": false,
                   "vocab": {"<unk>": 0, "<s>": 1, "\u00e9": 2, "e\u0301": 3, "e": 4, "\u0301": 5, "\u2581": 6,
                             "\ud83d\ude00": 7, "a\"\\\/\n\t": 8},
                   "merges": [["e", "\u0301"]]},
         "added_tokens": [{"id": 1, "content": "<s>", "special": true, "normalized": false}],
         "normalizer": {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"},
         "pre_tokenizer": null, "post_processor": null,
         "decoder": {"type": "Sequence", "decoders": [{"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "}, {"type": "Fuse"}]}}
        """#
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lazarus-sp-keys-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("tokenizer.json")
        try Data(json.utf8).write(to: url)
        let tokenizer = try TokenizerJSON.load(url)
        #expect(tokenizer.vocabularySize == 9)
        #expect(tokenizer.encode("\u{e9}") == [2])
        #expect(tokenizer.encode("e\u{301}") == [3])
        #expect(tokenizer.encode("\u{e9} e\u{301}\u{1F600}x") == [2, 6, 3, 7, 0])
        #expect(tokenizer.token(8) == "a\"\\/\n\t")
    }

    @Test("a byte-level tokenizer.json still loads as byte-level BPE through the same entry point")
    func byteLevelThroughTokenizerJSON() throws {
        let url = try #require(Fixtures.url("tokenizer", "json", in: "Fixtures/tiny_smollm"))
        #expect(try TokenizerJSON.load(url) is BPETokenizer)
    }

    @Test("a Llama-architecture GGUF with a SentencePiece vocabulary and no merges gives transformers' ids (Llama 2's rules)")
    func llamaGGUFIds() throws {
        let entry = try #require(Self.tinyReference?.tokenizers["llama_gguf"])
        let url = try #require(Fixtures.url("tiny", "gguf", in: "Fixtures/tiny_sentencepiece/llama_gguf"))
        let metadata = try GGUFTokenizerMetadata.read(url)
        #expect(metadata.architecture == "llama")
        #expect(metadata.merges.isEmpty)
        let tokenizer = try #require(try metadata.vocabulary.makeTokenizer(file: "tiny.gguf") as? SentencePieceTokenizer)
        #expect(tokenizer.spaceHandling == SpaceHandling(prefix: .first, splitsAtSpaces: false))
        #expect(tokenizer.kindDescription.contains("score order"))
        #expect(tokenizer.vocabularySize == entry.vocabulary_size)
        #expect(tokenizer.bosTokenId == entry.bos_token_id)
        #expect(tokenizer.eosTokenId == entry.eos_token_id)
        #expect(tokenizer.addsBosToken == entry.adds_bos)
        expectReferenceIds(tokenizer, entry.cases, "llama_gguf")
        for item in entry.cases {
            #expect(tokenizer.decode(Array(item.ids.dropFirst())) == item.decoded_without_bos, "\(item.text.debugDescription)")
        }
    }

    // MARK: the vocabulary-order merges

    /// A small Gemma-like vocabulary: control tokens, the 256 byte tokens, then ordinary ones.
    static func syntheticVocabulary(ordinary: [String] = ["▁", "a", "b", "c", "ab", "bc", "abc", "▁a", "▁ab", "ca", "cab", "  ", "\n\n"]) -> GGUFVocabulary {
        var vocabulary = GGUFVocabulary()
        vocabulary.architecture = "gemma3"
        vocabulary.model = "llama"
        vocabulary.pre = "default"
        let controls = ["<pad>", "<eos>", "<bos>", "<unk>", "<start_of_turn>"]
        let tokens = controls + (0..<256).map { SentencePieceTokenizer.byteTokenText(UInt8($0)) } + ordinary
        vocabulary.tokens = tokens
        vocabulary.scores = tokens.indices.map { -Float($0) }
        vocabulary.tokenTypes = controls.map { _ in 3 } + Array(repeating: 6, count: 256)
            + ordinary.map { $0.hasPrefix(" ") || $0.hasPrefix("\n") ? 4 : 1 }
        vocabulary.bosTokenId = 2
        vocabulary.eosTokenId = 1
        vocabulary.unknownTokenId = 3
        vocabulary.paddingTokenId = 0
        vocabulary.addBosToken = true
        vocabulary.addSpacePrefix = false
        return vocabulary
    }

    /// transformers' `generate_merges` over entry positions, written out as a list.
    static func explicitMerges(_ tokens: [String]) -> [MergePair] {
        var index: [ExactString: Int] = [:]
        for (id, token) in tokens.enumerated() { index[ExactString(token)] = id }
        var merges: [(merged: Int, leftLength: Int, pair: MergePair)] = []
        for (id, token) in tokens.enumerated() where index[ExactString(token)] == id {
            let scalars = Array(token.unicodeScalars)
            for cut in scalars.indices.dropFirst() {
                let left = String(String.UnicodeScalarView(scalars[..<cut])), right = String(String.UnicodeScalarView(scalars[cut...]))
                if index[ExactString(left)] != nil && index[ExactString(right)] != nil { merges.append((id, cut, MergePair(left: left, right: right))) }
            }
        }
        merges.sort { $0.merged != $1.merged ? $0.merged < $1.merged : $0.leftLength > $1.leftLength }
        return merges.map(\.pair)
    }

    @Test("merges in vocabulary order equal the explicit list transformers would build")
    func vocabularyOrderMatchesExplicitList() throws {
        let vocabulary = Self.syntheticVocabulary()
        let lazy = try #require(try vocabulary.makeTokenizer(file: "synthetic.gguf") as? SentencePieceTokenizer)
        // Respelled as the GGUF builder does, so the explicit list sees the same entries.
        let tokens = (0..<lazy.vocabularySize).map { lazy.token($0)! }
        let listed = try SentencePieceTokenizer(
            tokens: tokens, merges: .listed(Self.explicitMerges(tokens)), specialTokens: ["<pad>", "<eos>", "<bos>", "<unk>", "<start_of_turn>", "\n\n"],
            spaceHandling: .gemma, byteFallback: true, unknownTokenId: 3, fuseUnknown: true,
            bosTokenId: 2, eosTokenId: 1, addBosToken: true, source: "explicit")
        var generator = SplitMix64(seed: 11)
        let alphabet = Array("abc abcé\n")
        for _ in 0..<400 {
            let length = Int(generator.next() % 70) + 1
            let text = String((0..<length).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] })
            #expect(lazy.encode(text) == listed.encode(text), "\(text.debugDescription)")
        }
        // The earlier entry wins: "abc" is "ab" + "c" (ab comes before bc), and "cab" is "ca" + "b".
        let id = { (text: String) in lazy.tokenId(of: text)! }
        #expect(lazy.encode("abc") == [2, id("abc")])
        #expect(lazy.encode("a b") == [2, id("a"), id("▁"), id("b")])
        // The stored "  " is reached as "▁▁"; "\n\n" is a user-defined token matched in the text.
        #expect(lazy.token(id("▁▁")) == "▁▁")
        #expect(lazy.encode("c  \n\n") == [2, id("c"), id("▁▁"), id("\n\n")])
        // A scalar the vocabulary lacks: its UTF-8 bytes as byte tokens.
        #expect(lazy.encode("é") == [2, id("<0xC3>"), id("<0xA9>")])
        #expect(lazy.decode(lazy.encode("é a")) == "<bos>é a")
    }

    // MARK: malformed vocabularies

    @Test("a malformed GGUF vocabulary is a one-line error naming the file and the key")
    func ggufRejections() {
        let cases: [(String, (inout GGUFVocabulary) -> Void)] = [
            ("tokenizer.ggml.tokens", { $0.tokens = nil }),
            ("tokenizer.ggml.scores", { $0.scores?.removeLast() }),
            ("tokenizer.ggml.scores", { $0.scores = nil }),
            ("tokenizer.ggml.scores", { $0.scores?[7] = .nan }),
            ("tokenizer.ggml.token_type", { $0.tokenTypes?.removeLast() }),
            ("tokenizer.ggml.token_type", { $0.tokenTypes?[270] = 9 }),
            ("tokenizer.ggml.token_type", { $0.tokenTypes?[270] = 0 }),
            ("tokenizer.ggml.tokens", { $0.tokens?[5 + 0x41] = "A" }),
            ("tokenizer.ggml.tokens", { $0.tokenTypes?[264] = 6 }),
            ("tokenizer.ggml.model", { $0.model = "bert" }),
            ("tokenizer.ggml.model", { $0.model = nil }),
            ("general.architecture", { $0.architecture = "phi3" }),
            ("general.architecture", { $0.architecture = nil }),
            ("tokenizer.ggml.add_space_prefix", { $0.architecture = "llama"; $0.addSpacePrefix = false }),
            ("tokenizer.ggml.pre", { $0.pre = "qwen2" }),
            ("tokenizer.ggml.add_space_prefix", { $0.addSpacePrefix = true }),
            ("tokenizer.ggml.bos_token_id", { $0.bosTokenId = 1_000_000 }),
            ("tokenizer.ggml.unknown_token_id", { $0.unknownTokenId = -1 }),
            ("tokenizer.ggml.merges[0]", { $0.merges = ["a x"] }),
            ("tokenizer.ggml.pre", { $0.model = "gpt2"; $0.pre = "tekken" }),
        ]
        for (field, change) in cases {
            var vocabulary = Self.syntheticVocabulary()
            change(&vocabulary)
            let error = #expect(throws: TokenizerError.self, "\(field)") { try vocabulary.makeTokenizer(file: "bad.gguf") }
            #expect(error?.file == "bad.gguf")
            #expect(error?.field == field, "\(error?.description ?? "no error")")
            #expect(error?.description.contains("\n") == false)
        }
    }

    @Test("a malformed SentencePiece tokenizer.json names the field")
    func jsonRejections() throws {
        let url = try #require(Fixtures.url("tokenizer", "json", in: "Fixtures/tiny_sentencepiece/gemma_style"))
        let original = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let cases: [(String, (inout [String: Any]) -> Void)] = [
            ("model.vocab", { json in
                var model = json["model"] as! [String: Any]
                var vocab = model["vocab"] as! [String: Int]
                let id = vocab.removeValue(forKey: "<0x41>")!
                vocab["<0x41x>"] = id
                model["vocab"] = vocab
                json["model"] = model }),
            ("model.unk_token", { json in
                var model = json["model"] as! [String: Any]
                model["unk_token"] = "<nope>"
                json["model"] = model }),
            ("normalizer", { $0["normalizer"] = ["type": "Sequence", "normalizers": [["type": "NFKC"], ["type": "Replace", "pattern": ["String": " "], "content": "▁"]]] }),
            ("pre_tokenizer", { $0["pre_tokenizer"] = ["type": "Whitespace"] }),
            ("decoder", { $0["decoder"] = ["type": "WordPiece"] }),
        ]
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lazarus-sp-json-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("tokenizer.json")
        for (field, change) in cases {
            var json = original
            change(&json)
            try JSONSerialization.data(withJSONObject: json).write(to: file)
            let error = #expect(throws: TokenizerError.self, "\(field)") { try TokenizerJSON.load(file) }
            #expect(error?.file == file.path)
            #expect(error?.field == field, "\(error?.description ?? "no error")")
        }
    }
}
