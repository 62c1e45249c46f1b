// A bounds-checked little-endian reader over a file's bytes: every read first checks the bytes left,
// and every count is checked against them before it can size an allocation. Internal to ModelFiles.

struct ByteCursor {
    let bytes: UnsafeRawBufferPointer
    let file: String
    private(set) var position: Int = 0

    init(_ bytes: UnsafeRawBufferPointer, file: String) {
        self.bytes = bytes
        self.file = file
    }

    var remaining: Int { bytes.count - position }

    func error(_ reason: String, at offset: Int? = nil, field: String?) -> ModelFileError {
        ModelFileError(file: file, offset: offset ?? position, field: field, reason: reason)
    }

    func truncated(_ field: String, needs count: Int) -> ModelFileError {
        error("needs \(count) bytes but the file ends at byte \(bytes.count); the file is truncated or corrupt — re-download it",
              field: field)
    }

    mutating func require(_ count: Int, _ field: String) throws {
        guard count >= 0, count <= remaining else { throw truncated(field, needs: count) }
    }

    mutating func skip(_ count: Int, _ field: String) throws {
        try require(count, field)
        position += count
    }

    mutating func seek(to offset: Int, _ field: String) throws {
        guard offset >= 0, offset <= bytes.count else {
            throw error("position \(offset) lies past the end of the file (size \(bytes.count)); the file is truncated or corrupt",
                        field: field)
        }
        position = offset
    }

    mutating func u8(_ field: String) throws -> UInt8 {
        try require(1, field)
        defer { position += 1 }
        return bytes[position]
    }

    mutating func u16(_ field: String) throws -> UInt16 {
        try require(2, field)
        defer { position += 2 }
        return UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt16.self))
    }

    mutating func u32(_ field: String) throws -> UInt32 {
        try require(4, field)
        defer { position += 4 }
        return UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt32.self))
    }

    mutating func u64(_ field: String) throws -> UInt64 {
        try require(8, field)
        defer { position += 8 }
        return UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt64.self))
    }

    /// A u64 count of items that each take at least `minimumItemSize` bytes: rejected when the bytes
    /// left cannot hold that many, so a count of 2^60 never reaches an allocation.
    mutating func count(_ field: String, minimumItemSize: Int, limit: Int = Int.max) throws -> Int {
        let start = position
        let raw = try u64(field)
        let available = remaining / max(1, minimumItemSize)
        guard raw <= UInt64(available) else {
            throw error("claims \(raw) items of at least \(minimumItemSize) bytes each, but only \(remaining) bytes are left; the file is corrupt",
                        at: start, field: field)
        }
        guard raw <= UInt64(limit) else {
            throw error("claims \(raw) items, more than the limit of \(limit); the file is corrupt or not a model file", at: start, field: field)
        }
        return Int(raw)
    }

    /// A GGUF string: u64 byte length, then that many bytes of valid UTF-8.
    mutating func string(_ field: String, maximumLength: Int = Int.max) throws -> String {
        let start = position
        let length = try count(field, minimumItemSize: 1)
        guard length <= maximumLength else {
            throw error("is a string of \(length) bytes, longer than the limit of \(maximumLength)", at: start, field: field)
        }
        let slice = UnsafeRawBufferPointer(rebasing: bytes[position..<(position + length)])
        guard let text = String(validating: slice, as: UTF8.self) else {
            throw error("is not valid UTF-8; the file is corrupt", at: start, field: field)
        }
        position += length
        return text
    }
}
