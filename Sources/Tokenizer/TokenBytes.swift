// The decoder stage: the raw bytes each token stands for, kept in one flat buffer, so that
// decoding is a concatenation. Not the encoder. Byte-level tokens are decoded here; the
// SentencePiece tokenizer hands in its bytes ready made.

/// The bytes of every token, as the ByteLevel decoder of `tokenizers` gives them.
struct TokenBytes {
    private let storage: [UInt8]
    /// Token k's bytes are `storage[starts[k]..<starts[k + 1]]`.
    private let starts: [Int]

    /// A token whose every scalar is in the byte-level alphabet stands for the bytes those
    /// scalars encode; any other token (a special token written with a space or a character
    /// outside the alphabet) stands for its own UTF-8, whole, as in `tokenizers`.
    init(tokens: [String]) {
        self.init(bytesOf: tokens.map { ByteLevelAlphabet.decode($0) ?? Array($0.utf8) })
    }

    /// Each token's bytes given directly (the SentencePiece decoder's, for instance).
    init(bytesOf tokens: [[UInt8]]) {
        var storage: [UInt8] = []
        var starts: [Int] = [0]
        starts.reserveCapacity(tokens.count + 1)
        for bytes in tokens {
            storage.append(contentsOf: bytes)
            starts.append(storage.count)
        }
        self.storage = storage
        self.starts = starts
    }

    var count: Int { starts.count - 1 }

    /// The bytes of `token`; empty for an id outside the vocabulary.
    func bytes(of token: Int) -> ArraySlice<UInt8> {
        guard token >= 0 && token < count else { return [] }
        return storage[starts[token]..<starts[token + 1]]
    }
}
