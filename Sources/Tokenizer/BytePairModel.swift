// The BPE model proper: turns one pre-tokenizer piece (its UTF-8 bytes) into token ids by
// applying merges in rank order. Not the splitting (PreTokenizer.swift) nor special tokens.

import Foundation

/// A merge's result: its priority (lower merges first) and the token it makes.
struct MergeResult {
    let rank: Int32
    let merged: Int32
}

/// The byte-level BPE model: the token of each byte, the merge table, and the word cache.
final class BytePairModel: @unchecked Sendable {
    /// The token of each byte's stand-in scalar, or -1 when the vocabulary lacks it.
    let byteTokens: [Int32]
    /// Merges keyed by `left << 32 | right`.
    let merges: [UInt64: MergeResult]
    /// Llama 3's `ignore_merges`: a piece that is itself a vocabulary entry becomes that token
    /// without merging (the merges could reach a different split).
    let ignoreMerges: Bool
    /// Vocabulary lookup of byte-level strings, used only with `ignoreMerges`.
    private let vocabulary: [String: Int]

    /// Pieces seen before and their tokens. Shared by concurrent `encode` calls, hence the lock.
    private var cache: [[UInt8]: [Int32]] = [:]
    private let cacheLock = NSLock()
    /// The cache is emptied when it reaches this many words, so memory stays bounded.
    private static let cacheCapacity = 50_000
    /// Longer pieces are not cached: they are rare and would crowd the cache.
    private static let longestCachedPiece = 64
    /// Up to this many symbols, the quadratic reference loop is faster than the heap.
    static let heapThreshold = 48

    init(byteTokens: [Int32], merges: [UInt64: MergeResult], ignoreMerges: Bool, vocabulary: [String: Int]) {
        self.byteTokens = byteTokens
        self.merges = merges
        self.ignoreMerges = ignoreMerges
        self.vocabulary = vocabulary
    }

    @inline(__always)
    static func pairKey(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    /// Appends the tokens of one piece to `output`.
    func encode(piece bytes: ArraySlice<UInt8>, into output: inout [Int]) {
        let cacheable = bytes.count <= Self.longestCachedPiece
        let key = cacheable ? Array(bytes) : []
        if cacheable {
            cacheLock.lock()
            let hit = cache[key]
            cacheLock.unlock()
            if let hit {
                for token in hit { output.append(Int(token)) }
                return
            }
        }
        let tokens = tokenize(bytes)
        for token in tokens { output.append(Int(token)) }
        if cacheable {
            cacheLock.lock()
            if cache.count >= Self.cacheCapacity { cache.removeAll(keepingCapacity: true) }
            cache[key] = tokens
            cacheLock.unlock()
        }
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
        if symbols.count <= Self.heapThreshold {
            mergeByRankReference(&symbols)
        } else {
            mergeByRankWithHeap(&symbols)
        }
        return symbols
    }

    /// The reference merge loop: repeatedly merge the lowest-ranked adjacent pair, the leftmost
    /// one among equals. Quadratic, and the definition the heap version must agree with.
    func mergeByRankReference(_ symbols: inout [Int32]) {
        while symbols.count > 1 {
            var bestRank = Int32.max
            var bestIndex = -1
            var bestMerged: Int32 = 0
            for index in 0..<(symbols.count - 1) {
                if let merge = merges[Self.pairKey(symbols[index], symbols[index + 1])], merge.rank < bestRank {
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
    func mergeByRankWithHeap(_ symbols: inout [Int32]) {
        let count = symbols.count
        guard count > 1 else { return }
        var tokens = symbols
        var previous = [Int](0..<count).map { $0 - 1 }
        var next = [Int](0..<count).map { $0 + 1 < count ? $0 + 1 : -1 }
        var alive = [Bool](repeating: true, count: count)
        var heap = CandidateHeap()
        for position in 0..<(count - 1) {
            if let merge = merges[Self.pairKey(tokens[position], tokens[position + 1])] {
                heap.push(Candidate(rank: merge.rank, position: Int32(position), left: tokens[position], right: tokens[position + 1]))
            }
        }
        while let candidate = heap.pop() {
            let position = Int(candidate.position)
            guard alive[position], tokens[position] == candidate.left else { continue }
            let right = next[position]
            guard right >= 0, tokens[right] == candidate.right,
                  let merge = merges[Self.pairKey(candidate.left, candidate.right)] else { continue }
            tokens[position] = merge.merged
            alive[right] = false
            let afterRight = next[right]
            next[position] = afterRight
            if afterRight >= 0 { previous[afterRight] = position }
            let before = previous[position]
            if before >= 0, let pair = merges[Self.pairKey(tokens[before], tokens[position])] {
                heap.push(Candidate(rank: pair.rank, position: Int32(before), left: tokens[before], right: tokens[position]))
            }
            if afterRight >= 0, let pair = merges[Self.pairKey(tokens[position], tokens[afterRight])] {
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
    let rank: Int32
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
