// Shared by the ModelFiles tests: temporary folders, a raw little-endian byte builder for hand-made
// (and deliberately broken) files, and a check that a call is rejected with a ModelFileError.
import Foundation
import Testing
import ModelFiles

func temporaryFolder() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("lazarus-modelfiles-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Asserts that `body` throws a ModelFileError whose one-line description contains every `mention`.
@discardableResult
func expectRejection(_ mentions: String..., sourceLocation: SourceLocation = #_sourceLocation,
                     _ body: () throws -> Void) -> ModelFileError? {
    do {
        try body()
        Issue.record("expected a ModelFileError mentioning \(mentions)", sourceLocation: sourceLocation)
        return nil
    } catch let error as ModelFileError {
        for mention in mentions {
            #expect(error.description.contains(mention), "“\(error.description)” should mention “\(mention)”", sourceLocation: sourceLocation)
        }
        #expect(!error.description.contains("\n"), sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected a ModelFileError, got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// Little-endian bytes written field by field, to build files without the library's writers.
struct RawBytes {
    var data = Data()

    mutating func u8(_ v: UInt8) { data.append(v) }
    mutating func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
    mutating func f32(_ v: Float) { u32(v.bitPattern) }
    mutating func bytes(_ b: [UInt8]) { data.append(contentsOf: b) }

    /// A GGUF string: u64 length, then the bytes.
    mutating func string(_ s: String) { ggufBytes(Array(s.utf8)) }
    mutating func ggufBytes(_ b: [UInt8]) {
        u64(UInt64(b.count))
        bytes(b)
    }

    mutating func pad(to alignment: Int) {
        while data.count % alignment != 0 { data.append(0) }
    }

    /// GGUF header: magic, version, tensor count, metadata count.
    mutating func ggufHeader(version: UInt32 = 3, tensors: UInt64, metadata: UInt64) {
        bytes(Array("GGUF".utf8))
        u32(version)
        u64(tensors)
        u64(metadata)
    }

    /// One tensor-table entry.
    mutating func tensorInfo(_ name: String, dimensions: [UInt64], type: UInt32, offset: UInt64) {
        string(name)
        u32(UInt32(dimensions.count))
        for d in dimensions { u64(d) }
        u32(type)
        u64(offset)
    }
}

/// A GGUF file of tensor-table entries (name, ggml dimensions, type code, offset) and no metadata, then
/// `dataBytes` bytes of data: for tables that lie about where their tensors are.
func tensorFile(_ entries: [(String, [UInt64], UInt32, UInt64)], dataBytes: Int) -> Data {
    var raw = RawBytes()
    raw.ggufHeader(tensors: UInt64(entries.count), metadata: 0)
    for (name, dims, type, offset) in entries { raw.tensorInfo(name, dimensions: dims, type: type, offset: offset) }
    raw.pad(to: 32)
    raw.bytes([UInt8](repeating: 0x3C, count: dataBytes))
    return raw.data
}

func floatsClose(_ a: [Float], _ b: [Float], tolerance: Float = 1e-6) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance * max(1, abs($1)) }
}
