// tokenizer.json as untrusted input: truncated at many offsets, fields of the wrong type, ids out of range
// and numbers too large for any id each end in a TokenizerError naming tokenizer.json and the field.
import Foundation
import Testing
import Tokenizer

@Suite struct TokenizerJSONBadFileTests {
    static let fixture = Bundle.module.url(forResource: "tokenizer", withExtension: "json", subdirectory: "Fixtures/tiny_smollm")!

    /// Loads `bytes` as a tokenizer.json alone in a fresh folder; returns the error, or nil if it loaded.
    static func rejection(_ bytes: Data) throws -> TokenizerError? {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lazarus-badtok-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("tokenizer.json")
        try bytes.write(to: url)
        do {
            _ = try BPETokenizer.load(tokenizerJSON: url)
            return nil
        } catch let error as TokenizerError {
            return error
        }
    }

    static func edited(_ change: (inout [String: Any]) -> Void) throws -> Data {
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: fixture)) as! [String: Any]
        change(&json)
        return try JSONSerialization.data(withJSONObject: json)
    }

    static func setModel(_ json: inout [String: Any], _ key: String, _ value: Any) {
        var model = json["model"] as! [String: Any]
        model[key] = value
        json["model"] = model
    }

    @Test func truncatedAtManyOffsets() throws {
        let whole = try Data(contentsOf: Self.fixture)
        #expect(try Self.rejection(whole) == nil)
        var cuts = Array(stride(from: 0, to: whole.count, by: max(1, whole.count / 97)))
        cuts += [1, 2, whole.count - 2, whole.count - 1]
        for cut in cuts {
            // Only the closing brace and what follows it may go without changing the JSON.
            if whole.prefix(cut).last == UInt8(ascii: "}") && whole.suffix(from: cut).allSatisfy({ $0 == 0x0A || $0 == 0x20 }) { continue }
            let error = try Self.rejection(whole.prefix(cut))
            #expect(error?.file.hasSuffix("/tokenizer.json") == true, "cut at \(cut) of \(whole.count): \(error.map(\.description) ?? "loaded")")
            #expect(error?.field.isEmpty == false)
        }
    }

    @Test func wrongTypesNameTheField() throws {
        let cases: [(String, (inout [String: Any]) -> Void)] = [
            ("model", { $0["model"] = "BPE" }),
            ("model.vocab", { Self.setModel(&$0, "vocab", [1, 2, 3]) }),
            ("model.vocab", { Self.setModel(&$0, "vocab", ["a": "zero"]) }),
            ("model.merges", { Self.setModel(&$0, "merges", "a b") }),
            ("added_tokens", { $0["added_tokens"] = ["id": 0] }),
            ("added_tokens[0]", { $0["added_tokens"] = [["id": "0", "content": "<s>"]] }),
            ("added_tokens[0]", { $0["added_tokens"] = [["id": 0, "content": 7]] }),
            ("pre_tokenizer", { $0["pre_tokenizer"] = [1] }),
            ("decoder", { $0["decoder"] = "ByteLevel" }),
        ]
        for (field, change) in cases {
            let error = try Self.rejection(Self.edited(change))
            #expect(error?.file.hasSuffix("/tokenizer.json") == true)
            #expect(error?.field.hasPrefix(field) == true, "expected \(field), got \(error.map(\.description) ?? "loaded")")
        }
    }

    @Test func idsOutOfRangeAndHugeNumbers() throws {
        let huge: [Any] = [Int.max, Int.min, -1, 1 << 40, Double(1e300), Double(0.5)]
        for number in huge {
            let vocab = try Self.rejection(Self.edited { json in
                var vocab = (json["model"] as! [String: Any])["vocab"] as! [String: Any]
                vocab["Ġzz"] = number
                Self.setModel(&json, "vocab", vocab)
            })
            #expect(vocab?.file.hasSuffix("/tokenizer.json") == true, "vocab id \(number): \(vocab.map(\.description) ?? "loaded")")
            #expect(vocab?.field.isEmpty == false, "vocab id \(number): \(vocab.map(\.description) ?? "loaded")")
            let added = try Self.rejection(Self.edited { $0["added_tokens"] = [["id": number, "content": "<huge>", "special": true]] })
            #expect(added?.file.hasSuffix("/tokenizer.json") == true && added?.field.isEmpty == false, "added id \(number): \(added.map(\.description) ?? "loaded")")
        }
        // A number literal far beyond any integer type, written by hand since JSONSerialization would not.
        let text = String(decoding: try Data(contentsOf: Self.fixture), as: UTF8.self)
        let patched = text.replacingOccurrences(of: "\"added_tokens\":[", with: "\"added_tokens\":[{\"id\":1\(String(repeating: "0", count: 400)),\"content\":\"<x>\"},")
            .replacingOccurrences(of: "\"added_tokens\": [", with: "\"added_tokens\": [{\"id\": 1\(String(repeating: "0", count: 400)), \"content\": \"<x>\"},")
        #expect(patched != text, "the fixture's added_tokens array was not found")
        let literal = try Self.rejection(Data(patched.utf8))
        #expect(literal?.file.hasSuffix("/tokenizer.json") == true && literal?.field.isEmpty == false, "\(literal.map(\.description) ?? "loaded")")
    }
}
