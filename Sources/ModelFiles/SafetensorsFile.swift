// One .safetensors file: a u64 header length, a JSON header naming each tensor's dtype, shape and byte
// range, then the bytes. Everything in the header is checked against the file before it is used;
// tensor bytes stay in the (memory-mapped) file until `floatTensor` converts one.
import Foundation

public struct SafetensorsFile: @unchecked Sendable {
    struct Entry: Sendable {
        var dtype: String
        var shape: [Int]
        var elementCount: Int
        var begin: Int
        var end: Int
    }

    /// Headers larger than this are refused: real ones are well under a megabyte.
    static let maximumHeaderLength = 100 << 20

    public let url: URL
    /// The file as errors name it: the path it was opened from, or the name given with its bytes.
    public let name: String
    /// Tensor names in the order of their bytes in the file.
    public let tensorNames: [String]
    /// The header's `__metadata__` map (empty when absent).
    public let metadata: [String: String]

    // Immutable after init (hence @unchecked Sendable: Data of a mapped file is not declared Sendable).
    private let bytes: Data
    private let entries: [String: Entry]
    private let dataStart: Int
    /// True when `bytes` is a mapping of our own (MappedFile): `floatTensor` then drops the pages it has decoded,
    /// so a checkpoint's bytes and their Float32 copy are not resident together.
    private var releasesDecodedPages = false

    public init(contentsOf url: URL) throws {
        let (data, mapped) = try ModelFileData.read(url, kind: "safetensors file", ownMapping: true)
        try self.init(data: data, url: url, name: url.path)
        releasesDecodedPages = mapped
    }

    /// Parses bytes already in memory; `name` stands for the file in errors.
    public init(data: Data, name: String) throws {
        try self.init(data: data, url: URL(fileURLWithPath: name), name: name)
    }

    private init(data: Data, url: URL, name: String) throws {
        let file = name
        self.url = url
        self.name = name
        self.bytes = data
        guard data.count >= 8 else {
            throw ModelFileError(file: file, offset: 0, field: "header length",
                                 reason: "the file is \(data.count) bytes, too short for a safetensors header; it is truncated — re-download it")
        }
        let headerLength = data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard headerLength <= UInt64(data.count - 8) else {
            throw ModelFileError(file: file, offset: 0, field: "header length",
                                 reason: "claims a \(headerLength)-byte header but the file has only \(data.count - 8) bytes after it; the file is truncated or not safetensors")
        }
        guard headerLength <= UInt64(Self.maximumHeaderLength) else {
            throw ModelFileError(file: file, offset: 0, field: "header length",
                                 reason: "claims a \(headerLength)-byte header, more than the limit of \(Self.maximumHeaderLength); the file is corrupt")
        }
        dataStart = 8 + Int(headerLength)
        let header = try JSONFields.object(data.subdata(in: (data.startIndex + 8)..<(data.startIndex + dataStart)),
                                           file: file, what: "the header")
        let dataSize = data.count - dataStart
        var entries: [String: Entry] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in header {
            if name == "__metadata__" {
                guard let map = value as? [String: Any] else {
                    throw ModelFileError(file: file, offset: 8, field: "__metadata__",
                                         reason: "must be an object of strings, found \(JSONFields.typeName(value)); the file is corrupt")
                }
                for (key, item) in map {
                    guard let text = item as? String else {
                        throw ModelFileError(file: file, offset: 8, field: "__metadata__.\(key)",
                                             reason: "must be a string, found \(JSONFields.typeName(item)); the file is corrupt")
                    }
                    metadata[key] = text
                }
                continue
            }
            entries[name] = try Self.entry(name, value, file: file, dataSize: dataSize)
        }
        let ordered = entries.sorted { ($0.value.begin, $0.value.end, $0.key) < ($1.value.begin, $1.value.end, $1.key) }
        for (previous, next) in zip(ordered, ordered.dropFirst()) where previous.value.end > next.value.begin {
            throw ModelFileError(file: file, offset: dataStart + next.value.begin, field: "tensor '\(next.key)'",
                                 reason: "its bytes \(next.value.begin)..<\(next.value.end) overlap those of tensor '\(previous.key)' (\(previous.value.begin)..<\(previous.value.end)); the file is corrupt")
        }
        self.entries = entries
        self.metadata = metadata
        self.tensorNames = ordered.map(\.key)
    }

