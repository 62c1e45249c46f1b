// Reads a Hugging Face tokenizer.json (and the tokenizer_config.json beside it, if any) into a
// BPETokenizer, or hands a SentencePiece-style file to SentencePieceJSON.swift. It accepts the
// shapes Lazarus can reproduce exactly and rejects every other one by name, rather than
// tokenizing differently from the reference.

import Foundation

/// Loads whichever tokenizer a tokenizer.json describes.
public enum TokenizerJSON {
    /// A SentencePiece-style file (a Metaspace pre-tokenizer, or a normalizer writing spaces as
    /// "▁") becomes a SentencePieceTokenizer, any other a byte-level BPETokenizer.
    public static func load(_ url: URL) throws -> any TextTokenizer {
        let (file, config, name) = try BPETokenizer.read(url)
        if file.isSentencePieceStyle { return try file.makeSentencePieceTokenizer(name: name, config: config) }
        return try file.makeTokenizer(name: name, config: config)
    }
}

extension BPETokenizer {
    /// The largest tokenizer.json read; real ones are below 40 MB.
    static let largestTokenizerJSON = 256 << 20

    /// Loads a `tokenizer.json`.
    ///
    /// - `model`: BPE with `vocab` and `merges` (as `"a b"` strings or `["a", "b"]` pairs);
    ///   no dropout, byte fallback, subword prefix or word suffix; `ignore_merges` honoured.
    /// - `added_tokens`: all recognised in text (with no normalizer, special and non-special
    ///   added tokens are matched alike); `lstrip`, `rstrip` and `single_word` are rejected.
    /// - `normalizer`: must be null.
    /// - `pre_tokenizer`: ByteLevel (→ `.gpt2`), Sequence[Digits(individual), ByteLevel]
    ///   (→ `.smollm`), Sequence[Split(Llama 3 regex, Isolated), ByteLevel(use_regex false)]
    ///   (→ `.llama3`); `add_prefix_space` must be false.
    /// - `post_processor`: ByteLevel, or TemplateProcessing whose single template is an optional
    ///   leading special token and `$A` (that token is then BOS, added by `encode`), or a
    ///   Sequence of those.
    /// - `decoder`: ByteLevel or null.
    /// EOS (and BOS when no template names one) come from `tokenizer_config.json` in the same
    /// folder, when it exists (`eos_token`, `bos_token`: a string or `{"content": …}`).
    public static func load(tokenizerJSON url: URL) throws -> BPETokenizer {
        let (file, config, name) = try read(url)
        return try file.makeTokenizer(name: name, config: config)
    }

    static func read(_ url: URL) throws -> (TokenizerJSONFile, TokenizerConfigFile?, String) {
        // The whole path: a basename alone does not say which model folder's tokenizer.json is wrong.
        let name = url.path
        let data = try readBounded(url, name: name)
        var file: TokenizerJSONFile
        do {
            file = try JSONDecoder().decode(TokenizerJSONFile.self, from: data)
        } catch let error as DecodingError {
            throw TokenizerError(file: name, field: error.jsonPath, reason: error.plainReason)
        } catch {
            throw TokenizerError(file: name, field: "(file)", reason: "not valid JSON: \(error)")
        }
        do {
            file.exactVocabulary = try VocabularyScanner.vocabulary(in: Array(data))
        } catch let failure as VocabularyScanner.Failure {
            throw TokenizerError(file: name, field: "model.vocab", reason: failure.reason)
        }
        let config = try TokenizerConfigFile.load(beside: url)
        return (file, config, name)
    }

    fileprivate static func readBounded(_ url: URL, name: String) throws -> Data {
        let size: Int
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
            size = (attributes[.size] as? NSNumber)?.intValue ?? 0
        } catch {
            throw TokenizerError(file: name, field: "(file)", reason: "cannot be read: \(error.localizedDescription)")
        }
        guard size <= largestTokenizerJSON else {
            throw TokenizerError(file: name, field: "(file)", reason: "\(size) bytes is more than the \(largestTokenizerJSON) accepted")
        }
        do {
            return try Data(contentsOf: url)
        } catch {
            throw TokenizerError(file: name, field: "(file)", reason: "cannot be read: \(error.localizedDescription)")
        }
    }
}

/// The Llama 3 split pattern exactly as Meta's tokenizer.json writes it.
let llama3SplitPattern = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
/// o200k's split pattern (GPT-OSS's tokenizer.json, tiktoken's o200k_base) exactly as written.
let o200kSplitPattern = #"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
/// Qwen2's (and Qwen3's) split pattern exactly as its tokenizer.json writes it.
let qwen2SplitPattern = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

