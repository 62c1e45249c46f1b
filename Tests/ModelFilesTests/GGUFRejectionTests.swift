// Broken GGUF files, each rejected with a ModelFileError that names the file and the problem —
// never a crash, a trap or an allocation sized by a lying count.
import Foundation
import Testing
import ModelFiles

struct GGUFRejectionTests {
    /// A small valid file whose last tensor ends exactly at the end of the file, so that every
    /// shorter prefix is truly truncated.
    static func smallValidFile() -> Data {
        var writer = GGUFWriter()
        writer.set("general.architecture", .string("llama"))
        writer.set("llama.block_count", .uint32(1))
        writer.set("tokenizer.ggml.tokens", .array([.string("a"), .string("bc")]))
        writer.set("x.f64", .float64(2.5))
        writer.set("x.bool", .bool(false))
        writer.addTensor(name: "q", dimensions: [32], type: .q8_0, bytes: Data(halfBytes(1) + [UInt8](repeating: 3, count: 32)))
        writer.addFloat32Tensor(name: "norm", shape: [8], values: [1, 2, 3, 4, 5, 6, 7, 8])
        return writer.encoded()
    }

    @Test func everyTruncationIsRejected() throws {
        let full = Self.smallValidFile()
        _ = try GGUFFile(data: full, name: "small.gguf")
        for length in 0..<full.count {
            expectRejection("small.gguf") { _ = try GGUFFile(data: full.prefix(length), name: "small.gguf") }
        }
    }

    @Test func truncatedDataIsReportedAsSuch() {
        let full = Self.smallValidFile()
        expectRejection("small.gguf", "tensor 'norm'", "runs past the end of the file", "re-download") {
            _ = try GGUFFile(data: full.prefix(full.count - 4), name: "small.gguf")
        }
    }

    @Test func wrongMagicAndVersions() {
        var bad = Self.smallValidFile()
        bad[0] = UInt8(ascii: "X")
        expectRejection("bad.gguf", "magic", "not a GGUF file") { _ = try GGUFFile(data: bad, name: "bad.gguf") }
        for (version, words) in [(UInt32(1), "version 1"), (7, "version 7"), (UInt32(3).byteSwapped, "big-endian")] {
            var raw = RawBytes()
            raw.ggufHeader(version: version, tensors: 0, metadata: 0)
            expectRejection("old.gguf", words) { _ = try GGUFFile(data: raw.data, name: "old.gguf") }
        }
        expectRejection("empty.gguf", "too short") { _ = try GGUFFile(data: Data(), name: "empty.gguf") }
    }

    /// A file with one metadata entry of raw `value` bytes after key and type code.
    func metadataFile(key: [UInt8] = Array("k".utf8), type: UInt32, value: (inout RawBytes) -> Void) -> Data {
        var raw = RawBytes()
        raw.ggufHeader(tensors: 0, metadata: 1)
        raw.ggufBytes(key)
        raw.u32(type)
        value(&raw)
        raw.bytes([UInt8](repeating: 0, count: 64))
        return raw.data
    }

    @Test func hostileMetadataIsRejectedBeforeAllocation() {
        expectRejection("m.gguf", "metadata 'k'", "1152921504606846976 items") {
            _ = try GGUFFile(data: metadataFile(type: 9) { $0.u32(0); $0.u64(1 << 60) }, name: "m.gguf")
        }
        expectRejection("m.gguf", "metadata 'k'", "4611686018427387904 items") {
            _ = try GGUFFile(data: metadataFile(type: 8) { $0.u64(1 << 62) }, name: "m.gguf")
        }
        expectRejection("m.gguf", "unknown value type 13") { _ = try GGUFFile(data: metadataFile(type: 13) { _ in }, name: "m.gguf") }
        expectRejection("m.gguf", "array of unknown value type 99") {
            _ = try GGUFFile(data: metadataFile(type: 9) { $0.u32(99); $0.u64(1) }, name: "m.gguf")
        }
        expectRejection("m.gguf", "metadata key #0", "UTF-8") {
            _ = try GGUFFile(data: metadataFile(key: [0x61, 0xFF, 0xFE], type: 0) { $0.u8(1) }, name: "m.gguf")
        }
        expectRejection("m.gguf", "metadata 'k'", "UTF-8") {
            _ = try GGUFFile(data: metadataFile(type: 8) { $0.ggufBytes([0xC3, 0x28]) }, name: "m.gguf")
        }
        expectRejection("m.gguf", "bool stored as 2") { _ = try GGUFFile(data: metadataFile(type: 7) { $0.u8(2) }, name: "m.gguf") }
        expectRejection("m.gguf", "nests arrays") {
            _ = try GGUFFile(data: metadataFile(type: 9) { raw in for _ in 0..<20 { raw.u32(9); raw.u64(1) } }, name: "m.gguf")
        }
        var huge = RawBytes()
        huge.ggufHeader(tensors: 0, metadata: 1)
        huge.string("big")
        huge.u32(9)
        huge.u32(0)
        huge.u64(1 << 24)
        huge.bytes([UInt8](repeating: 1, count: 1 << 24))
        expectRejection("m.gguf", "metadata 'big'", "limit") { _ = try GGUFFile(data: huge.data, name: "m.gguf") }
        var raw = RawBytes()
        raw.ggufHeader(tensors: 0, metadata: 1 << 60)
        expectRejection("m.gguf", "metadata count") { _ = try GGUFFile(data: raw.data, name: "m.gguf") }
    }

