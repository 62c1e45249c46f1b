// Builds small .safetensors files from Float values (stored as F32, F16 or BF16), for tests and
// checkpoints: header keys sorted, header padded with spaces to 8 bytes, data in insertion order.
import Foundation

public struct SafetensorsWriter {
    /// Written as the header's `__metadata__` when not empty.
    public var metadata: [String: String] = [:]
    private var tensors: [(name: String, shape: [Int], values: [Float], dtype: SafetensorsDType)] = []

    public init() {}

    /// Adds a tensor; `shape` is row-major and must hold `values.count` values (checked by `encoded`).
    public mutating func add(name: String, shape: [Int], values: [Float], dtype: SafetensorsDType = .f32) {
        tensors.append((name, shape, values, dtype))
    }

    /// The whole file. Throws on a repeated or reserved name, or a shape that does not fit its values.
    public func encoded() throws -> Data {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var body = Data()
        for tensor in tensors {
            func fail(_ reason: String) -> ModelFileError {
                ModelFileError(file: "(safetensors writer)", field: "tensor '\(tensor.name)'", reason: reason)
            }
            guard tensor.name != "__metadata__", header[tensor.name] == nil else { throw fail("is added twice or uses a reserved name") }
            guard tensor.shape.allSatisfy({ $0 >= 0 }), tensor.shape.reduce(1, *) == tensor.values.count else {
                throw fail("has shape \(tensor.shape), which does not hold its \(tensor.values.count) values")
            }
            let begin = body.count
            for value in tensor.values {
                switch tensor.dtype {
                case .f32: body.appendLittleEndian(value.bitPattern)
                case .f16: body.appendLittleEndian(HalfFloat.fromFloat(value))
                case .bf16: body.appendLittleEndian(BFloat16.fromFloat(value))
                }
            }
            header[tensor.name] = ["dtype": tensor.dtype.rawValue, "shape": tensor.shape, "data_offsets": [begin, body.count]] as [String: Any]
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        // Padding the header to 8 bytes keeps the data aligned, as the format recommends.
        json.append(Data(repeating: UInt8(ascii: " "), count: (8 - json.count % 8) % 8))
        var out = Data()
        out.appendLittleEndian(UInt64(json.count))
        out.append(json)
        out.append(body)
        return out
    }

    /// Writes `encoded()` atomically.
    public func write(to url: URL) throws {
        try AtomicWrite.write(try encoded(), to: url)
    }
}
