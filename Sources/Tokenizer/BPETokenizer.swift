// The byte-level BPE tokenizer Lazarus uses for every model: built from a vocabulary and merges
// (GGUF metadata, or tokenizer.json via TokenizerJSON.swift), it chains the stages (special
// tokens, pre-tokenizer, BPE model, byte-level decoder). It reads no file itself.

import Foundation

/// A byte-level BPE tokenizer whose ids match Hugging Face `tokenizers` for the GPT-2, SmolLM2
/// and Llama 3 families. Immutable after construction except for an internal, locked word
/// cache, so it may be shared across threads.
public final class BPETokenizer: TextTokenizer, @unchecked Sendable {
    public let bosTokenId: Int?
    public let eosTokenId: Int?
    /// Whether `encode` puts the BOS token first (the model's metadata says so).
    public let addsBosToken: Bool
    public let preTokenizerKind: PreTokenizerKind
    /// The texts recognised as special tokens in `encode`'s input, by id.
    public let specialTokenIds: [Int]
    /// Whether plain text is put in Unicode NFC before splitting (Qwen2's tokenizer.json asks for it).
    public let normalizesToNFC: Bool

    /// Vocabulary entries in their stored, byte-level form ("Ġadd").
    private let tokens: [String]
    private let idOfToken: [String: Int]
    private let model: BytePairModel
    private let preTokenizer: PreTokenizer
    private let specialTokens: SpecialTokenMatcher
    private let tokenBytes: TokenBytes

    /// Builds a tokenizer from a vocabulary, checking every count and id against it.
    ///
    /// - Parameters:
    ///   - tokens: the vocabulary, id = index, in byte-level form (GGUF `tokenizer.ggml.tokens`).
    ///   - merges: `"left right"` strings, highest priority first (`tokenizer.ggml.merges`).
    ///   - tokenTypes: GGUF `tokenizer.ggml.token_type` (1 normal, 2 unknown, 3 control,
    ///     4 user-defined, 5 unused, 6 byte); when `specialTokens` is nil, unknown, control and
    ///     user-defined tokens are the ones recognised in text, as llama.cpp does (and as
    ///     `tokenizers` does with the added tokens those types come from).
    ///   - specialTokens: explicit texts to recognise in text; each must be in `tokens`.
    ///   - source: the file name the description came from, for errors.
    ///   - ignoreMerges: take a piece that is itself in the vocabulary whole, as Llama 3 does;
    ///     nil means "as the family does": true for `.llama3` (llama.cpp sets it for that
    ///     pre-tokenizer), false otherwise.
    ///   - normalizeToNFC: put plain text (not special tokens) in NFC first, as a tokenizer.json
    ///     with an `NFC` normalizer does.
    public init(tokens: [String], merges: [String], tokenTypes: [Int]?, preTokenizer: PreTokenizerKind,
                bosTokenId: Int?, eosTokenId: Int?, addBosToken: Bool, specialTokens: [String]? = nil,
                source: String, ignoreMerges: Bool? = nil, normalizeToNFC: Bool = false) throws {
        func reject(_ field: String, _ reason: String) -> TokenizerError {
            TokenizerError(file: source, field: field, reason: reason)
        }
        guard !tokens.isEmpty else { throw reject("tokens", "the vocabulary is empty") }
        // Ids are stored as Int32 in the merge table.
        guard tokens.count < Int(Int32.max) else { throw reject("tokens", "\(tokens.count) tokens is more than ids can hold") }
        if let tokenTypes, tokenTypes.count != tokens.count {
            throw reject("token_type", "\(tokenTypes.count) token types for \(tokens.count) tokens")
        }
        for (field, id) in [("bos_token_id", bosTokenId), ("eos_token_id", eosTokenId)] {
            if let id, !(0..<tokens.count).contains(id) {
                throw reject(field, "id \(id) is outside the vocabulary of \(tokens.count) tokens")
            }
        }
        if addBosToken && bosTokenId == nil { throw reject("add_bos_token", "BOS is to be added but no BOS token id is given") }

        // A vocabulary listing a text twice resolves to its last id, as `tokenizers` and
        // llama.cpp do when they build their maps.
        var idOfToken: [String: Int] = [:]
        idOfToken.reserveCapacity(tokens.count)
        for (id, token) in tokens.enumerated() { idOfToken[token] = id }

        var specials: [(text: String, id: Int)] = []
        if let specialTokens {
            for text in specialTokens {
                guard !text.isEmpty else { throw reject("special_tokens", "an empty special token would match everywhere") }
                guard let id = idOfToken[text] else { throw reject("special_tokens", "special token \(text.debugDescription) is not in the vocabulary") }
                specials.append((text, id))
            }
        } else if let tokenTypes {
            for (id, type) in tokenTypes.enumerated() where (type == 2 || type == 3 || type == 4) && !tokens[id].isEmpty {
                specials.append((tokens[id], id))
            }
        }

        var byteTokens = [Int32](repeating: -1, count: 256)
        for byte in 0..<256 {
            if let id = idOfToken[String(ByteLevelAlphabet.scalarForByte[byte])] { byteTokens[byte] = Int32(id) }
        }

        var mergeTable: [UInt64: MergeResult] = [:]
        mergeTable.reserveCapacity(merges.count)
        for (rank, merge) in merges.enumerated() {
            let parts = merge.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw reject("merges[\(rank)]", "\(merge.debugDescription) is not two tokens separated by one space")
            }
            let left = String(parts[0]), right = String(parts[1])
            guard let leftId = idOfToken[left], let rightId = idOfToken[right] else {
                throw reject("merges[\(rank)]", "\(merge.debugDescription) names a token that is not in the vocabulary")
            }
            guard let mergedId = idOfToken[left + right] else {
                throw reject("merges[\(rank)]", "\(merge.debugDescription) makes \((left + right).debugDescription), which is not in the vocabulary")
            }
            // A repeated pair keeps its last rank, as in `tokenizers`.
            mergeTable[BytePairModel.pairKey(Int32(leftId), Int32(rightId))] = MergeResult(rank: Int64(rank), merged: Int32(mergedId))
        }

