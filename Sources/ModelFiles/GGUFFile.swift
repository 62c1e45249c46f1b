// A GGUF file (v2, v3), read and checked whole before anything uses it: header, every metadata value,
// the tensor table, alignment, offsets, sizes and overlaps, the way ggml's gguf.cpp checks each read.
// Tensor bytes stay in the (memory-mapped) file until `dequantizedTensor` decodes one.
import Foundation

public final class GGUFFile: @unchecked Sendable {
    public let url: URL
    public let version: Int
    public let metadata: [String: GGUFValue]
    /// Metadata keys in the order the file lists them.
    public let metadataKeys: [String]
    /// The tensor table in file order.
    public let tensors: [GGUFTensorInfo]
    /// `general.alignment`, or 32 when absent.
    public let alignment: Int
    /// Where the data section starts in the file; tensor offsets are relative to it.
    public let dataOffset: Int
    /// The file as errors name it: the path it was opened from, or the name given with its bytes.
    public let name: String

    // Immutable after init, so sharing across threads is safe (hence @unchecked Sendable).
    private let bytes: Data
    private let tensorIndex: [String: Int]

    /// Largest counts accepted, beyond the bytes-left checks: far above any real model, far below trouble.
    static let maximumTensorCount = 1 << 20
    static let maximumMetadataCount = 1 << 20
    static let maximumKeyLength = 1 << 16
    static let maximumTensorNameLength = 1 << 12
    static let maximumArrayDepth = 8
    /// Array elements in all the metadata together (a 256k vocabulary with scores, types and merges is
    /// about 1M): each costs 24 bytes decoded, so this bounds the memory a file of bytes can claim.
    static let maximumMetadataArrayElements = 1 << 23
    static let maximumAlignment = 1 << 20

    /// Reads (memory-maps) `url` and checks all of it; throws `ModelFileError` naming the problem.
    public convenience init(contentsOf url: URL) throws {
        try self.init(data: try ModelFileData.read(url, kind: "GGUF file"), url: url, name: url.path)
    }

    /// Parses bytes already in memory; `name` stands for the file in errors.
    public convenience init(data: Data, name: String) throws {
        try self.init(data: data, url: URL(fileURLWithPath: name), name: name)
    }

    private init(data: Data, url: URL, name: String) throws {
        let layout = try data.withUnsafeBytes { try GGUFLayout.parse($0, file: name) }
        self.url = url
        self.name = name
        self.bytes = data
        self.version = layout.version
        self.metadata = layout.metadata
        self.metadataKeys = layout.metadataKeys
        self.tensors = layout.tensors
        self.alignment = layout.alignment
        self.dataOffset = layout.dataOffset
        var index: [String: Int] = [:]
        for (i, tensor) in layout.tensors.enumerated() { index[tensor.name] = i }
        self.tensorIndex = index
    }

    public func tensor(named name: String) -> GGUFTensorInfo? {
        tensorIndex[name].map { tensors[$0] }
    }

    public func string(_ key: String) -> String? { metadata[key]?.stringValue }
    public func int(_ key: String) -> Int? { metadata[key]?.intValue }
    public func double(_ key: String) -> Double? { metadata[key]?.doubleValue }

    /// The tensor's values as Float32, row-major per `rowMajorShape` (ggml's storage order already is).
    public func dequantizedTensor(named name: String) throws -> [Float] {
        guard let info = tensor(named: name) else {
            throw ModelFileError(file: self.name, field: "tensor '\(name)'",
                                 reason: "no such tensor in the file (it has \(tensors.count) tensors); the model is incomplete or of another architecture")
        }
        return try dequantizedTensor(info)
    }

    /// As `dequantizedTensor(named:)`, for an entry of `tensors`.
    public func dequantizedTensor(_ info: GGUFTensorInfo) throws -> [Float] {
        guard info.type.isSupported else {
            throw ModelFileError(file: self.name, offset: dataOffset + info.offset, field: "tensor '\(info.name)'",
                                 reason: "has type \(info.type.name), which Lazarus cannot dequantise (it reads \(GGMLType.supportedNames)); use a model file quantised to one of those")
        }
        let start = dataOffset + info.offset
        return try Dequantize.floats(info.type, from: bytes, range: start..<(start + info.byteCount), count: info.elementCount)
    }

    /// The whole file's bytes (the memory map, not a copy) and where the tensor's bytes start in them, for
    /// readers that keep quantised blocks in place; the table entry's offset and size were checked on open.
    public func storage(of info: GGUFTensorInfo) -> (bytes: Data, offset: Int) {
        (bytes, dataOffset + info.offset)
    }

