// The SentencePiece-style BPE tokenizer (Gemma; Llama 2's family): spaces written as "▁", text
// merged symbol by symbol from Unicode scalars, bytes of unknown scalars as `<0xNN>` tokens.
// Built from GGUF metadata (SentencePieceGGUF.swift) or tokenizer.json (SentencePieceJSON.swift);
// it reads no file itself. Byte-level BPE is BPETokenizer.

import Foundation

/// How spaces become "▁" before the merges: the stages a tokenizer.json names, as data.
public struct SpaceHandling: Sendable, Equatable {
    /// When a "▁" is put in front of a stretch of text (Metaspace's `prepend_scheme`, or a
    /// `Prepend` normalizer, which is `.always` and adds one even before a "▁").
    public enum Prefix: String, Sendable {
        /// Never (Gemma).
        case never
        /// Before every stretch between special tokens that does not start with "▁" already.
        case always
        /// Only before the stretch at the very start of the text, if it does not start with "▁".
        case first
        /// Before every non-empty stretch, even one starting with "▁" (`normalizers.Prepend`).
        case unconditionally
    }

    public var prefix: Prefix
    /// Metaspace's `split`: cut the text before every "▁", each piece merged on its own.
    public var splitsAtSpaces: Bool

    public init(prefix: Prefix, splitsAtSpaces: Bool) {
        self.prefix = prefix
        self.splitsAtSpaces = splitsAtSpaces
    }

    /// Gemma's: every space is "▁", nothing prepended, the whole stretch merged as one word.
    public static let gemma = SpaceHandling(prefix: .never, splitsAtSpaces: false)
}

/// Where the merge ranks come from.
public enum SentencePieceMerges: Sendable {
    /// Pairs of entries, highest priority first (tokenizer.json, or a GGUF that lists them as
    /// `"left right"` strings).
    case listed([MergePair])
    /// No merges in the file: every split of a vocabulary entry into two entries is a merge, the
    /// earlier entry first, and among the splits of one entry the longer left part first; the
    /// merges transformers rebuilds for a Gemma GGUF (its scores do not follow the merge order).
    case vocabularyOrder
    /// No merges in the file, and scores that do follow the merge order (Llama 2's family):
    /// every split as above, the higher-scored entry first, then the longer left part, then the
    /// longer right part, then the earlier entry; transformers' `generate_merges` over scores.
    case scoreOrder([Float])
}

/// One listed merge: two vocabulary entries whose concatenation is an entry too.
public struct MergePair: Sendable, Equatable {
    public let left: String
    public let right: String

    public init(left: String, right: String) {
        self.left = left
        self.right = right
    }

    /// The `"left right"` form GGUF and older tokenizer.json files use, or nil if it is not that.
    public init?(spaceSeparated merge: String) {
        let parts = merge.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        self.init(left: String(parts[0]), right: String(parts[1]))
    }
}

/// A SentencePiece-style BPE tokenizer whose ids match Hugging Face `tokenizers` (Gemma 3 as
/// transformers builds it from the GGUF, and tokenizer.json files with Metaspace or a
/// `Replace(" ", "▁")` normalizer).
public final class SentencePieceTokenizer: TextTokenizer, @unchecked Sendable {
    public let bosTokenId: Int?
    public let eosTokenId: Int?
    public let unknownTokenId: Int?
    public let addsBosToken: Bool
    public let specialTokenIds: [Int]
    public let spaceHandling: SpaceHandling
    public let byteFallback: Bool
    /// Whether `decode` turns `<0xNN>` tokens into their bytes (a ByteFallback decoder stage);
    /// `decodeBytes` always does.
    public let decodesByteTokens: Bool

    private let tokens: [String]
    private let idOfToken: [ExactString: Int]
    private let model: SentencePieceModel
    private let specialTokens: SpecialTokenMatcher
    private let tokenBytes: TokenBytes
    /// Per id, the byte a `<0xNN>` token stands for (when byte fallback is on), else -1.
    private let byteOfToken: [Int16]

