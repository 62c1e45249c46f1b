// Special tokens written in text (`<|im_start|>`, `<|endoftext|>`…): found before any
// pre-tokenization and turned straight into their ids. Not the BPE, not the split patterns.

/// A stretch of the input: plain text for the pre-tokenizer, or one special token.
enum TextSegment: Equatable {
    case text(Range<Int>)
    case special(Int)
}

/// Finds special tokens in UTF-8 text, leftmost first and longest among those starting at the
/// same place, as the added-token matcher of `tokenizers` does.
struct SpecialTokenMatcher {
    private struct Entry {
        let bytes: [UInt8]
        let id: Int
    }

    /// Candidates by first byte, longest first, so the first that matches is the longest.
    private let candidatesByFirstByte: [[Entry]]
    let isEmpty: Bool

    /// `tokens` pairs each special text with its id; empty texts are ignored (they would match
    /// everywhere). When a text appears twice, the larger id wins, as a later entry of a
    /// vocabulary overrides an earlier one.
    init(tokens: [(text: String, id: Int)]) {
        // Keyed by bytes: two canonically equivalent texts are two different tokens.
        var byText: [ExactString: Int] = [:]
        for token in tokens where !token.text.isEmpty {
            let key = ExactString(token.text)
            byText[key] = max(byText[key] ?? token.id, token.id)
        }
        var table = [[Entry]](repeating: [], count: 256)
        for (text, id) in byText {
            let bytes = Array(text.value.utf8)
            table[Int(bytes[0])].append(Entry(bytes: bytes, id: id))
        }
        for index in table.indices {
            table[index].sort { $0.bytes.count != $1.bytes.count ? $0.bytes.count > $1.bytes.count : $0.id < $1.id }
        }
        candidatesByFirstByte = table
        isEmpty = byText.isEmpty
    }

    /// The ids of `text`: `bos` first when given, each special token as its id, and each plain
    /// stretch as `plain` encodes it (special tokens end on scalar boundaries, so a stretch is
    /// valid UTF-8).
    func encode(_ text: String, bos: Int?, plain: (_ bytes: [UInt8], _ stretch: Range<Int>, _ ids: inout [Int]) -> Void) -> [Int] {
        var ids: [Int] = []
        ids.reserveCapacity(text.utf8.count / 3 + 2)
        if let bos { ids.append(bos) }
        let bytes = Array(text.utf8)
        for segment in segments(of: bytes) {
            switch segment {
            case .special(let id): ids.append(id)
            case .text(let range): plain(bytes, range, &ids)
            }
        }
        return ids
    }

    /// Cuts `bytes` into plain stretches and special tokens, in order.
    func segments(of bytes: [UInt8]) -> [TextSegment] {
        if isEmpty { return bytes.isEmpty ? [] : [.text(0..<bytes.count)] }
        var segments: [TextSegment] = []
        var plainStart = 0
        var index = 0
        while index < bytes.count {
            if let match = longestMatch(in: bytes, at: index) {
                if plainStart < index { segments.append(.text(plainStart..<index)) }
                segments.append(.special(match.id))
                index += match.length
                plainStart = index
            } else {
                index += 1
            }
        }
        if plainStart < bytes.count { segments.append(.text(plainStart..<bytes.count)) }
        return segments
    }

    @inline(__always)
    private func longestMatch(in bytes: [UInt8], at start: Int) -> (id: Int, length: Int)? {
        let candidates = candidatesByFirstByte[Int(bytes[start])]
        if candidates.isEmpty { return nil }
        for candidate in candidates where start + candidate.bytes.count <= bytes.count {
            var same = true
            for offset in 1..<candidate.bytes.count where bytes[start + offset] != candidate.bytes[offset] {
                same = false
                break
            }
            if same { return (candidate.id, candidate.bytes.count) }
        }
        return nil
    }
}