    /// The tensor's raw bytes as stored (quantised blocks included).
    public func rawBytes(of info: GGUFTensorInfo) -> Data {
        let start = bytes.startIndex + dataOffset + info.offset
        return bytes.subdata(in: start..<(start + info.byteCount))
    }
}

/// The checked structure of a GGUF file, and the parser that produces it.
struct GGUFLayout {
    var version: Int
    var metadata: [String: GGUFValue]
    var metadataKeys: [String]
    var tensors: [GGUFTensorInfo]
    var alignment: Int
    var dataOffset: Int

    static let magic: UInt32 = 0x4655_4747  // "GGUF" read as a little-endian u32

    static func parse(_ raw: UnsafeRawBufferPointer, file: String) throws -> GGUFLayout {
        var cursor = ByteCursor(raw, file: file)
        guard raw.count >= 4 else {
            throw cursor.error("is \(raw.count) bytes long, too short to be a GGUF file; it is truncated — re-download it", at: 0, field: nil)
        }
        let magic = try cursor.u32("magic")
        guard magic == Self.magic else {
            let found = (0..<4).map { String(format: "%02x", raw[$0]) }.joined(separator: " ")
            throw cursor.error("does not start with the GGUF magic \"GGUF\" (found bytes \(found)); it is not a GGUF file", at: 0, field: "magic")
        }
        let version = try cursor.u32("version")
        if version == 1 {
            throw cursor.error("is GGUF version 1, which is not supported (Lazarus reads versions 2 and 3); convert the model again with a current llama.cpp",
                               at: 4, field: "version")
        }
        guard version == 2 || version == 3 else {
            let swapped = version.byteSwapped
            let hint = (swapped == 2 || swapped == 3) ? "it is a big-endian GGUF file, which is not supported" : "the file is corrupt or from a newer format"
            throw cursor.error("is GGUF version \(version) (Lazarus reads versions 2 and 3); \(hint)", at: 4, field: "version")
        }
        // A tensor entry takes at least 24 bytes (name length, one dimension count, type, offset),
        // a metadata entry at least 13 (key length, type, one byte of value).
        let tensorCount = try cursor.count("tensor count", minimumItemSize: 24, limit: GGUFFile.maximumTensorCount)
        let metadataCount = try cursor.count("metadata count", minimumItemSize: 13, limit: GGUFFile.maximumMetadataCount)

        var metadata: [String: GGUFValue] = [:]
        var elementBudget = GGUFFile.maximumMetadataArrayElements
        var keys: [String] = []
        keys.reserveCapacity(metadataCount)
        for i in 0..<metadataCount {
            let keyStart = cursor.position
            let key = try cursor.string("metadata key #\(i)", maximumLength: GGUFFile.maximumKeyLength)
            guard !key.isEmpty else { throw cursor.error("is empty", at: keyStart, field: "metadata key #\(i)") }
            guard metadata[key] == nil else {
                throw cursor.error("appears twice in the metadata; the file is corrupt", at: keyStart, field: "metadata '\(key)'")
            }
            let field = "metadata '\(key)'"
            let typeCode = try cursor.u32(field)
            metadata[key] = try readValue(&cursor, typeCode: typeCode, field: field, depth: 0, budget: &elementBudget)
            keys.append(key)
        }

        var alignment = 32
        if let value = metadata["general.alignment"] {
            guard case .uint32(let a) = value else {
                throw cursor.error("must be a u32, found a \(GGUFValue.typeName(value.typeCode)); the file is corrupt", at: nil,
                                   field: "metadata 'general.alignment'").withoutOffset
            }
            guard a > 0, a & (a - 1) == 0, Int(a) <= GGUFFile.maximumAlignment else {
                throw cursor.error("is \(a), not a power of two up to \(GGUFFile.maximumAlignment); the file is corrupt",
                                   field: "metadata 'general.alignment'").withoutOffset
            }
            alignment = Int(a)
        }

        var tensors: [GGUFTensorInfo] = []
        tensors.reserveCapacity(tensorCount)
        var tableStarts: [Int] = []
        var names = Set<String>()
        for i in 0..<tensorCount {
            let start = cursor.position
            let name = try cursor.string("tensor #\(i) name", maximumLength: GGUFFile.maximumTensorNameLength)
            let field = "tensor '\(name)'"
            guard names.insert(name).inserted else {
                throw cursor.error("appears twice in the tensor table; the file is corrupt", at: start, field: field)
            }
            let dimensionCount = try cursor.u32(field)
            guard (1...4).contains(dimensionCount) else {
                throw cursor.error("has \(dimensionCount) dimensions; GGUF tensors have 1 to 4", field: field)
            }
            var dimensions: [Int] = []
            var elementCount = 1
            for _ in 0..<Int(dimensionCount) {
                let raw = try cursor.u64(field)
                guard raw > 0, raw <= UInt64(Int.max) else {
                    throw cursor.error("has a dimension of \(raw); each must be at least 1", field: field)
                }
                dimensions.append(Int(raw))
                let (product, overflow) = elementCount.multipliedReportingOverflow(by: Int(raw))
                guard !overflow else {
                    throw cursor.error("has dimensions \(dimensions) whose product overflows; the file is corrupt", field: field)
                }
                elementCount = product
            }
            let typeCode = try cursor.u32(field)
            guard let type = GGMLType(rawValue: typeCode) else {
                throw cursor.error("has unknown ggml type \(typeCode); the file is corrupt or needs a newer reader", field: field)
            }
            guard dimensions[0] % type.valuesPerBlock == 0 else {
                throw cursor.error("has rows of \(dimensions[0]) values, not a whole number of \(type.name) blocks of \(type.valuesPerBlock); the file is corrupt",
                                   field: field)
            }
            let (byteCount, overflow) = (elementCount / type.valuesPerBlock).multipliedReportingOverflow(by: type.bytesPerBlock)
            guard !overflow else {
                throw cursor.error("has dimensions \(dimensions) whose size in bytes overflows; the file is corrupt", field: field)
            }
            let offsetStart = cursor.position
            let rawOffset = try cursor.u64(field)
            guard rawOffset <= UInt64(raw.count) else {
                throw cursor.error("has data offset \(rawOffset), past the end of the file (size \(raw.count)); the file is truncated or corrupt",
                                   at: offsetStart, field: field)
            }
            guard Int(rawOffset) % alignment == 0 else {
                throw cursor.error("has data offset \(rawOffset), not a multiple of the alignment \(alignment); the file is corrupt",
                                   at: offsetStart, field: field)
            }
            tensors.append(GGUFTensorInfo(name: name, dimensions: dimensions, type: type, offset: Int(rawOffset),
                                          elementCount: elementCount, byteCount: byteCount))
            tableStarts.append(start)
        }

        // The data section starts at the next multiple of the alignment after the tensor table.
        let tableEnd = cursor.position
        let dataOffset = (tableEnd + alignment - 1) / alignment * alignment
        let dataSize = raw.count - dataOffset
        if !tensors.isEmpty && dataSize < 0 {
            throw cursor.error("the data section would start at byte \(dataOffset), past the end of the file (size \(raw.count)); the file is truncated — re-download it",
                               at: tableEnd, field: nil)
        }
        for (i, tensor) in tensors.enumerated() {
            let (end, overflow) = tensor.offset.addingReportingOverflow(tensor.byteCount)
            guard !overflow, end <= dataSize else {
                let (absolute, tooFar) = dataOffset.addingReportingOverflow(tensor.offset)
                throw ModelFileError(file: file, offset: tooFar ? tableStarts[i] : absolute, field: "tensor '\(tensor.name)'",
                                     reason: "data (\(tensor.byteCount) bytes at offset \(tensor.offset) of the data section) runs past the end of the file (size \(raw.count)); the file is truncated or corrupt — re-download it")
            }
        }
        let byOffset = tensors.indices.sorted { tensors[$0].offset < tensors[$1].offset }
        for (a, b) in zip(byOffset, byOffset.dropFirst()) where tensors[a].offset + tensors[a].byteCount > tensors[b].offset {
            throw ModelFileError(file: file, offset: dataOffset + tensors[b].offset, field: "tensor '\(tensors[b].name)'",
                                 reason: "its data overlaps that of tensor '\(tensors[a].name)'; the file is corrupt")
        }
        try checkTiling(tensors, byOffset: byOffset, dataOffset: dataOffset, dataSize: dataSize, alignment: alignment, file: file)
        return GGUFLayout(version: Int(version), metadata: metadata, metadataKeys: keys, tensors: tensors,
                          alignment: alignment, dataOffset: dataOffset)
    }