    /// Builds a tokenizer from a vocabulary, checking every count and id against it.
    ///
    /// - Parameters:
    ///   - tokens: the vocabulary, id = index, spaces written as "▁".
    ///   - merges: the merge ranks (listed, or the vocabulary's order).
    ///   - specialTokens: texts recognised whole in the input before anything else (each must be
    ///     in `tokens`; leftmost first, longest among those starting at one place).
    ///   - byteFallback: a scalar the vocabulary lacks becomes the `<0xNN>` tokens of its UTF-8
    ///     bytes; all 256 must then be in the vocabulary.
    ///   - unknownTokenId: what a scalar becomes otherwise (nil: it is dropped, as `tokenizers`
    ///     drops it with no unknown token); consecutive unknowns are one token with `fuseUnknown`.
    ///   - ignoreMerges: a piece that is itself a vocabulary entry is that token, unmerged.
    ///   - source: the file the description came from, for errors; `tokensField` names the key
    ///     that holds the vocabulary in it.
    public init(tokens: [String], merges: SentencePieceMerges, specialTokens: [String], spaceHandling: SpaceHandling,
                byteFallback: Bool, unknownTokenId: Int?, fuseUnknown: Bool, ignoreMerges: Bool = false,
                bosTokenId: Int?, eosTokenId: Int?, addBosToken: Bool, decodesByteTokens: Bool = true, source: String,
                tokensField: String = "tokens", mergesField: String = "merges") throws {
        func reject(_ field: String, _ reason: String) -> TokenizerError {
            TokenizerError(file: source, field: field, reason: reason)
        }
        guard !tokens.isEmpty else { throw reject(tokensField, "the vocabulary is empty") }
        guard tokens.count < Int(Int32.max) else { throw reject(tokensField, "\(tokens.count) tokens is more than ids can hold") }
        for (field, id) in [("bos_token_id", bosTokenId), ("eos_token_id", eosTokenId), ("unknown_token_id", unknownTokenId)] {
            if let id, !(0..<tokens.count).contains(id) {
                throw reject(field, "id \(id) is outside the vocabulary of \(tokens.count) tokens")
            }
        }
        if addBosToken && bosTokenId == nil { throw reject("add_bos_token", "BOS is to be added but no BOS token id is given") }

        // A text listed twice resolves to its last id, as the maps of `tokenizers` do.
        var idOfToken: [ExactString: Int] = [:]
        idOfToken.reserveCapacity(tokens.count)
        for (id, token) in tokens.enumerated() { idOfToken[ExactString(token)] = id }

        var specials: [(text: String, id: Int)] = []
        for text in specialTokens {
            guard !text.isEmpty else { throw reject("special_tokens", "an empty special token would match everywhere") }
            guard let id = idOfToken[ExactString(text)] else { throw reject("special_tokens", "special token \(text.debugDescription) is not in the vocabulary") }
            specials.append((text, id))
        }

        var byteTokens = [Int32](repeating: -1, count: 256)
        var byteOfToken = [Int16](repeating: -1, count: tokens.count)
        if byteFallback {
            for byte in 0..<256 {
                let text = Self.byteTokenText(UInt8(byte))
                guard let id = idOfToken[ExactString(text)] else {
                    throw reject(tokensField, "byte fallback needs the token \(text), which is missing (all 256 of <0x00>…<0xFF> must be present)")
                }
                byteTokens[byte] = Int32(id)
                byteOfToken[id] = Int16(byte)
            }
        }

        let ranks: SentencePieceRanks
        switch merges {
        case .vocabularyOrder:
            ranks = .vocabularyOrder(VocabularyOrderMerges(tokens: tokens, idOfToken: idOfToken))
        case .scoreOrder(let scores):
            guard scores.count == tokens.count else { throw reject("scores", "\(scores.count) scores for \(tokens.count) tokens") }
            ranks = .scoreOrder(try ScoreOrderMerges(tokens: tokens, scores: scores, idOfToken: idOfToken, reject: { reject(tokensField, $0) }))
        case .listed(let list):
            var table: [UInt64: MergeResult] = [:]
            table.reserveCapacity(list.count)
            for (rank, merge) in list.enumerated() {
                let field = "\(mergesField)[\(rank)]"
                let left = merge.left, right = merge.right
                let shown = [left, right].debugDescription
                guard let leftId = idOfToken[ExactString(left)], let rightId = idOfToken[ExactString(right)] else {
                    throw reject(field, "\(shown) names a token that is not in the vocabulary")
                }
                guard let mergedId = idOfToken[ExactString(left + right)] else {
                    throw reject(field, "\(shown) makes \((left + right).debugDescription), which is not in the vocabulary")
                }
                // A repeated pair keeps its last rank, as in `tokenizers`.
                table[BytePairModel.pairKey(Int32(leftId), Int32(rightId))] = MergeResult(rank: Int64(rank), merged: Int32(mergedId))
            }
            ranks = .listed(MergeTable(table: table))
        }

        self.tokens = tokens
        self.idOfToken = idOfToken
        self.bosTokenId = bosTokenId
        self.eosTokenId = eosTokenId
        self.unknownTokenId = unknownTokenId
        self.addsBosToken = addBosToken
        self.spaceHandling = spaceHandling
        self.byteFallback = byteFallback
        self.decodesByteTokens = decodesByteTokens
        self.byteOfToken = byteOfToken
        self.specialTokens = SpecialTokenMatcher(tokens: specials)
        self.specialTokenIds = Array(Set(specials.map(\.id))).sorted()
        // "▁" back to a space scalar by scalar: a search by String would skip a "▁" that a
        // combining mark follows (the two are one Character).
        self.tokenBytes = TokenBytes(bytesOf: tokens.indices.map { id in
            if byteOfToken[id] >= 0 { return [UInt8(byteOfToken[id])] }
            var view = String.UnicodeScalarView()
            for scalar in tokens[id].unicodeScalars { view.append(scalar == Self.metaspace ? " " : scalar) }
            return Array(String(view).utf8)
        })
        self.model = SentencePieceModel(idOfToken: idOfToken, byteTokens: byteTokens, unknownTokenId: unknownTokenId.map { Int32($0) },
                                        fuseUnknown: fuseUnknown, ignoreMerges: ignoreMerges, ranks: ranks)
    }

