// BPETokenizer on small hand-made vocabularies: merge order, ignore_merges, special tokens,
// BOS, missing bytes, and the rejections of its initialiser. The facts pinned here are those of
// `tokenizers`' BPE; the large-scale comparison is in SmolLM2TokenizerTests.

import Testing
@testable import Tokenizer

@Suite("BPETokenizer")
struct BPETokenizerTests {
    static let bytes = ByteLevelAlphabet.scalarForByte.map { String($0) }

    static func make(extra: [String] = [], merges: [String] = [], types: [Int]? = nil, kind: PreTokenizerKind = .gpt2,
                     bos: Int? = nil, addBos: Bool = false, specials: [String]? = nil, ignoreMerges: Bool? = nil,
                     dropping: Set<String> = []) throws -> BPETokenizer {
        let tokens = bytes.filter { !dropping.contains($0) } + extra
        return try BPETokenizer(tokens: tokens, merges: merges, tokenTypes: types, preTokenizer: kind, bosTokenId: bos,
                                eosTokenId: nil, addBosToken: addBos, specialTokens: specials, source: "test",
                                ignoreMerges: ignoreMerges)
    }

    private func pieces(_ tokenizer: BPETokenizer, _ text: String) -> [String] {
        tokenizer.encode(text).map { tokenizer.token($0) ?? "?" }
    }

    @Test("lower rank merges first; equal ranks merge leftmost first")
    func mergeOrder() throws {
        let bcFirst = try Self.make(extra: ["ab", "bc"], merges: ["b c", "a b"])
        #expect(pieces(bcFirst, "abc") == ["a", "bc"])
        let abFirst = try Self.make(extra: ["ab", "bc"], merges: ["a b", "b c"])
        #expect(pieces(abFirst, "abc") == ["ab", "c"])
        let doubling = try Self.make(extra: ["aa", "aaaa"], merges: ["a a", "aa aa"])
        #expect(pieces(doubling, "aaa") == ["aa", "a"])
        #expect(pieces(doubling, "aaaaa") == ["aaaa", "a"])
        #expect(pieces(doubling, String(repeating: "a", count: 203)) == Array(repeating: "aaaa", count: 50) + ["aa", "a"])
    }

    @Test("ignore_merges takes a whole piece that is in the vocabulary; Llama 3 sets it by default")
    func ignoreMerges() throws {
        let merging = try Self.make(extra: ["ab", "abc"], merges: ["a b"], ignoreMerges: false)
        #expect(pieces(merging, "abc") == ["ab", "c"])
        let whole = try Self.make(extra: ["ab", "abc"], merges: ["a b"], ignoreMerges: true)
        #expect(pieces(whole, "abc") == ["abc"])
        #expect(pieces(whole, "abcd") == ["ab", "c", "d"])
        let llama3 = try Self.make(extra: ["ab", "abc"], merges: ["a b"], kind: .llama3)
        #expect(pieces(llama3, "abc") == ["abc"])
    }

    @Test("special tokens: leftmost, then longest, never split by the pre-tokenizer")
    func specialTokens() throws {
        let tokenizer = try Self.make(extra: ["<s>", "<s><t>", "t>"], specials: ["<s>", "<s><t>", "t>"])
        let s = try #require(tokenizer.tokenId(of: "<s>")), st = try #require(tokenizer.tokenId(of: "<s><t>"))
        let t = try #require(tokenizer.tokenId(of: "t>"))
        #expect(tokenizer.encode("x<s><t>y") == [tokenizer.tokenId(of: "x")!, st, tokenizer.tokenId(of: "y")!])
        #expect(tokenizer.encode("<s><t") == [s, tokenizer.tokenId(of: "<")!, tokenizer.tokenId(of: "t")!])
        #expect(tokenizer.encode("<t>") == [tokenizer.tokenId(of: "<")!, t])
        #expect(tokenizer.decode(tokenizer.encode("a <s> b<s><t>")) == "a <s> b<s><t>")
        // Without a special list, the text is ordinary.
        let plain = try Self.make(extra: ["<s>"])
        #expect(plain.encode("<s>").count == 3)
    }

    @Test("unknown, control and user-defined token types are special, others are not")
    func specialsFromTypes() throws {
        let extra = ["<c>", "<u>", "<n>", "<x>", "<unk>", "<b>"]
        let types = Array(repeating: 1, count: 256) + [3, 4, 1, 5, 2, 6]
        let tokenizer = try Self.make(extra: extra, types: types)
        #expect(tokenizer.encode("<c><u><unk>") == [256, 257, 260])
        #expect(tokenizer.encode("<n>").count == 3)
        #expect(tokenizer.encode("<x>").count == 3)
        #expect(tokenizer.encode("<b>").count == 3)
        #expect(tokenizer.specialTokenIds == [256, 257, 260])
    }