    /// The tensors tile the data section as GGUF writers lay it out: the first at offset 0, each next one where
    /// the one before ends rounded up to the alignment, and after the last only its padding. Each size comes
    /// from the tensor's type and shape, so bytes that belong to no tensor mean a type, shape or offset was
    /// changed: a Q4_1 tensor relabelled Q4_0 would otherwise load as different numbers without a word.
    private static func checkTiling(_ tensors: [GGUFTensorInfo], byOffset: [Int], dataOffset: Int, dataSize: Int,
                                    alignment: Int, file: String) throws {
        func padded(_ end: Int) -> Int { (end + alignment - 1) / alignment * alignment }
        func describe(_ t: GGUFTensorInfo) -> String { "\(t.type.name) \(t.dimensions), \(t.byteCount) bytes" }
        var expected = 0
        var previous: GGUFTensorInfo? = nil
        for i in byOffset {
            let t = tensors[i]
            if t.offset != expected {
                let gap = t.offset - expected
                let reason: String
                if let p = previous {
                    reason = "tensor '\(p.name)' (\(describe(p))) is followed by \(gap) bytes that belong to no tensor before this one starts at offset \(t.offset) of the data section; a tensor's type or shape does not match its data — the file is corrupt"
                } else {
                    reason = "is the first tensor in the data section but starts at offset \(t.offset): \(gap) bytes before it belong to no tensor; the file is corrupt"
                }
                throw ModelFileError(file: file, offset: dataOffset + t.offset, field: "tensor '\(t.name)'", reason: reason)
            }
            expected = padded(t.offset + t.byteCount)
            previous = t
        }
        if let last = previous, dataSize > expected {
            throw ModelFileError(file: file, offset: dataOffset + last.offset, field: "tensor '\(last.name)'",
                                 reason: "is the last tensor (\(describe(last))), but \(dataSize - expected) bytes follow it to the end of the file that belong to no tensor; its type or shape does not match its data, or the file is corrupt")
        }
    }

