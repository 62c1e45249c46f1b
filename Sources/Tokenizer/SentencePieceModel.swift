// The SentencePiece-style BPE model: one piece of text (spaces already "▁") to token ids. Its
// symbols start as Unicode scalars (not bytes, unlike BytePairModel); a scalar the vocabulary
// lacks becomes its `<0xNN>` byte tokens or the unknown token. The merges run through the same
// loops as byte-level BPE (BytePairMerging). Not the special tokens, not the "▁" handling.

import Foundation

/// The ranks of a SentencePiece model: a listed table, or the vocabulary's order.
enum SentencePieceRanks: MergeRanks {
    case listed(MergeTable)
    case vocabularyOrder(VocabularyOrderMerges)
    case scoreOrder(ScoreOrderMerges)

    @inline(__always)
    func merge(_ left: Int32, _ right: Int32) -> MergeResult? {
        switch self {
        case .listed(let table): return table.merge(left, right)
        case .vocabularyOrder(let rule): return rule.merge(left, right)
        case .scoreOrder(let rule): return rule.merge(left, right)
        }
    }

    var orderDescription: String {
        switch self {
        case .listed: return "listed merges"
        case .vocabularyOrder: return "merges in vocabulary order"
        case .scoreOrder: return "merges in score order"
        }
    }
}

/// The merges transformers derives from a vocabulary without merges (`generate_merges` over
/// the entries' positions): `left + right` merges when it is a vocabulary entry; an earlier
/// entry merges first, and of two splits of one entry the one with the longer left part.
/// Computed when asked rather than listed: listing them would take seconds and ~100 MB for
/// Gemma's 262,144 entries.
struct VocabularyOrderMerges: MergeRanks {
    let tokens: [String]
    let idOfToken: [ExactString: Int]
    /// Scalar count of each entry (the lengths transformers sorts splits by).
    let scalarCounts: [Int32]

    init(tokens: [String], idOfToken: [ExactString: Int]) {
        self.tokens = tokens
        self.idOfToken = idOfToken
        scalarCounts = tokens.map { Int32(clamping: $0.unicodeScalars.count) }
    }

    /// Ranks are `id << 32 | (Int32.max - left length)`: the id orders entries, the length
    /// orders the splits of one entry (an id is below 2^31, so this fits in 63 bits).
    @inline(__always)
    func merge(_ left: Int32, _ right: Int32) -> MergeResult? {
        guard let merged = idOfToken[ExactString(tokens[Int(left)] + tokens[Int(right)])] else { return nil }
        return MergeResult(rank: Int64(merged) << 32 | Int64(Int32.max - scalarCounts[Int(left)]), merged: Int32(merged))
    }
}

/// The merges transformers derives from a vocabulary and its scores (`generate_merges` with
/// the scores, a stable sort, highest first): by the merged entry's score, then the longer left
/// part, then the longer right part, then the entry's first position in the vocabulary. Packed
/// into one rank: score rank (19 bits), the two lengths (12 bits each), the position (20 bits);
/// the initialiser refuses a vocabulary those widths cannot hold rather than tie wrongly.
struct ScoreOrderMerges: MergeRanks {
    let tokens: [String]
    let idOfToken: [ExactString: Int]
    let scalarCounts: [Int32]
    /// Per id: its score's place among the distinct scores, highest first.
    let scoreRanks: [Int32]
    /// Per id: the first position of its text in the vocabulary.
    let firstPositions: [Int32]