    /// Checks one header entry: known dtype, non-negative shape, byte range inside the data and of
    /// exactly the size the shape and dtype give (products checked for overflow).
    private static func entry(_ name: String, _ value: Any, file: String, dataSize: Int) throws -> Entry {
        let field = "tensor '\(name)'"
        func fail(_ reason: String) -> ModelFileError {
            ModelFileError(file: file, offset: 8, field: field, reason: reason + "; the file is corrupt")
        }
        guard let object = value as? [String: Any] else {
            throw fail("must be an object with dtype, shape and data_offsets, found \(JSONFields.typeName(value))")
        }
        guard let dtype = object["dtype"] as? String else { throw fail("has no dtype string") }
        guard let elementSize = SafetensorsDType.knownSizes[dtype] else {
            throw ModelFileError(file: file, offset: 8, field: field,
                                 reason: "has unknown dtype '\(dtype)' (known: \(SafetensorsDType.knownSizes.keys.sorted().joined(separator: ", "))); the file is corrupt or needs a newer reader")
        }
        guard let rawShape = object["shape"] as? [Any] else { throw fail("has no shape array") }
        var shape: [Int] = []
        var elementCount = 1
        for item in rawShape {
            guard let dimension = JSONFields.int(item), dimension >= 0 else {
                throw fail("has a shape entry that is not a whole number ≥ 0")
            }
            shape.append(dimension)
            let (product, overflow) = elementCount.multipliedReportingOverflow(by: dimension)
            guard !overflow else { throw fail("has shape \(shape) whose product overflows") }
            elementCount = product
        }
        guard let offsets = object["data_offsets"] as? [Any], offsets.count == 2,
              let begin = JSONFields.int(offsets[0]), let end = JSONFields.int(offsets[1]) else {
            throw fail("has no data_offsets pair [begin, end]")
        }
        guard begin >= 0, begin <= end, end <= dataSize else {
            throw ModelFileError(file: file, offset: 8, field: field,
                                 reason: "has data_offsets [\(begin), \(end)] outside the \(dataSize) bytes of data; the file is truncated or corrupt — re-download it")
        }
        let (byteCount, overflow) = elementCount.multipliedReportingOverflow(by: elementSize)
        guard !overflow, byteCount == end - begin else {
            throw fail("has shape \(shape) of \(dtype), which needs \(overflow ? "more than Int.max" : String(byteCount)) bytes, but data_offsets give \(end - begin)")
        }
        return Entry(dtype: dtype, shape: shape, elementCount: elementCount, begin: begin, end: end)
    }

    public func dtype(of name: String) -> String? { entries[name]?.dtype }
    public func shape(of name: String) -> [Int]? { entries[name]?.shape }

    /// The tensor's values as Float32 (row-major, as stored), from F32, F16 or BF16.
    public func floatTensor(named name: String) throws -> [Float] {
        let file = self.name
        guard let entry = entries[name] else {
            throw ModelFileError(file: file, field: "tensor '\(name)'",
                                 reason: "no such tensor in the file (it has \(entries.count)); the checkpoint is incomplete or of another architecture")
        }
        guard let dtype = SafetensorsDType(rawValue: entry.dtype) else {
            throw ModelFileError(file: file, offset: dataStart + entry.begin, field: "tensor '\(name)'",
                                 reason: "has dtype \(entry.dtype); Lazarus reads F32, F16 and BF16 tensors — convert the checkpoint to one of those")
        }
        let range = (dataStart + entry.begin)..<(dataStart + entry.end)
        let values = try Dequantize.floats(dtype.ggmlType, from: bytes, range: range, count: entry.elementCount)
        if releasesDecodedPages { MappedFile.releasePages(of: bytes, range: range) }
        return values
    }

    /// The tensor's bytes as stored, or nil when there is no such tensor.
    public func rawBytes(of name: String) -> Data? {
        guard let entry = entries[name] else { return nil }
        let base = bytes.startIndex + dataStart
        return bytes.subdata(in: (base + entry.begin)..<(base + entry.end))
    }
}