    /// Smallest encoding of one value of a type, for checking an array's length against the bytes left.
    private static func minimumSize(ofType code: UInt32) -> Int {
        switch code {
        case 0, 1, 7: return 1
        case 2, 3: return 2
        case 4, 5, 6: return 4
        case 8, 10, 11, 12: return 8
        default: return 12  // array: element type and length
        }
    }

    private static func readValue(_ cursor: inout ByteCursor, typeCode: UInt32, field: String, depth: Int,
                                  budget: inout Int) throws -> GGUFValue {
        switch typeCode {
        case 0: return .uint8(try cursor.u8(field))
        case 1: return .int8(Int8(bitPattern: try cursor.u8(field)))
        case 2: return .uint16(try cursor.u16(field))
        case 3: return .int16(Int16(bitPattern: try cursor.u16(field)))
        case 4: return .uint32(try cursor.u32(field))
        case 5: return .int32(Int32(bitPattern: try cursor.u32(field)))
        case 6: return .float32(Float(bitPattern: try cursor.u32(field)))
        case 7:
            let byte = try cursor.u8(field)
            guard byte <= 1 else { throw cursor.error("is a bool stored as \(byte); only 0 and 1 are valid", at: cursor.position - 1, field: field) }
            return .bool(byte == 1)
        case 8: return .string(try cursor.string(field))
        case 9:
            guard depth < GGUFFile.maximumArrayDepth else {
                throw cursor.error("nests arrays more than \(GGUFFile.maximumArrayDepth) deep; the file is corrupt", field: field)
            }
            let elementTypeStart = cursor.position
            let elementType = try cursor.u32(field)
            guard elementType <= 12 else {
                throw cursor.error("is an array of unknown value type \(elementType); the file is corrupt", at: elementTypeStart, field: field)
            }
            let count = try cursor.count(field, minimumItemSize: minimumSize(ofType: elementType))
            guard count <= budget else {
                throw cursor.error("brings the metadata's array elements past the limit of \(GGUFFile.maximumMetadataArrayElements); the file is corrupt or not a model file",
                                   at: elementTypeStart, field: field)
            }
            budget -= count
            var elements: [GGUFValue] = []
            elements.reserveCapacity(count)
            for _ in 0..<count {
                elements.append(try readValue(&cursor, typeCode: elementType, field: field, depth: depth + 1, budget: &budget))
            }
            return .array(elements)
        case 10: return .uint64(try cursor.u64(field))
        case 11: return .int64(Int64(bitPattern: try cursor.u64(field)))
        case 12: return .float64(Double(bitPattern: try cursor.u64(field)))
        default:
            throw cursor.error("has unknown value type \(typeCode); the file is corrupt or needs a newer reader", at: cursor.position - 4, field: field)
        }
    }
}

extension ModelFileError {
    /// The same error without a byte offset, for problems that belong to a value rather than a place.
    var withoutOffset: ModelFileError {
        var copy = self
        copy.offset = nil
        return copy
    }
}