    @Test func duplicateKeysAndBadAlignment() {
        var raw = RawBytes()
        raw.ggufHeader(tensors: 0, metadata: 2)
        for _ in 0..<2 { raw.string("dup"); raw.u32(0); raw.u8(1) }
        expectRejection("d.gguf", "metadata 'dup'", "twice") { _ = try GGUFFile(data: raw.data, name: "d.gguf") }
        for (type, value, words) in [(UInt32(4), UInt32(48), "power of two"), (4, 0, "power of two"), (5, 32, "must be a u32")] {
            var raw = RawBytes()
            raw.ggufHeader(tensors: 0, metadata: 1)
            raw.string("general.alignment")
            raw.u32(type)
            raw.u32(value)
            expectRejection("a.gguf", "general.alignment", words) { _ = try GGUFFile(data: raw.data, name: "a.gguf") }
        }
    }

    @Test func hostileTensorTablesAreRejected() {
        expectRejection("t.gguf", "tensor 'a'", "runs past the end of the file", "truncated") {
            _ = try GGUFFile(data: tensorFile([("a", [16], 0, 0)], dataBytes: 60), name: "t.gguf")
        }
        expectRejection("t.gguf", "tensor 'b'", "overlaps", "tensor 'a'") {
            _ = try GGUFFile(data: tensorFile([("a", [16], 0, 0), ("b", [8], 0, 32)], dataBytes: 128), name: "t.gguf")
        }
        expectRejection("t.gguf", "tensor 'a'", "overflows") {
            _ = try GGUFFile(data: tensorFile([("a", [1 << 40, 1 << 40], 0, 0)], dataBytes: 64), name: "t.gguf")
        }
        expectRejection("t.gguf", "tensor 'a'", "overflows") {
            _ = try GGUFFile(data: tensorFile([("a", [1 << 61, 2], 1, 0)], dataBytes: 64), name: "t.gguf")
        }
        expectRejection("t.gguf", "tensor 'a'", "runs past") {
            _ = try GGUFFile(data: tensorFile([("a", [1 << 60], 0, 0)], dataBytes: 64), name: "t.gguf")
        }
        expectRejection("t.gguf", "tensor 'a'", "unknown ggml type 99") {
            _ = try GGUFFile(data: tensorFile([("a", [4], 99, 0)], dataBytes: 64), name: "t.gguf")
        }
        expectRejection("t.gguf", "tensor 'a'", "dimension of 0") {
            _ = try GGUFFile(data: tensorFile([("a", [4, 0], 0, 0)], dataBytes: 64), name: "t.gguf")
        }
        expectRejection("t.gguf", "tensor 'a'", "5 dimensions") {
            _ = try GGUFFile(data: tensorFile([("a", [1, 1, 1, 1, 1], 0, 0)], dataBytes: 64), name: "t.gguf")
        }
        expectRejection("t.gguf", "tensor 'a'", "not a whole number of Q8_0 blocks") {
            _ = try GGUFFile(data: tensorFile([("a", [31], 8, 0)], dataBytes: 64), name: "t.gguf")
        }
        expectRejection("t.gguf", "tensor 'a'", "alignment") {
            _ = try GGUFFile(data: tensorFile([("a", [1], 0, 4)], dataBytes: 64), name: "t.gguf")
        }
        expectRejection("t.gguf", "tensor 'a'", "past the end of the file") {
            _ = try GGUFFile(data: tensorFile([("a", [1], 0, UInt64.max - 31)], dataBytes: 64), name: "t.gguf")
        }
        expectRejection("t.gguf", "tensor 'a'", "past the end of the file") {
            _ = try GGUFFile(data: tensorFile([("a", [8], 0, UInt64(Int.max) - 31)], dataBytes: 64), name: "t.gguf")
        }
        expectRejection("t.gguf", "tensor 'a'", "twice") {
            _ = try GGUFFile(data: tensorFile([("a", [8], 0, 0), ("a", [8], 0, 32)], dataBytes: 64), name: "t.gguf")
        }
        var raw = RawBytes()
        raw.ggufHeader(tensors: 1 << 50, metadata: 0)
        expectRejection("t.gguf", "tensor count") { _ = try GGUFFile(data: raw.data, name: "t.gguf") }
    }

    @Test func errorCarriesFileOffsetAndField() throws {
        let error = try #require(expectRejection { _ = try GGUFFile(data: tensorFile([("a", [16], 0, 0)], dataBytes: 60), name: "model.gguf") })
        #expect(error.file == "model.gguf")
        #expect(error.field == "tensor 'a'")
        let offset = try #require(error.offset)
        #expect(error.description.hasPrefix("model.gguf: at byte \(offset) (tensor 'a'): data"))
    }

    @Test func missingFileAndFolder() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        expectRejection("nothing.gguf", "no such file") { _ = try GGUFFile(contentsOf: folder.appendingPathComponent("nothing.gguf")) }
        expectRejection("is a folder") { _ = try GGUFFile(contentsOf: folder) }
    }
}