    /// `<0xNN>`, upper-case hex, as SentencePiece and `tokenizers` spell a byte token.
    static func byteTokenText(_ byte: UInt8) -> String {
        let hex = Array("0123456789ABCDEF")
        return "<0x\(hex[Int(byte >> 4)])\(hex[Int(byte & 15)])>"
    }

    public var vocabularySize: Int { tokens.count }

    public var kindDescription: String {
        let merges = model.ranks.orderDescription
        return "SentencePiece-style BPE (\(merges)\(byteFallback ? ", byte fallback" : ""), ▁ prefix \(spaceHandling.prefix.rawValue))"
    }

    public func encode(_ text: String) -> [Int] {
        specialTokens.encode(text, bos: addsBosToken ? bosTokenId : nil) { bytes, range, ids in
            encodePlain(String(decoding: bytes[range], as: UTF8.self), atStart: range.lowerBound == 0, into: &ids)
        }
    }

    private static let metaspace: Unicode.Scalar = "\u{2581}"

    /// One stretch between special tokens: spaces to "▁", the prefix, the split, the merges.
    private func encodePlain(_ stretch: String, atStart: Bool, into ids: inout [Int]) {
        var scalars: [Unicode.Scalar] = []
        scalars.reserveCapacity(stretch.unicodeScalars.count + 1)
        let startsWithMetaspace = stretch.unicodeScalars.first == " " || stretch.unicodeScalars.first == Self.metaspace
        switch spaceHandling.prefix {
        case .never: break
        case .always: if !startsWithMetaspace { scalars.append(Self.metaspace) }
        case .first: if atStart && !startsWithMetaspace { scalars.append(Self.metaspace) }
        case .unconditionally: if !stretch.isEmpty { scalars.append(Self.metaspace) }
        }
        for scalar in stretch.unicodeScalars { scalars.append(scalar == " " ? Self.metaspace : scalar) }
        guard spaceHandling.splitsAtSpaces else {
            model.encode(scalars[...], into: &ids)
            return
        }
        // Metaspace's split keeps each "▁" with the text after it.
        var start = 0
        for index in scalars.indices where index > start && scalars[index] == Self.metaspace {
            model.encode(scalars[start..<index], into: &ids)
            start = index
        }
        if start < scalars.count { model.encode(scalars[start...], into: &ids) }
    }

    public func decodeBytes(_ ids: [Int]) -> [UInt8] {
        var bytes: [UInt8] = []
        for id in ids { bytes.append(contentsOf: tokenBytes.bytes(of: id)) }
        if stripsLeadingSpace, let first = ids.first, tokens.indices.contains(first),
           tokens[first].unicodeScalars.first == Self.metaspace, bytes.first == 0x20 {
            bytes.removeFirst()
        }
        return bytes
    }

    /// As the decoders of `tokenizers` give it: "▁" as a space, runs of byte tokens as the text
    /// they spell, or one U+FFFD per byte token when that is not valid UTF-8 (ByteFallback), and
    /// the prepended "▁" of the first token dropped where the tokenizer prepends one.
    public func decode(_ ids: [Int]) -> String {
        var text = ""
        var pendingBytes: [UInt8] = []
        func flushBytes() {
            guard !pendingBytes.isEmpty else { return }
            if let valid = String(validating: pendingBytes, as: UTF8.self) {
                text += valid
            } else {
                text += String(repeating: "\u{FFFD}", count: pendingBytes.count)
            }
            pendingBytes.removeAll()
        }
        for (position, id) in ids.enumerated() where tokens.indices.contains(id) {
            if byteOfToken[id] >= 0 && decodesByteTokens {
                pendingBytes.append(UInt8(byteOfToken[id]))
                continue
            }
            flushBytes()
            var piece = byteOfToken[id] >= 0 ? tokens[id] : String(decoding: tokenBytes.bytes(of: id), as: UTF8.self)
            if position == 0 && stripsLeadingSpace && tokens[id].unicodeScalars.first == Self.metaspace { piece.removeFirst() }
            text += piece
        }
        flushBytes()
        return text
    }

    /// A Metaspace decoder (or a `Strip` after a `Prepend`) removes the space the encoder added.
    private var stripsLeadingSpace: Bool { spaceHandling.prefix != .never }

    public func piece(_ id: Int) -> String {
        String(decoding: tokenBytes.bytes(of: id), as: UTF8.self)
    }

    public func token(_ id: Int) -> String? {
        tokens.indices.contains(id) ? tokens[id] : nil
    }

    public func tokenId(of token: String) -> Int? {
        idOfToken[ExactString(token)]
    }
}
