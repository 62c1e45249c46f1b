// The o200k split rule (GPT-OSS's tokenizer.json, llama.cpp's `gpt-4o`) against Hugging Face `tokenizers`
// running the pattern itself (o200k_splits.json from tools/make_o200k_split_reference.py): every piece of
// 1384 texts, capitals inside words, titlecase, modifier letters and marks, contractions, slashes after
// punctuation, every kind of white space. And both ways a file names the rule.
import Foundation
import Testing
@testable import Tokenizer

@Suite struct O200kPreTokenizerTests {
    struct Reference: Decodable {
        struct Case: Decodable { var text: String; var pieces: [String] }
        var pattern: String
        var cases: [Case]
    }

    static func pieces(_ text: String) -> [String] {
        let scanned = ScannedText(text.unicodeScalars)
        var out: [String] = []
        PreTokenizer(kind: .gpt4o).split(scanned) { range in
            var piece = String.UnicodeScalarView()
            piece.append(contentsOf: scanned.scalars[range])
            out.append(String(piece))
        }
        return out
    }

    @Test func splitsAsTokenizersDoes() throws {
        let reference = try Fixtures.decode(Reference.self, "o200k_splits")
        #expect(reference.pattern == o200kSplitPattern, "the fixture's pattern is the one a tokenizer.json is matched against")
        #expect(reference.cases.count > 1000)
        var differing: [String] = []
        for c in reference.cases where Self.pieces(c.text) != c.pieces { differing.append(c.text.debugDescription) }
        #expect(differing.isEmpty, "\(differing.count) texts split differently, e.g. \(differing.prefix(5))")
    }

    @Test func filesNameTheRule() throws {
        #expect(try PreTokenizerKind(ggufPre: "gpt-4o", file: "x.gguf") == .gpt4o)
        // The tiny Llama 3 tokenizer.json with GPT-OSS's pattern in its Split stage reads as o200k.
        let source = try #require(Fixtures.url("tokenizer", "json", in: "Fixtures/tiny_llama3"))
        var json = try String(contentsOf: source, encoding: .utf8)
        let encodedLlama3 = String(data: try JSONEncoder().encode(llama3SplitPattern), encoding: .utf8)!
        let encodedO200k = String(data: try JSONEncoder().encode(o200kSplitPattern), encoding: .utf8)!
        #expect(json.contains(encodedLlama3))
        json = json.replacingOccurrences(of: encodedLlama3, with: encodedO200k)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lazarus-o200k-\(ProcessInfo.processInfo.processIdentifier)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("tokenizer.json")
        try json.write(to: url, atomically: true, encoding: .utf8)
        #expect(try BPETokenizer.load(tokenizerJSON: url).preTokenizerKind == .gpt4o)
    }
}