// MARK: - The file's shape

struct TokenizerJSONFile: Decodable {
    struct Model: Decodable {
        let type: String?
        let vocab: [String: Int]
        let merges: [Merge]
        let dropout: Double?
        let byte_fallback: Bool?
        let continuing_subword_prefix: String?
        let end_of_word_suffix: String?
        let ignore_merges: Bool?
        let unk_token: String?
        let fuse_unk: Bool?
    }

    /// A merge in either of the two forms `tokenizers` writes.
    struct Merge: Decodable {
        let left: String
        let right: String

        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) {
                let parts = text.split(separator: " ", omittingEmptySubsequences: false)
                guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                    throw DecodingError.dataCorruptedError(in: container, debugDescription: "merge \(text.debugDescription) is not two tokens separated by one space")
                }
                left = String(parts[0])
                right = String(parts[1])
            } else if let pair = try? container.decode([String].self) {
                guard pair.count == 2, !pair[0].isEmpty, !pair[1].isEmpty else {
                    throw DecodingError.dataCorruptedError(in: container, debugDescription: "merge pair has \(pair.count) entries, not two non-empty tokens")
                }
                left = pair[0]
                right = pair[1]
            } else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "a merge is neither \"a b\" nor [\"a\", \"b\"]")
            }
        }
    }

    struct AddedToken: Decodable {
        let id: Int
        let content: String
        let special: Bool?
        let lstrip: Bool?
        let rstrip: Bool?
        let single_word: Bool?
        let normalized: Bool?
    }

    let model: Model
    let added_tokens: [AddedToken]?
    let normalizer: JSONValue?
    let pre_tokenizer: JSONValue?
    let post_processor: JSONValue?
    let decoder: JSONValue?
    /// `model.vocab` as the file writes it, keys byte for byte (VocabularyScanner.swift);
    /// `model.vocab` above may have merged canonically equivalent keys.
    var exactVocabulary: [(text: String, id: Int)]?

    private enum CodingKeys: String, CodingKey {
        case model, added_tokens, normalizer, pre_tokenizer, post_processor, decoder
    }

    func makeTokenizer(name: String, config: TokenizerConfigFile?) throws -> BPETokenizer {
        func reject(_ field: String, _ reason: String) -> TokenizerError {
            TokenizerError(file: name, field: field, reason: reason)
        }
        if let type = model.type, type != "BPE" { throw reject("model.type", "\(type) models are not supported, only BPE") }
        if let dropout = model.dropout, dropout != 0 { throw reject("model.dropout", "BPE dropout \(dropout) is not supported") }
        if model.byte_fallback == true { throw reject("model.byte_fallback", "byte fallback is not supported (a byte-level BPE has no need of it)") }
        if let prefix = model.continuing_subword_prefix, !prefix.isEmpty { throw reject("model.continuing_subword_prefix", "subword prefixes are not supported") }
        if let suffix = model.end_of_word_suffix, !suffix.isEmpty { throw reject("model.end_of_word_suffix", "word suffixes are not supported") }
        // NFC is Qwen2's; any other normalizer changes text in ways the byte-level path does not reproduce.
        let nfc = normalizer?.typeName == "NFC"
        if let normalizer, normalizer != .null, !nfc { throw reject("normalizer", "only NFC or no normalizer is supported for byte-level BPE (found \(normalizer.typeName))") }
        if let decoder, decoder != .null, decoder.typeName != "ByteLevel" {
            throw reject("decoder", "only the ByteLevel decoder is supported (found \(decoder.typeName))")
        }
        let kind = try preTokenizerKind(pre_tokenizer ?? .null, reject: reject)
        let vocabulary = try vocabularyByID(reject: reject)
        let added = added_tokens ?? []
        let templateBos = try bosFromPostProcessor(post_processor ?? .null, reject: reject)
        let (bos, eos) = try bosAndEos(name: name, config: config, templateBos: templateBos)
        return try BPETokenizer(
            tokens: vocabulary, merges: model.merges.map { $0.left + " " + $0.right }, tokenTypes: nil,
            preTokenizer: kind, bosTokenId: bos, eosTokenId: eos, addBosToken: templateBos != nil,
            specialTokens: added.map(\.content), source: name, ignoreMerges: model.ignore_merges ?? false, normalizeToNFC: nfc)
    }

    /// The BOS id (from the post-processor's template, else tokenizer_config.json) and the EOS id.
    func bosAndEos(name: String, config: TokenizerConfigFile?, templateBos: Int?) throws -> (Int?, Int?) {
        let added = added_tokens ?? []
        func id(of text: String?, field: String) throws -> Int? {
            guard let text else { return nil }
            guard let id = added.last(where: { $0.content == text })?.id ?? model.vocab[text] else {
                throw TokenizerError(file: "tokenizer_config.json", field: field, reason: "\(text.debugDescription) is not in \(name)")
            }
            return id
        }
        return (try templateBos ?? id(of: config?.bosToken, field: "bos_token"), try id(of: config?.eosToken, field: "eos_token"))
    }

    /// The vocabulary and the added tokens as one array indexed by id, every id given exactly once.
    func vocabularyByID(reject: (String, String) -> TokenizerError) throws -> [String] {
        let added = added_tokens ?? []
        let entries = exactVocabulary ?? model.vocab.map { (text: $0.key, id: $0.value) }
        let entryCount = entries.count + added.count
        var tokens = [String?](repeating: nil, count: entryCount)
        for (text, id) in entries {
            guard id >= 0 && id < entryCount else { throw reject("model.vocab[\(text.debugDescription)]", "id \(id) is outside 0..<\(entryCount)") }
            if let other = tokens[id] { throw reject("model.vocab", "id \(id) is given to both \(other.debugDescription) and \(text.debugDescription)") }
            tokens[id] = text
        }
        for (index, token) in added.enumerated() {
            let field = "added_tokens[\(index)]"
            guard token.id >= 0 && token.id < entryCount else { throw reject(field, "id \(token.id) is outside 0..<\(entryCount)") }
            if let existing = tokens[token.id], !existing.utf8.elementsEqual(token.content.utf8) {
                throw reject(field, "id \(token.id) is \(token.content.debugDescription) here but \(existing.debugDescription) in model.vocab")
            }
            if token.lstrip == true || token.rstrip == true || token.single_word == true {
                throw reject(field, "\(token.content.debugDescription): lstrip, rstrip and single_word are not supported")
            }
            if token.content.isEmpty { throw reject(field, "an empty added token would match everywhere") }
            tokens[token.id] = token.content
        }
        let size = (tokens.lastIndex { $0 != nil } ?? -1) + 1
        var vocabulary: [String] = []
        vocabulary.reserveCapacity(size)
        for id in 0..<size {
            guard let text = tokens[id] else { throw reject("model.vocab", "no token has id \(id), below the largest id \(size - 1)") }
            vocabulary.append(text)
        }

        return vocabulary
    }

    private func preTokenizerKind(_ value: JSONValue, reject: (String, String) -> TokenizerError) throws -> PreTokenizerKind {
        let field = "pre_tokenizer"
        func byteLevel(_ stage: JSONValue, useRegex expected: Bool) -> Bool {
            stage.typeName == "ByteLevel" && stage["add_prefix_space"]?.bool == false
                && (stage["use_regex"]?.bool ?? true) == expected
        }
        var stages = [value]
        if value.typeName == "Sequence" { stages = value["pretokenizers"]?.array ?? [] }
        switch stages.count {
        case 1 where byteLevel(stages[0], useRegex: true):
            return .gpt2
        case 2 where stages[0].typeName == "Digits" && stages[0]["individual_digits"]?.bool == true
            && byteLevel(stages[1], useRegex: true):
            return .smollm
        case 2 where stages[0].typeName == "Split" && stages[0]["pattern"]?["Regex"]?.string == llama3SplitPattern
            && stages[0]["behavior"]?.string == "Isolated" && stages[0]["invert"]?.bool != true
            && byteLevel(stages[1], useRegex: false):
            return .llama3
        case 2 where stages[0].typeName == "Split" && stages[0]["pattern"]?["Regex"]?.string == qwen2SplitPattern
            && stages[0]["behavior"]?.string == "Isolated" && stages[0]["invert"]?.bool != true
            && byteLevel(stages[1], useRegex: false):
            return .qwen2
        case 2 where stages[0].typeName == "Split" && stages[0]["pattern"]?["Regex"]?.string == o200kSplitPattern
            && stages[0]["behavior"]?.string == "Isolated" && stages[0]["invert"]?.bool != true
            && byteLevel(stages[1], useRegex: false):
            return .gpt4o
        default:
            let found = stages.map(\.typeName).joined(separator: ", ")
            throw reject(field, "unsupported pre-tokenizer [\(found)]: expected GPT-2 ByteLevel, SmolLM2's Digits + ByteLevel, or Llama 3's, Qwen2's or o200k's Split + ByteLevel, with add_prefix_space false")
        }
    }

    /// The BOS id a post-processor adds in front of a single sequence, nil if it adds none.
    func bosFromPostProcessor(_ value: JSONValue, reject: (String, String) -> TokenizerError) throws -> Int? {
        let field = "post_processor"
        switch value.typeName {
        case "null", "ByteLevel":
            return nil
        case "Sequence":
            var bos: Int?
            for stage in value["processors"]?.array ?? [] {
                if let id = try bosFromPostProcessor(stage, reject: reject) {
                    if bos != nil { throw reject(field, "two processors add a leading token") }
                    bos = id
                }
            }
            return bos
        case "TemplateProcessing":
            guard let single = value["single"]?.array else { throw reject(field + ".single", "missing") }
            let sequenceAt = single.firstIndex { $0["Sequence"] != nil }
            guard let sequenceAt, sequenceAt == single.count - 1, sequenceAt <= 1 else {
                throw reject(field + ".single", "only \"[SPECIAL] $A\" or \"$A\" templates are supported")
            }
            if sequenceAt == 0 { return nil }
            guard let name = single[0]["SpecialToken"]?["id"]?.string else { throw reject(field + ".single[0]", "not a special token") }
            guard let ids = value["special_tokens"]?[name]?["ids"]?.array, ids.count == 1, let id = ids[0].int else {
                throw reject(field + ".special_tokens", "\(name.debugDescription) must map to exactly one id")
            }
            return id
        default:
            throw reject(field, "unsupported post-processor \(value.typeName)")
        }
    }
}