        self.tokens = tokens
        self.idOfToken = idOfToken
        self.bosTokenId = bosTokenId
        self.eosTokenId = eosTokenId
        self.addsBosToken = addBosToken
        self.preTokenizerKind = preTokenizer
        self.normalizesToNFC = normalizeToNFC
        self.preTokenizer = PreTokenizer(kind: preTokenizer)
        self.specialTokens = SpecialTokenMatcher(tokens: specials)
        self.specialTokenIds = Array(Set(specials.map(\.id))).sorted()
        self.tokenBytes = TokenBytes(tokens: tokens)
        self.model = BytePairModel(byteTokens: byteTokens, merges: mergeTable,
                                   ignoreMerges: ignoreMerges ?? (preTokenizer == .llama3), vocabulary: idOfToken)
    }

    /// The number of token ids, special tokens included.
    public var vocabularySize: Int { tokens.count }

    public var kindDescription: String {
        "byte-level BPE (\(preTokenizerKind.rawValue) pre-tokenizer\(normalizesToNFC ? ", NFC" : ""))"
    }

    /// The ids of `text`: BOS first if the model adds it, special tokens written in the text as
    /// their own ids, everything else split by the pre-tokenizer and merged by BPE.
    public func encode(_ text: String) -> [Int] {
        specialTokens.encode(text, bos: addsBosToken ? bosTokenId : nil) { bytes, range, ids in encodePlain(bytes, range, into: &ids) }
    }

    /// Special tokens start and end on scalar boundaries, so each plain stretch is valid UTF-8.
    private func encodePlain(_ bytes: [UInt8], _ range: Range<Int>, into ids: inout [Int]) {
        if normalizesToNFC {
            // Normalising can change the bytes, so the stretch is encoded from its own copy.
            let normalized = Array(String(decoding: bytes[range], as: UTF8.self).precomposedStringWithCanonicalMapping.utf8)
            if normalized != Array(bytes[range]) {
                encodeNormalized(normalized, 0..<normalized.count, into: &ids)
                return
            }
        }
        encodeNormalized(bytes, range, into: &ids)
    }

    private func encodeNormalized(_ bytes: [UInt8], _ range: Range<Int>, into ids: inout [Int]) {
        let stretch = String(decoding: bytes[range], as: UTF8.self)
        let scanned = ScannedText(stretch.unicodeScalars)
        let base = range.lowerBound
        preTokenizer.split(scanned) { piece in
            let start = base + scanned.utf8Offsets[piece.lowerBound]
            let end = base + scanned.utf8Offsets[piece.upperBound]
            model.encode(piece: bytes[start..<end], into: &ids)
        }
    }

    /// The exact bytes the ids stand for; ids outside the vocabulary are skipped, as
    /// `tokenizers` skips ids it does not know.
    public func decodeBytes(_ ids: [Int]) -> [UInt8] {
        var bytes: [UInt8] = []
        for id in ids { bytes.append(contentsOf: tokenBytes.bytes(of: id)) }
        return bytes
    }

    /// The text the ids stand for; invalid UTF-8 (a sequence cut inside a character) becomes
    /// U+FFFD, as in `tokenizers`.
    public func decode(_ ids: [Int]) -> String {
        String(decoding: decodeBytes(ids), as: UTF8.self)
    }

    /// A token as a reader would write it (" add" for "Ġadd"); a token holding part of a
    /// character shows U+FFFD. Empty for an id outside the vocabulary.
    public func piece(_ id: Int) -> String {
        String(decoding: tokenBytes.bytes(of: id), as: UTF8.self)
    }

    /// The stored vocabulary entry of an id ("Ġadd"), or nil outside the vocabulary.
    public func token(_ id: Int) -> String? {
        tokens.indices.contains(id) ? tokens[id] : nil
    }

    /// The id of a vocabulary entry in its stored, byte-level form ("Ġadd"), or nil.
    public func tokenId(of piece: String) -> Int? {
        idOfToken[piece]
    }

    /// The pre-tokenizer pieces of `text`, which must hold no special tokens; for tests and
    /// for showing how text is split.
    func preTokenizedPieces(_ text: String) -> [String] {
        let scanned = ScannedText(text.unicodeScalars)
        var pieces: [String] = []
        preTokenizer.split(scanned) { piece in
            var view = String.UnicodeScalarView()
            view.append(contentsOf: scanned.scalars[piece])
            pieces.append(String(view))
        }
        return pieces
    }

    /// The BPE model, for tests that compare its two merge loops.
    var bytePairModel: BytePairModel { model }
}
