// The BPE model proper: turns one pre-tokenizer piece (its UTF-8 bytes) into token ids by
// applying merges in rank order. Not the splitting (PreTokenizer.swift) nor special tokens.
// The two merge loops (reference and heap) are generic over where the ranks come from, so the
// SentencePiece-style model (SentencePieceModel.swift) runs the very same loops.

import Foundation

/// A merge's result: its priority (lower merges first) and the token it makes.
struct MergeResult {
    let rank: Int64
    let merged: Int32
}

/// Where merge ranks come from: a table read from a file, or a rule over the vocabulary.
protocol MergeRanks {
    /// The merge of two adjacent symbols, or nil when they do not merge.
    func merge(_ left: Int32, _ right: Int32) -> MergeResult?
}

/// Merges listed in a file, keyed by `left << 32 | right`.
struct MergeTable: MergeRanks {
    let table: [UInt64: MergeResult]

    @inline(__always)
    func merge(_ left: Int32, _ right: Int32) -> MergeResult? { table[BytePairModel.pairKey(left, right)] }
}

/// The byte-level BPE model: the token of each byte, the merge table, and the word cache.
final class BytePairModel: @unchecked Sendable {
    /// The token of each byte's stand-in scalar, or -1 when the vocabulary lacks it.
    let byteTokens: [Int32]
    let merges: MergeTable
    /// Llama 3's `ignore_merges`: a piece that is itself a vocabulary entry becomes that token
    /// without merging (the merges could reach a different split).
    let ignoreMerges: Bool
    /// Vocabulary lookup of byte-level strings, used only with `ignoreMerges`.
    private let vocabulary: [String: Int]

    /// Pieces seen before and their tokens, at most 50,000 of up to 64 bytes.
    private let cache = PieceCache<[UInt8]>(capacity: 50_000, longestPiece: 64)

    init(byteTokens: [Int32], merges: [UInt64: MergeResult], ignoreMerges: Bool, vocabulary: [String: Int]) {
        self.byteTokens = byteTokens
        self.merges = MergeTable(table: merges)
        self.ignoreMerges = ignoreMerges
        self.vocabulary = vocabulary
    }

    @inline(__always)
    static func pairKey(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    /// Appends the tokens of one piece to `output`.
    func encode(piece bytes: ArraySlice<UInt8>, into output: inout [Int]) {
        cache.append(count: bytes.count, key: { Array(bytes) }, into: &output) { tokenize(bytes) }
    }

    /// The tokens of one piece, uncached.
    func tokenize(_ bytes: ArraySlice<UInt8>) -> [Int32] {
        if ignoreMerges, let whole = vocabulary[ByteLevelAlphabet.encode(bytes)] { return [Int32(whole)] }
        // A byte the vocabulary lacks is dropped, as `tokenizers` does for a BPE model without
        // an unknown token (and llama.cpp likewise): the ids must match, even if text is lost.
        var symbols: [Int32] = []
        symbols.reserveCapacity(bytes.count)
        for byte in bytes {
            let token = byteTokens[Int(byte)]
            if token >= 0 { symbols.append(token) }
        }
        BytePairMerging.merge(&symbols, merges)
        return symbols
    }

    /// The reference merge loop over this model's table; see `BytePairMerging.reference`.
    func mergeByRankReference(_ symbols: inout [Int32]) { BytePairMerging.reference(&symbols, merges) }

    /// The heap merge loop over this model's table; see `BytePairMerging.heap`.
    func mergeByRankWithHeap(_ symbols: inout [Int32]) { BytePairMerging.heap(&symbols, merges) }
}

/// The two merge loops, over any source of ranks.
enum BytePairMerging {
    /// Up to this many symbols, the quadratic reference loop is faster than the heap.
    static let heapThreshold = 48

