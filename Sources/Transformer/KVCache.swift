// KVCache: the keys (after RoPE) and values of every layer for a batch of sequences being decoded,
// each sequence with its own length, so prompts of different lengths decode together without padding.

public struct KVCache: Sendable {
    public let capacity: Int            // positions per sequence
    public let sequenceCount: Int       // B
    public let width: Int               // Hkv·Dh
    /// keys[layer] and values[layer]: [B, capacity, Hkv·Dh].
    public var keys: [[Float]]
    public var values: [[Float]]
    /// Valid positions per sequence.
    public internal(set) var lengths: [Int]

    public init(config: ModelConfig, sequences: Int, capacity: Int) {
        self.capacity = capacity
        self.sequenceCount = sequences
        self.width = config.kvWidth
        let size = sequences * capacity * config.kvWidth
        keys = Array(repeating: [Float](repeating: 0, count: size), count: config.layerCount)
        values = keys
        lengths = Array(repeating: 0, count: sequences)
    }

    /// Offset of (sequence, position) in a layer's buffer.
    @inline(__always) func offset(sequence b: Int, position: Int) -> Int { (b * capacity + position) * width }
}
