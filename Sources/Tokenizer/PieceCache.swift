// The word cache both BPE models keep: pieces seen before and their ids, behind a lock so that
// concurrent `encode` calls may share one tokenizer. Bounded: emptied when full. Not the merges.

import Foundation

final class PieceCache<Key: Hashable>: @unchecked Sendable {
    private var entries: [Key: [Int32]] = [:]
    private let lock = NSLock()
    private let capacity: Int
    /// Longer pieces are not cached: they are rare and would crowd the cache.
    let longestPiece: Int

    init(capacity: Int, longestPiece: Int) {
        self.capacity = capacity
        self.longestPiece = longestPiece
    }

    /// Appends the ids of a piece to `output`: from the cache if seen before (and short enough
    /// to be kept), else from `compute`, whose answer is then kept. `key` is built only for
    /// pieces short enough.
    @inline(__always)
    func append(count: Int, key: () -> Key, into output: inout [Int], compute: () -> [Int32]) {
        guard count <= longestPiece else {
            for id in compute() { output.append(Int(id)) }
            return
        }
        let key = key()
        lock.lock()
        let hit = entries[key]
        lock.unlock()
        if let hit {
            for id in hit { output.append(Int(id)) }
            return
        }
        let ids = compute()
        for id in ids { output.append(Int(id)) }
        lock.lock()
        if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
        entries[key] = ids
        lock.unlock()
    }
}