    /// The reference loop for short pieces, the heap for long ones.
    @inline(__always)
    static func merge<Ranks: MergeRanks>(_ symbols: inout [Int32], _ merges: Ranks) {
        if symbols.count <= heapThreshold {
            reference(&symbols, merges)
        } else {
            heap(&symbols, merges)
        }
    }

    /// The reference merge loop: repeatedly merge the lowest-ranked adjacent pair, the leftmost
    /// one among equals. Quadratic, and the definition the heap version must agree with.
    static func reference<Ranks: MergeRanks>(_ symbols: inout [Int32], _ merges: Ranks) {
        while symbols.count > 1 {
            var bestRank = Int64.max
            var bestIndex = -1
            var bestMerged: Int32 = 0
            for index in 0..<(symbols.count - 1) {
                if let merge = merges.merge(symbols[index], symbols[index + 1]), merge.rank < bestRank {
                    bestRank = merge.rank
                    bestIndex = index
                    bestMerged = merge.merged
                }
            }
            if bestIndex < 0 { return }
            symbols[bestIndex] = bestMerged
            symbols.remove(at: bestIndex + 1)
        }
    }

    /// The same merges in O(n log n) for long pieces: symbols in a linked list, candidate pairs
    /// in a min-heap ordered by (rank, position). A popped pair whose symbols have changed since
    /// it was pushed is stale and skipped.
    static func heap<Ranks: MergeRanks>(_ symbols: inout [Int32], _ merges: Ranks) {
        let count = symbols.count
        guard count > 1 else { return }
        var tokens = symbols
        var previous = [Int](0..<count).map { $0 - 1 }
        var next = [Int](0..<count).map { $0 + 1 < count ? $0 + 1 : -1 }
        var alive = [Bool](repeating: true, count: count)
        var heap = CandidateHeap()
        for position in 0..<(count - 1) {
            if let merge = merges.merge(tokens[position], tokens[position + 1]) {
                heap.push(Candidate(rank: merge.rank, position: Int32(position), left: tokens[position], right: tokens[position + 1]))
            }
        }
        while let candidate = heap.pop() {
            let position = Int(candidate.position)
            guard alive[position], tokens[position] == candidate.left else { continue }
            let right = next[position]
            guard right >= 0, tokens[right] == candidate.right,
                  let merge = merges.merge(candidate.left, candidate.right) else { continue }
            tokens[position] = merge.merged
            alive[right] = false
            let afterRight = next[right]
            next[position] = afterRight
            if afterRight >= 0 { previous[afterRight] = position }
            let before = previous[position]
            if before >= 0, let pair = merges.merge(tokens[before], tokens[position]) {
                heap.push(Candidate(rank: pair.rank, position: Int32(before), left: tokens[before], right: tokens[position]))
            }
            if afterRight >= 0, let pair = merges.merge(tokens[position], tokens[afterRight]) {
                heap.push(Candidate(rank: pair.rank, position: Int32(position), left: tokens[position], right: tokens[afterRight]))
            }
        }
        symbols.removeAll(keepingCapacity: true)
        var position = 0
        while position >= 0 {
            symbols.append(tokens[position])
            position = next[position]
        }
    }
}

/// A pair that may be merged: ordered by rank, then by position so the leftmost goes first.
private struct Candidate {
    let rank: Int64
    let position: Int32
    let left: Int32
    let right: Int32

    @inline(__always)
    func precedes(_ other: Candidate) -> Bool {
        rank != other.rank ? rank < other.rank : position < other.position
    }
}

/// A binary min-heap of candidates.
private struct CandidateHeap {
    private var items: [Candidate] = []

    mutating func push(_ item: Candidate) {
        items.append(item)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child].precedes(items[parent]) else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Candidate? {
        guard let first = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var smallest = parent
                if left < items.count && items[left].precedes(items[smallest]) { smallest = left }
                if right < items.count && items[right].precedes(items[smallest]) { smallest = right }
                if smallest == parent { break }
                items.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return first
    }
}
