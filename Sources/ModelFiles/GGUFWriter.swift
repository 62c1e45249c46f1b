// Builds small GGUF files (v2 or v3) in memory, for tests and fixtures: metadata in insertion order,
// tensors packed at the alignment. Not a converter: it writes the bytes it is given, unchecked.
import Foundation

public struct GGUFWriter {
    public let version: Int
    public let alignment: Int
    private var keys: [String] = []
    private var values: [String: GGUFValue] = [:]
    private var tensors: [(name: String, dimensions: [Int], type: GGMLType, bytes: Data)] = []

    /// `alignment` other than 32 is recorded as `general.alignment` unless that key is set explicitly.
    public init(version: Int = 3, alignment: Int = 32) {
        precondition(alignment > 0 && alignment & (alignment - 1) == 0, "GGUF alignment must be a power of two")
        self.version = version
        self.alignment = alignment
    }

    /// Sets `key`; a key set again keeps its first position. Arrays must be homogeneous.
    public mutating func set(_ key: String, _ value: GGUFValue) {
        if case .array(let elements) = value, let first = elements.first {
            precondition(elements.allSatisfy { $0.typeCode == first.typeCode }, "GGUF arrays hold one type: '\(key)'")
        }
        if values.updateValue(value, forKey: key) == nil { keys.append(key) }
    }

    /// Adds a tensor with raw `bytes` already in `type`'s block layout; dimensions fastest first.
    public mutating func addTensor(name: String, dimensions: [Int], type: GGMLType, bytes: Data) {
        tensors.append((name, dimensions, type, bytes))
    }

    /// Adds an F32 tensor from a row-major `shape` (Hugging Face order) and its values.
    public mutating func addFloat32Tensor(name: String, shape: [Int], values: [Float]) {
        precondition(shape.reduce(1, *) == values.count, "tensor '\(name)': shape \(shape) does not hold \(values.count) values")
        var bytes = Data(capacity: values.count * 4)
        for value in values { bytes.appendLittleEndian(value.bitPattern) }
        addTensor(name: name, dimensions: shape.reversed(), type: .f32, bytes: bytes)
    }

    /// The whole file.
    public func encoded() -> Data {
        var out = Data()
        out.append(contentsOf: Array("GGUF".utf8))
        out.appendLittleEndian(UInt32(version))
        var entries = keys.map { ($0, values[$0]!) }
        if alignment != 32 && values["general.alignment"] == nil {
            entries.insert(("general.alignment", .uint32(UInt32(alignment))), at: 0)
        }
        out.appendLittleEndian(UInt64(tensors.count))
        out.appendLittleEndian(UInt64(entries.count))
        for (key, value) in entries {
            out.appendGGUFString(key)
            out.appendLittleEndian(value.typeCode)
            out.appendGGUFValue(value)
        }
        var offset = 0
        var offsets: [Int] = []
        for tensor in tensors {
            out.appendGGUFString(tensor.name)
            out.appendLittleEndian(UInt32(tensor.dimensions.count))
            for dimension in tensor.dimensions { out.appendLittleEndian(UInt64(dimension)) }
            out.appendLittleEndian(tensor.type.rawValue)
            out.appendLittleEndian(UInt64(offset))
            offsets.append(offset)
            offset = padded(offset + tensor.bytes.count)
        }
        if !tensors.isEmpty {
            out.append(Data(count: padded(out.count) - out.count))
            for tensor in tensors {
                out.append(tensor.bytes)
                out.append(Data(count: padded(tensor.bytes.count) - tensor.bytes.count))
            }
        }
        return out
    }

    /// Writes `encoded()` atomically.
    public func write(to url: URL) throws {
        try AtomicWrite.write(encoded(), to: url)
    }

    private func padded(_ n: Int) -> Int { (n + alignment - 1) / alignment * alignment }
}

extension Data {
    mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    mutating func appendGGUFString(_ string: String) {
        let utf8 = Array(string.utf8)
        appendLittleEndian(UInt64(utf8.count))
        append(contentsOf: utf8)
    }

    mutating func appendGGUFValue(_ value: GGUFValue) {
        switch value {
        case .uint8(let v): appendLittleEndian(v)
        case .int8(let v): appendLittleEndian(v)
        case .uint16(let v): appendLittleEndian(v)
        case .int16(let v): appendLittleEndian(v)
        case .uint32(let v): appendLittleEndian(v)
        case .int32(let v): appendLittleEndian(v)
        case .float32(let v): appendLittleEndian(v.bitPattern)
        case .bool(let v): appendLittleEndian(UInt8(v ? 1 : 0))
        case .string(let v): appendGGUFString(v)
        case .array(let elements):
            // An empty array has no element to name its type; u8 is as good as any.
            appendLittleEndian(elements.first?.typeCode ?? 0)
            appendLittleEndian(UInt64(elements.count))
            for element in elements { appendGGUFValue(element) }
        case .uint64(let v): appendLittleEndian(v)
        case .int64(let v): appendLittleEndian(v)
        case .float64(let v): appendLittleEndian(v.bitPattern)
        }
    }
}
