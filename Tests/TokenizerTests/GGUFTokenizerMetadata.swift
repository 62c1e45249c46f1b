// Test-only: reads the tokenizer keys of a GGUF file's metadata so the tests can build the real
// SmolLM2 and Gemma 3 tokenizers. The production GGUF reader lives in ModelFiles; this one knows only what
// the tests need, and still checks every length against the file.

import Foundation
import Tokenizer

struct GGUFTokenizerMetadata {
    var tokens: [String] = []
    var merges: [String] = []
    var tokenTypes: [Int]?
    var pre: String?
    var bosTokenId: Int?
    var eosTokenId: Int?
    var addBosToken: Bool?
    var architecture: String?
    var model: String?
    var scores: [Float]?
    var unknownTokenId: Int?
    var paddingTokenId: Int?
    var addSpacePrefix: Bool?

    struct ReadError: Error, CustomStringConvertible {
        let description: String
    }

    static func read(_ url: URL) throws -> GGUFTokenizerMetadata {
        let data = try Data(contentsOf: url, options: .alwaysMapped)
        var reader = Reader(bytes: data)
        guard try reader.u32() == 0x4655_4747 else { throw ReadError(description: "\(url.lastPathComponent): not a GGUF file") }
        let version = try reader.u32()
        guard version == 2 || version == 3 else { throw ReadError(description: "GGUF version \(version) is not 2 or 3") }
        _ = try reader.u64()  // tensor count
        let keyCount = try reader.u64()
        var metadata = GGUFTokenizerMetadata()
        for _ in 0..<keyCount {
            let key = try reader.string()
            let type = try reader.u32()
            switch (key, type) {
            case ("tokenizer.ggml.tokens", 9): metadata.tokens = try reader.stringArray()
            case ("tokenizer.ggml.merges", 9): metadata.merges = try reader.stringArray()
            case ("tokenizer.ggml.token_type", 9): metadata.tokenTypes = try reader.intArray()
            case ("tokenizer.ggml.pre", 8): metadata.pre = try reader.string()
            case ("tokenizer.ggml.bos_token_id", 4): metadata.bosTokenId = Int(try reader.u32())
            case ("tokenizer.ggml.eos_token_id", 4): metadata.eosTokenId = Int(try reader.u32())
            case ("tokenizer.ggml.add_bos_token", 7): metadata.addBosToken = try reader.u8() != 0
            case ("tokenizer.ggml.add_space_prefix", 7): metadata.addSpacePrefix = try reader.u8() != 0
            case ("tokenizer.ggml.unknown_token_id", 4): metadata.unknownTokenId = Int(try reader.u32())
            case ("tokenizer.ggml.padding_token_id", 4): metadata.paddingTokenId = Int(try reader.u32())
            case ("tokenizer.ggml.model", 8): metadata.model = try reader.string()
            case ("general.architecture", 8): metadata.architecture = try reader.string()
            case ("tokenizer.ggml.scores", 9): metadata.scores = try reader.floatArray()
            default: try reader.skipValue(type: type)
            }
        }
        return metadata
    }

    /// The keys as the production loader hands them to the Tokenizer target.
    var vocabulary: GGUFVocabulary {
        var vocabulary = GGUFVocabulary()
        vocabulary.architecture = architecture
        vocabulary.model = model
        vocabulary.pre = pre
        vocabulary.tokens = tokens
        vocabulary.scores = scores
        vocabulary.tokenTypes = tokenTypes
        vocabulary.merges = merges.isEmpty ? nil : merges
        vocabulary.bosTokenId = bosTokenId
        vocabulary.eosTokenId = eosTokenId
        vocabulary.unknownTokenId = unknownTokenId
        vocabulary.paddingTokenId = paddingTokenId
        vocabulary.addBosToken = addBosToken
        vocabulary.addSpacePrefix = addSpacePrefix
        return vocabulary
    }

    func makeTokenizer(preTokenizer: PreTokenizerKind? = nil) throws -> BPETokenizer {
        try BPETokenizer(tokens: tokens, merges: merges, tokenTypes: tokenTypes,
                         preTokenizer: try preTokenizer ?? PreTokenizerKind(ggufPre: pre, file: "SmolLM2 GGUF"),
                         bosTokenId: bosTokenId, eosTokenId: eosTokenId, addBosToken: addBosToken ?? false,
                         source: "SmolLM2 GGUF")
    }
}

private struct Reader {
    let bytes: Data
    var offset: Int

    init(bytes: Data) {
        self.bytes = bytes
        self.offset = bytes.startIndex
    }

    mutating func take(_ count: Int) throws -> Data {
        guard count >= 0, count <= bytes.endIndex - offset else {
            throw GGUFTokenizerMetadata.ReadError(description: "\(count) bytes wanted at offset \(offset), past the end")
        }
        defer { offset += count }
        return bytes[offset..<(offset + count)]
    }

    mutating func little(_ width: Int) throws -> UInt64 {
        var value: UInt64 = 0
        for (shift, byte) in try take(width).enumerated() { value |= UInt64(byte) << (8 * UInt64(shift)) }
        return value
    }

    mutating func u8() throws -> UInt8 { UInt8(try little(1)) }
    mutating func u32() throws -> UInt32 { UInt32(try little(4)) }
    mutating func u64() throws -> UInt64 { try little(8) }

    mutating func count() throws -> Int {
        let value = try u64()
        guard value <= UInt64(bytes.endIndex - offset) else {
            throw GGUFTokenizerMetadata.ReadError(description: "count \(value) at offset \(offset) exceeds the file")
        }
        return Int(value)
    }

    mutating func string() throws -> String {
        let length = try count()
        return String(decoding: try take(length), as: UTF8.self)
    }

    mutating func stringArray() throws -> [String] {
        guard try u32() == 8 else { throw GGUFTokenizerMetadata.ReadError(description: "array of non-strings") }
        let length = try count()
        return try (0..<length).map { _ in try string() }
    }

    mutating func intArray() throws -> [Int] {
        let elementType = try u32()
        guard elementType == 5 || elementType == 4 else { throw GGUFTokenizerMetadata.ReadError(description: "token types of type \(elementType)") }
        let length = try count()
        return try (0..<length).map { _ in Int(Int32(bitPattern: try u32())) }
    }

    mutating func floatArray() throws -> [Float] {
        guard try u32() == 6 else { throw GGUFTokenizerMetadata.ReadError(description: "scores are not float32") }
        let length = try count()
        guard length <= (bytes.endIndex - offset) / 4 else { throw GGUFTokenizerMetadata.ReadError(description: "scores exceed the file") }
        return try (0..<length).map { _ in Float(bitPattern: try u32()) }
    }

    static let scalarWidths: [UInt32: Int] = [0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8]

    mutating func skipValue(type: UInt32) throws {
        if let width = Self.scalarWidths[type] {
            _ = try take(width)
        } else if type == 8 {
            _ = try string()
        } else if type == 9 {
            let elementType = try u32()
            let length = try count()
            if let width = Self.scalarWidths[elementType] {
                guard length <= (bytes.endIndex - offset) / width else { throw GGUFTokenizerMetadata.ReadError(description: "array exceeds the file") }
                _ = try take(length * width)
            } else {
                for _ in 0..<length { try skipValue(type: elementType) }
            }
        } else {
            throw GGUFTokenizerMetadata.ReadError(description: "unknown metadata type \(type)")
        }
    }
}
