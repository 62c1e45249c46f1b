// INTERIM — TO BE REPLACED by the ModelFiles target's SafetensorsWriter / SafetensorsFile / AtomicWrite
// once that lands on main. A minimal F32-only safetensors encoder and a checked decoder, internal to
// Training, so that adapter and optimiser files can be written and tested before then. Not a general reader.
import Foundation

struct InterimSafetensorsTensor: Equatable {
    var shape: [Int]
    var values: [Float]
}

enum InterimSafetensors {
    /// 8-byte little-endian header length, the JSON header (padded with spaces to 8 bytes), then the data.
    static func encode(_ tensors: [String: InterimSafetensorsTensor], metadata: [String: String]) throws -> Data {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        let names = tensors.keys.sorted()
        for name in names {
            let t = tensors[name]!
            precondition(t.shape.reduce(1, *) == t.values.count, "safetensors: \(name) shape \(t.shape) holds \(t.values.count) values")
            header[name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + 4 * t.values.count]] as [String: Any]
            offset += 4 * t.values.count
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }
        var data = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        for name in names {
            for v in tensors[name]!.values { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        }
        return data
    }

    /// Every tensor and the metadata of a file, each count and offset checked against the bytes there are.
    static func decode(_ data: Data, file: String) throws -> (tensors: [String: InterimSafetensorsTensor], metadata: [String: String]) {
        func fail(_ field: String, _ reason: String) -> TrainingError { .adapterFile(file: file, field: field, reason: reason) }
        let bytes = [UInt8](data)
        guard bytes.count >= 8 else { throw fail("header length", "the file has \(bytes.count) bytes, fewer than the 8 of the header length") }
        var headerLength: UInt64 = 0
        for i in 0..<8 { headerLength |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        guard headerLength <= UInt64(bytes.count - 8) else {
            throw fail("header length", "\(headerLength) bytes of header, but only \(bytes.count - 8) bytes follow")
        }
        let dataStart = 8 + Int(headerLength)
        guard let header = (try? JSONSerialization.jsonObject(with: Data(bytes[8..<dataStart]))) as? [String: Any] else {
            throw fail("header", "not a JSON object")
        }
        var metadata: [String: String] = [:]
        var tensors: [String: InterimSafetensorsTensor] = [:]
        let dataBytes = bytes.count - dataStart
        for (name, entry) in header {
            if name == "__metadata__" {
                guard let m = entry as? [String: String] else { throw fail("__metadata__", "not an object of strings") }
                metadata = m
                continue
            }
            guard let e = entry as? [String: Any], let dtype = e["dtype"] as? String,
                  let shape = e["shape"] as? [Int], let offsets = e["data_offsets"] as? [Int], offsets.count == 2 else {
                throw fail(name, "needs dtype, shape and two data_offsets")
            }
            guard dtype == "F32" else { throw fail(name, "dtype \(dtype); adapter files here are F32") }
            var count = 1
            for d in shape {
                guard d >= 0 else { throw fail(name, "negative dimension in shape \(shape)") }
                let (p, overflow) = count.multipliedReportingOverflow(by: d)
                guard !overflow, p <= dataBytes / 4 else { throw fail(name, "shape \(shape) is larger than the file") }
                count = p
            }
            guard offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= dataBytes, offsets[1] - offsets[0] == 4 * count else {
                throw fail(name, "data_offsets \(offsets) do not fit shape \(shape) within \(dataBytes) data bytes")
            }
            var values = [Float](repeating: 0, count: count)
            let base = dataStart + offsets[0]
            for i in 0..<count {
                let o = base + 4 * i
                let bits = UInt32(bytes[o]) | UInt32(bytes[o + 1]) << 8 | UInt32(bytes[o + 2]) << 16 | UInt32(bytes[o + 3]) << 24
                values[i] = Float(bitPattern: bits)
            }
            tensors[name] = InterimSafetensorsTensor(shape: shape, values: values)
        }
        return (tensors, metadata)
    }

    /// Temp file in the same folder, then rename: a reader never sees half a file.
    static func atomicWrite(_ data: Data, to url: URL) throws {
        do { try data.write(to: url, options: .atomic) } catch {
            throw TrainingError.checkpoint(file: url.path, reason: "cannot be written: \(error.localizedDescription)")
        }
    }
}
