// Decodes ggml blocks (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K, MXFP4) into Float32,
// reading each field from raw little-endian bytes at its offset in ggml-common.h's block structs,
// never by casting bytes onto a Swift struct. Big tensors are split over the two cores.
import Foundation

public enum Dequantize {
    /// Below this many values one thread is faster than waking a second.
    static let parallelThreshold = 1 << 16

    /// Decodes whole blocks of `type` into `out`, which must hold exactly their values.
    public static func decode(_ type: GGMLType, blocks: UnsafeRawBufferPointer, into out: UnsafeMutableBufferPointer<Float>) throws {
        guard type.isSupported else {
            throw ModelFileError(file: "(tensor data)", field: type.name,
                                 reason: "Lazarus cannot dequantise \(type.name) (it reads \(GGMLType.supportedNames))")
        }
        let blockBytes = type.bytesPerBlock
        let blockValues = type.valuesPerBlock
        guard blocks.count % blockBytes == 0 else {
            throw ModelFileError(file: "(tensor data)", field: type.name,
                                 reason: "\(blocks.count) bytes are not a whole number of \(blockBytes)-byte blocks")
        }
        let blockCount = blocks.count / blockBytes
        guard out.count == blockCount * blockValues else {
            throw ModelFileError(file: "(tensor data)", field: type.name,
                                 reason: "\(blockCount) blocks hold \(blockCount * blockValues) values but the output has room for \(out.count)")
        }
        guard blockCount > 0, let source = blocks.baseAddress, let destination = out.baseAddress else { return }
        if out.count < parallelThreshold {
            decodeRange(type, source, destination, 0..<blockCount)
            return
        }
        let parts = 2
        let perPart = (blockCount + parts - 1) / parts
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            let start = part * perPart
            let end = min(blockCount, start + perPart)
            if start < end { decodeRange(type, source, destination, start..<end) }
        }
    }

    /// Decodes the bytes at `range` of `data` (whole blocks of `type`) into a new array of `count` values.
    static func floats(_ type: GGMLType, from data: Data, range: Range<Int>, count: Int) throws -> [Float] {
        try data.withUnsafeBytes { raw in
            let blocks = UnsafeRawBufferPointer(rebasing: raw[range])
            return try [Float](unsafeUninitializedCapacity: count) { out, initialized in
                try decode(type, blocks: blocks, into: out)
                initialized = count
            }
        }
    }

    /// Decodes blocks `range` of `source` into their places in `destination`.
    static func decodeRange(_ type: GGMLType, _ source: UnsafeRawPointer, _ destination: UnsafeMutablePointer<Float>, _ range: Range<Int>) {
        let blockBytes = type.bytesPerBlock
        let blockValues = type.valuesPerBlock
        @inline(__always)
        func each(_ body: (UnsafeRawPointer, UnsafeMutablePointer<Float>) -> Void) {
            for block in range {
                body(source + block * blockBytes, destination + block * blockValues)
            }
        }
        switch type {
        case .f32:
            // ggml and this machine are both little-endian, so F32 is a copy.
            UnsafeMutableRawPointer(destination + range.lowerBound)
                .copyMemory(from: source + range.lowerBound * 4, byteCount: range.count * 4)
        case .f16: each { p, y in y.pointee = HalfFloat.toFloat(p.loadUnaligned(as: UInt16.self)) }
        case .bf16: each { p, y in y.pointee = BFloat16.toFloat(p.loadUnaligned(as: UInt16.self)) }
        case .q4_0: each(LegacyQuantBlocks.q4_0)
        case .q4_1: each(LegacyQuantBlocks.q4_1)
        case .q5_0: each(LegacyQuantBlocks.q5_0)
        case .q5_1: each(LegacyQuantBlocks.q5_1)
        case .q8_0: each(LegacyQuantBlocks.q8_0)
        case .q4_K: each(KQuantBlocks.q4_K)
        case .q5_K: each(KQuantBlocks.q5_K)
        case .q6_K: each(KQuantBlocks.q6_K)
        case .mxfp4: each(MXFP4Blocks.mxfp4)
        default: break  // rejected by `decode` before any work
        }
    }
}

@inline(__always)
func loadHalf(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
    HalfFloat.toFloat(UInt16(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
}

@inline(__always)
func loadByte(_ p: UnsafeRawPointer, _ offset: Int) -> UInt8 {
    p.load(fromByteOffset: offset, as: UInt8.self)
}