    init(tokens: [String], scores: [Float], idOfToken: [ExactString: Int], reject: (String) -> TokenizerError) throws {
        guard tokens.count < 1 << 20 else { throw reject("\(tokens.count) tokens is more than score-ordered merges can rank (2^20)") }
        let distinct = Array(Set(scores)).sorted(by: >)
        guard distinct.count < 1 << 19 else { throw reject("\(distinct.count) distinct scores is more than can be ranked (2^19)") }
        let placeOfScore = Dictionary(uniqueKeysWithValues: distinct.enumerated().map { ($1, Int32($0)) })
        var first: [ExactString: Int32] = [:]
        for (id, token) in tokens.enumerated() where first[ExactString(token)] == nil { first[ExactString(token)] = Int32(id) }
        self.tokens = tokens
        self.idOfToken = idOfToken
        scalarCounts = tokens.map { Int32(clamping: $0.unicodeScalars.count) }
        if let long = scalarCounts.firstIndex(where: { $0 >= 1 << 12 }) {
            throw reject("token \(long) is \(scalarCounts[long]) scalars long, more than score-ordered merges can rank (4095)")
        }
        scoreRanks = scores.map { placeOfScore[$0]! }
        firstPositions = tokens.map { first[ExactString($0)]! }
    }

    @inline(__always)
    func merge(_ left: Int32, _ right: Int32) -> MergeResult? {
        guard let merged = idOfToken[ExactString(tokens[Int(left)] + tokens[Int(right)])] else { return nil }
        let rank = Int64(scoreRanks[merged]) << 44 | Int64(4095 - scalarCounts[Int(left)]) << 32
            | Int64(4095 - scalarCounts[Int(right)]) << 20 | Int64(firstPositions[merged])
        return MergeResult(rank: rank, merged: Int32(merged))
    }
}

/// Scalars to ids for one piece, with a locked cache of pieces seen before.
final class SentencePieceModel: @unchecked Sendable {
    let ranks: SentencePieceRanks
    private let idOfToken: [ExactString: Int]
    /// The `<0xNN>` token of each byte, or -1 without byte fallback.
    private let byteTokens: [Int32]
    private let unknownTokenId: Int32?
    private let fuseUnknown: Bool
    private let ignoreMerges: Bool

    /// Gemma merges a whole stretch as one piece, so most pieces are long and uncached.
    private let cache = PieceCache<[Unicode.Scalar]>(capacity: 20_000, longestPiece: 64)

    init(idOfToken: [ExactString: Int], byteTokens: [Int32], unknownTokenId: Int32?, fuseUnknown: Bool, ignoreMerges: Bool,
         ranks: SentencePieceRanks) {
        self.idOfToken = idOfToken
        self.byteTokens = byteTokens
        self.unknownTokenId = unknownTokenId
        self.fuseUnknown = fuseUnknown
        self.ignoreMerges = ignoreMerges
        self.ranks = ranks
    }

    /// Appends the ids of one piece to `output`.
    func encode(_ piece: ArraySlice<Unicode.Scalar>, into output: inout [Int]) {
        guard !piece.isEmpty else { return }
        cache.append(count: piece.count, key: { Array(piece) }, into: &output) { tokenize(piece) }
    }

    /// The ids of one piece, uncached.
    func tokenize(_ piece: ArraySlice<Unicode.Scalar>) -> [Int32] {
        if ignoreMerges, let whole = idOfToken[ExactString(Self.string(piece))] { return [Int32(whole)] }
        var symbols: [Int32] = []
        symbols.reserveCapacity(piece.count)
        var lastWasUnknown = false
        for scalar in piece {
            if let id = idOfToken[ExactString(String(Character(scalar)))] {
                symbols.append(Int32(id))
                lastWasUnknown = false
                continue
            }
            if byteTokens[0] >= 0 {
                for byte in String(Character(scalar)).utf8 { symbols.append(byteTokens[Int(byte)]) }
                lastWasUnknown = false
                continue
            }
            // No byte fallback: the unknown token, once for a run of them when fused; dropped
            // when there is no unknown token, as `tokenizers` does.
            guard let unknownTokenId else { continue }
            if !(fuseUnknown && lastWasUnknown) { symbols.append(unknownTokenId) }
            lastWasUnknown = true
        }
        BytePairMerging.merge(&symbols, ranks)
        return symbols
    }

    private static func string(_ scalars: ArraySlice<Unicode.Scalar>) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }
}