/// What Lazarus reads of tokenizer_config.json: the names of BOS and EOS.
struct TokenizerConfigFile {
    let bosToken: String?
    let eosToken: String?

    static func load(beside url: URL) throws -> TokenizerConfigFile? {
        let configURL = url.deletingLastPathComponent().appendingPathComponent("tokenizer_config.json")
        guard FileManager.default.fileExists(atPath: configURL.path) else { return nil }
        let name = configURL.path
        let data = try BPETokenizer.readBounded(configURL, name: name)
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw TokenizerError(file: name, field: "(file)", reason: "not valid JSON")
        }
        func tokenText(_ key: String) throws -> String? {
            guard let entry = value[key], entry != .null else { return nil }
            if let text = entry.string ?? entry["content"]?.string { return text }
            throw TokenizerError(file: name, field: key, reason: "neither a string nor {\"content\": string}")
        }
        return TokenizerConfigFile(bosToken: try tokenText("bos_token"), eosToken: try tokenText("eos_token"))
    }
}

// MARK: - Free-form JSON for the parts whose shape depends on their "type"

enum JSONValue: Decodable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    var string: String? { if case .string(let value) = self { return value }; return nil }
    var bool: Bool? { if case .bool(let value) = self { return value }; return nil }
    var array: [JSONValue]? { if case .array(let value) = self { return value }; return nil }
    var int: Int? {
        guard case .number(let value) = self, value.rounded() == value, abs(value) < 1e15 else { return nil }
        return Int(value)
    }

    /// The "type" member of a stage, "null" for null, or the JSON kind otherwise.
    var typeName: String {
        switch self {
        case .null: return "null"
        case .object(let members): return members["type"]?.string ?? "object without type"
        case .array: return "array"
        case .string: return "string"
        case .number: return "number"
        case .bool: return "bool"
        }
    }
}

private extension DecodingError {
    var context: Context? {
        switch self {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context),
             .dataCorrupted(let context):
            return context
        @unknown default:
            return nil
        }
    }

    var jsonPath: String {
        var path = context?.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined() ?? ""
        if case .keyNotFound(let key, _) = self { path += "." + key.stringValue }
        if path.hasPrefix(".") { path.removeFirst() }
        return path.isEmpty ? "(file)" : path
    }

    var plainReason: String {
        switch self {
        case .keyNotFound: return "missing"
        case .typeMismatch(let type, _): return "expected \(type)"
        case .valueNotFound(let type, _): return "expected \(type), found null"
        case .dataCorrupted(let context): return context.debugDescription
        @unknown default: return "unreadable"
        }
    }
}