    @Test("BOS is added only when asked")
    func bos() throws {
        let adding = try Self.make(extra: ["<bos>"], types: Array(repeating: 1, count: 256) + [3], bos: 256, addBos: true)
        #expect(adding.encode("") == [256])
        #expect(adding.encode("a") == [256, adding.tokenId(of: "a")!])
        #expect(adding.encode("<bos>a") == [256, 256, adding.tokenId(of: "a")!])
        let notAdding = try Self.make(extra: ["<bos>"], bos: 256, addBos: false)
        #expect(notAdding.encode("a") == [notAdding.tokenId(of: "a")!])
    }

    @Test("a byte missing from the vocabulary is dropped, as tokenizers drops it")
    func missingByte() throws {
        let tokenizer = try Self.make(dropping: ["b"])
        #expect(pieces(tokenizer, "abc") == ["a", "c"])
        #expect(tokenizer.decode(tokenizer.encode("abc")) == "ac")
    }

    @Test("decoding is exact bytes; a split character decodes lossily only as text")
    func decoding() throws {
        let tokenizer = try Self.make()
        let ids = tokenizer.encode("é😀")
        #expect(ids.count == 6)
        #expect(tokenizer.decodeBytes(ids) == Array("é😀".utf8))
        #expect(tokenizer.decode(Array(ids.prefix(3))) == "é\u{FFFD}")
        #expect(tokenizer.piece(ids[0]) == "\u{FFFD}")
        #expect(tokenizer.token(ids[0]) == "Ã")
    }

    @Test("GGUF pre-tokenizer names; an unknown or absent one is an error naming it and the known ones")
    func ggufNames() throws {
        #expect(try PreTokenizerKind(ggufPre: "smollm", file: "m.gguf") == .smollm)
        #expect(try PreTokenizerKind(ggufPre: "llama-bpe", file: "m.gguf") == .llama3)
        #expect(try PreTokenizerKind(ggufPre: "llama3", file: "m.gguf") == .llama3)
        #expect(try PreTokenizerKind(ggufPre: "gpt2", file: "m.gguf") == .gpt2)
        #expect(try PreTokenizerKind(ggufPre: "qwen2", file: "m.gguf") == .qwen2)
        for name in ["default", "falcon", "Qwen2"] {
            let error = #expect(throws: TokenizerError.self) { try PreTokenizerKind(ggufPre: name, file: "m.gguf") }
            #expect(error?.file == "m.gguf")
            #expect(error?.field == "tokenizer.ggml.pre")
            #expect(error?.reason.contains("'\(name)'") == true)
            #expect(error?.reason.contains("smollm, llama-bpe") == true)
        }
        let missing = #expect(throws: TokenizerError.self) { try PreTokenizerKind(ggufPre: nil, file: "m.gguf") }
        #expect(missing?.reason.hasPrefix("missing") == true)
    }

    @Test("the initialiser names what is wrong")
    func rejections() {
        let cases: [(String, () throws -> BPETokenizer)] = [
            ("tokens", { try BPETokenizer(tokens: [], merges: [], tokenTypes: nil, preTokenizer: .gpt2, bosTokenId: nil, eosTokenId: nil, addBosToken: false, source: "test") }),
            ("token_type", { try Self.make(types: [1, 1]) }),
            ("bos_token_id", { try Self.make(bos: 256) }),
            ("bos_token_id", { try Self.make(bos: -1) }),
            ("add_bos_token", { try Self.make(addBos: true) }),
            ("merges[0]", { try Self.make(merges: ["ab"]) }),
            ("merges[0]", { try Self.make(merges: ["a b c"]) }),
            ("merges[0]", { try Self.make(merges: [" a"]) }),
            ("merges[1]", { try Self.make(extra: ["ab"], merges: ["a b", "ab c"]) }),
            ("merges[0]", { try Self.make(extra: ["ab"], merges: ["a x y"]) }),
            ("merges[0]", { try Self.make(merges: ["a b"]) }),
            ("special_tokens", { try Self.make(specials: ["<absent>"]) }),
            ("special_tokens", { try Self.make(specials: [""]) }),
        ]
        for (field, build) in cases {
            do {
                _ = try build()
                Issue.record("expected a rejection of \(field)")
            } catch let error as TokenizerError {
                #expect(error.field == field, "\(error)")
                #expect(error.file == "test")
            } catch {
                Issue.record("not a TokenizerError: \(error)")
            }
        }
    }
}
