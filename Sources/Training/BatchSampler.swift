// Which examples make each batch: a seeded shuffle of the training set, taken in order and reshuffled
// when used up. Codable, so a checkpoint carries its exact position and generator state for --resume.
import Kernels

public struct BatchSampler: Sendable, Codable, Equatable {
    public private(set) var rng: SeededRandom
    public private(set) var order: [Int]
    public private(set) var cursor: Int

    public init(exampleCount: Int, seed: UInt64) {
        precondition(exampleCount > 0, "BatchSampler: no examples")
        rng = SeededRandom(seed: seed)
        order = rng.permutation(exampleCount)
        cursor = 0
    }

    /// The next batch's example indices; a batch never straddles two shuffles (so no example repeats
    /// within one), and a set smaller than the batch gives batches of the whole set.
    public mutating func next(batchSize: Int) -> [Int] {
        let size = min(batchSize, order.count)
        if cursor + size > order.count {
            order = rng.permutation(order.count)
            cursor = 0
        }
        defer { cursor += size }
        return Array(order[cursor..<(cursor + size)])
    }
}
