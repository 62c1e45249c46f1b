// Reads tokenizer.json's `model.vocab` object entry by entry, keys kept byte for byte. Foundation's
// JSONDecoder decodes an object into a Swift dictionary whose String keys compare by canonical
// equivalence, so two entries such as "é" and "e\u{301}" (Gemma 3's vocabulary has 434 such pairs)
// would collapse into one. Not a general JSON parser: it only walks past everything else.

/// Scans UTF-8 JSON text for `model.vocab`.
struct VocabularyScanner {
    struct Failure: Error {
        let reason: String
    }

    private let bytes: [UInt8]
    private var index = 0
    /// Deeper nesting is refused, so that a hostile file cannot exhaust the stack.
    private static let deepest = 128

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// The entries of `model.vocab` in file order, or nil when the file has no such object.
    static func vocabulary(in bytes: [UInt8]) throws -> [(text: String, id: Int)]? {
        var scanner = VocabularyScanner(bytes)
        return try scanner.topLevel()
    }

    private mutating func topLevel() throws -> [(text: String, id: Int)]? {
        var found: [(text: String, id: Int)]?
        try object(depth: 0) { scanner, key, depth in
            if key == "model" && scanner.peek() == UInt8(ascii: "{") {
                try scanner.object(depth: depth) { scanner, key, depth in
                    if key == "vocab" && scanner.peek() == UInt8(ascii: "{") {
                        found = try scanner.entries()
                    } else {
                        try scanner.skipValue(depth: depth)
                    }
                }
            } else {
                try scanner.skipValue(depth: depth)
            }
        }
        return found
    }

    /// `{"text": id, …}` with integer ids.
    private mutating func entries() throws -> [(text: String, id: Int)] {
        var entries: [(text: String, id: Int)] = []
        try object(depth: 1) { scanner, key, _ in
            guard let id = try scanner.integer() else { throw Failure(reason: "the id of \(key.debugDescription) is not an integer") }
            entries.append((key, id))
        }
        return entries
    }

    // MARK: the pieces of JSON

    private func peek() -> UInt8? {
        index < bytes.count ? bytes[index] : nil
    }

    private mutating func skipWhitespace() {
        while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
    }

    private mutating func expect(_ byte: UInt8) throws {
        skipWhitespace()
        guard peek() == byte else { throw Failure(reason: "expected '\(Character(Unicode.Scalar(byte)))' at byte \(index)") }
        index += 1
    }

    /// Calls `member` with each key, positioned at its value, which `member` must consume.
    private mutating func object(depth: Int, member: (inout VocabularyScanner, String, Int) throws -> Void) throws {
        guard depth < Self.deepest else { throw Failure(reason: "nested deeper than \(Self.deepest) at byte \(index)") }
        try expect(UInt8(ascii: "{"))
        skipWhitespace()
        if peek() == UInt8(ascii: "}") { index += 1; return }
        while true {
            skipWhitespace()
            let key = try string()
            try expect(UInt8(ascii: ":"))
            skipWhitespace()
            try member(&self, key, depth + 1)
            skipWhitespace()
            guard let next = peek() else { throw Failure(reason: "the file ends inside an object") }
            index += 1
            if next == UInt8(ascii: "}") { return }
            guard next == UInt8(ascii: ",") else { throw Failure(reason: "expected ',' or '}' at byte \(index - 1)") }
        }
    }

    private mutating func skipValue(depth: Int) throws {
        guard depth < Self.deepest else { throw Failure(reason: "nested deeper than \(Self.deepest) at byte \(index)") }
        skipWhitespace()
        switch peek() {
        case UInt8(ascii: "{"):
            try object(depth: depth) { scanner, _, depth in try scanner.skipValue(depth: depth) }
        case UInt8(ascii: "["):
            index += 1
            skipWhitespace()
            if peek() == UInt8(ascii: "]") { index += 1; return }
            while true {
                try skipValue(depth: depth + 1)
                skipWhitespace()
                guard let next = peek() else { throw Failure(reason: "the file ends inside an array") }
                index += 1
                if next == UInt8(ascii: "]") { return }
                guard next == UInt8(ascii: ",") else { throw Failure(reason: "expected ',' or ']' at byte \(index - 1)") }
            }
        case UInt8(ascii: "\""):
            _ = try string()
        case .some:
            // A number or a literal: everything up to the next delimiter.
            let start = index
            while index < bytes.count, !",]} \t\r\n".utf8.contains(bytes[index]) { index += 1 }
            if index == start { throw Failure(reason: "expected a value at byte \(index)") }
        case nil:
            throw Failure(reason: "the file ends where a value was expected")
        }
    }

    private mutating func integer() throws -> Int? {
        skipWhitespace()
        let start = index
        if peek() == UInt8(ascii: "-") { index += 1 }
        while index < bytes.count, (0x30...0x39).contains(bytes[index]) { index += 1 }
        // Ids beyond 18 digits would overflow; no vocabulary comes near.
        guard index > start, index - start <= 18, let value = Int(String(decoding: bytes[start..<index], as: UTF8.self)) else { return nil }
        if let next = peek(), !",} \t\r\n".utf8.contains(next) { return nil }
        return value
    }

    /// A JSON string, escapes decoded; a lone surrogate becomes U+FFFD, as in `serde_json`'s lossy mode.
    private mutating func string() throws -> String {
        try expect(UInt8(ascii: "\""))
        var out: [UInt8] = []
        while true {
            guard index < bytes.count else { throw Failure(reason: "the file ends inside a string") }
            let byte = bytes[index]
            index += 1
            if byte == UInt8(ascii: "\"") { break }
            guard byte == UInt8(ascii: "\\") else {
                guard byte >= 0x20 else { throw Failure(reason: "a control character inside a string at byte \(index - 1)") }
                out.append(byte)
                continue
            }
            guard index < bytes.count else { throw Failure(reason: "the file ends inside an escape") }
            let escape = bytes[index]
            index += 1
            switch escape {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var value = try hex4()
                if (0xD800..<0xDC00).contains(value), bytes[index...].starts(with: Array("\\u".utf8)) {
                    let save = index
                    index += 2
                    let low = try hex4()
                    if (0xDC00..<0xE000).contains(low) {
                        value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
                    } else {
                        index = save
                    }
                }
                out.append(contentsOf: String(Unicode.Scalar(value) ?? "\u{FFFD}").utf8)
            default:
                throw Failure(reason: "unknown escape '\\\(Character(Unicode.Scalar(escape)))' at byte \(index - 2)")
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private mutating func hex4() throws -> UInt32 {
        guard index + 4 <= bytes.count, let value = UInt32(String(decoding: bytes[index..<(index + 4)], as: UTF8.self), radix: 16) else {
            throw Failure(reason: "a bad \\u escape at byte \(index)")
        }
        index += 4
        return value
    }
}
