// Each block format decoded from bytes packed here from chosen quantised values, against the values
// computed here by the format's formula (ggml-common.h), not by the decoder's own unpacking.
import Foundation
import Testing
import ModelFiles

func decoded(_ type: GGMLType, _ bytes: [UInt8]) throws -> [Float] {
    let count = bytes.count / type.bytesPerBlock * type.valuesPerBlock
    var out = [Float](repeating: .nan, count: count)
    try bytes.withUnsafeBytes { raw in
        try out.withUnsafeMutableBufferPointer { try Dequantize.decode(type, blocks: raw, into: $0) }
    }
    return out
}

func halfBytes(_ value: Float) -> [UInt8] {
    let bits = HalfFloat.fromFloat(value)
    return [UInt8(bits & 0xFF), UInt8(bits >> 8)]
}

/// Packs 32 values of 4 bits the legacy way: byte j holds value j (low nibble) and j + 16 (high).
func packNibbles32(_ q: [Int]) -> [UInt8] {
    (0..<16).map { UInt8(q[$0] & 0xF) | UInt8(q[$0 + 16] & 0xF) << 4 }
}

/// The 5th bits of 32 values as the little-endian u32 `qh`: bit i is value i's bit 4.
func fifthBits32(_ q: [Int]) -> [UInt8] {
    var word: UInt32 = 0
    for i in 0..<32 where q[i] & 16 != 0 { word |= 1 << UInt32(i) }
    return [0, 8, 16, 24].map { UInt8((word >> UInt32($0)) & 0xFF) }
}

/// Packs 8 six-bit scales and mins into the 12 bytes of Q4_K/Q5_K (the inverse of get_scale_min_k4).
func packScalesAndMins(_ scales: [Int], _ mins: [Int]) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: 12)
    for j in 0..<4 {
        out[j] = UInt8(scales[j]) | UInt8(scales[j + 4] >> 4) << 6
        out[j + 4] = UInt8(mins[j]) | UInt8(mins[j + 4] >> 4) << 6
        out[j + 8] = UInt8(scales[j + 4] & 0xF) | UInt8(mins[j + 4] & 0xF) << 4
    }
    return out
}

struct DequantizeTests {
    @Test func q4_0() throws {
        let q = (0..<32).map { ($0 * 5 + 3) % 16 }
        let out = try decoded(.q4_0, halfBytes(0.5) + packNibbles32(q))
        #expect(out == q.map { Float($0 - 8) * 0.5 })
    }

    @Test func q4_1() throws {
        let q = (0..<32).map { ($0 * 7) % 16 }
        let out = try decoded(.q4_1, halfBytes(0.25) + halfBytes(-1.5) + packNibbles32(q))
        #expect(out == q.map { Float($0) * 0.25 - 1.5 })
    }

    @Test func q5_0() throws {
        let q = (0..<32).map { ($0 * 11 + 5) % 32 }
        let out = try decoded(.q5_0, halfBytes(2) + fifthBits32(q) + packNibbles32(q))
        #expect(out == q.map { Float($0 - 16) * 2 })
    }

    @Test func q5_1() throws {
        let q = (0..<32).map { ($0 * 13 + 1) % 32 }
        let out = try decoded(.q5_1, halfBytes(0.125) + halfBytes(3) + fifthBits32(q) + packNibbles32(q))
        #expect(out == q.map { Float($0) * 0.125 + 3 })
    }

    @Test func q8_0() throws {
        let q = (0..<32).map { $0 * 8 - 128 }
        let out = try decoded(.q8_0, halfBytes(0.125) + q.map { UInt8(bitPattern: Int8($0)) })
        #expect(out == q.map { Float($0) * 0.125 })
    }

    @Test func plainFloatTypes() throws {
        let values: [Float] = [1, -2.5, 0.333251953125, 65504, 0]
        let f32 = values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
        #expect(try decoded(.f32, f32) == values)
        #expect(try decoded(.f16, values.flatMap(halfBytes)) == values)
        let bf16: [Float] = [1, -2.5, 0.5, 3.0e38, 0]
        let bfBytes = bf16.flatMap { v -> [UInt8] in let b = BFloat16.fromFloat(v); return [UInt8(b & 0xFF), UInt8(b >> 8)] }
        #expect(floatsClose(try decoded(.bf16, bfBytes), bf16, tolerance: 1e-2))
    }

    @Test func q4_K() throws {
        let scales = [1, 63, 17, 40, 33, 5, 62, 48]   // several above 15, so the top bits matter
        let mins = [0, 9, 63, 22, 47, 31, 2, 60]
        let q = (0..<256).map { ($0 * 7 + $0 / 32) % 16 }
        var qs = [UInt8](repeating: 0, count: 128)
        for group in 0..<4 {
            for l in 0..<32 {
                qs[32 * group + l] = UInt8(q[64 * group + l]) | UInt8(q[64 * group + 32 + l]) << 4
            }
        }
        let d: Float = 0.5, dmin: Float = 0.25
        let out = try decoded(.q4_K, halfBytes(d) + halfBytes(dmin) + packScalesAndMins(scales, mins) + qs)
        let expected = (0..<256).map { i in d * Float(scales[i / 32]) * Float(q[i]) - dmin * Float(mins[i / 32]) }
        #expect(out == expected)
    }

    @Test func q5_K() throws {
        let scales = [63, 2, 35, 16, 8, 59, 44, 21]
        let mins = [12, 63, 0, 50, 19, 36, 7, 28]
        let q = (0..<256).map { ($0 * 13 + $0 / 16) % 32 }
        var qh = [UInt8](repeating: 0, count: 32)
        var qs = [UInt8](repeating: 0, count: 128)
        for i in 0..<256 where q[i] & 16 != 0 { qh[i % 32] |= 1 << UInt8(i / 32) }
        for group in 0..<4 {
            for l in 0..<32 {
                qs[32 * group + l] = UInt8(q[64 * group + l] & 0xF) | UInt8(q[64 * group + 32 + l] & 0xF) << 4
            }
        }
        let d: Float = 0.125, dmin: Float = 1
        let out = try decoded(.q5_K, halfBytes(d) + halfBytes(dmin) + packScalesAndMins(scales, mins) + qh + qs)
        let expected = (0..<256).map { i in d * Float(scales[i / 32]) * Float(q[i]) - dmin * Float(mins[i / 32]) }
        #expect(out == expected)
    }

    @Test func q6_K() throws {
        let q = (0..<256).map { ($0 * 29 + 7) % 64 }
        let scales: [Int8] = [1, -1, 127, -128, 5, -7, 64, 3, -30, 2, 9, -9, 100, -100, 0, 11]
        var ql = [UInt8](repeating: 0, count: 128)
        var qh = [UInt8](repeating: 0, count: 64)
        for half in 0..<2 {
            for l in 0..<32 {
                let base = 128 * half + l
                let (a, b, c, e) = (q[base], q[base + 32], q[base + 64], q[base + 96])
                ql[64 * half + l] = UInt8(a & 0xF) | UInt8(c & 0xF) << 4
                ql[64 * half + l + 32] = UInt8(b & 0xF) | UInt8(e & 0xF) << 4
                qh[32 * half + l] = UInt8(a >> 4) | UInt8(b >> 4) << 2 | UInt8(c >> 4) << 4 | UInt8(e >> 4) << 6
            }
        }
        let d: Float = 0.0625
        let out = try decoded(.q6_K, ql + qh + scales.map { UInt8(bitPattern: $0) } + halfBytes(d))
        let expected = (0..<256).map { i in d * Float(scales[i / 16]) * Float(q[i] - 32) }
        #expect(out == expected)
    }

    /// The two-thread path must give exactly what decoding block by block gives.
    @Test func largeBufferMatchesBlockByBlock() throws {
        let blocks = 5000
        var bytes: [UInt8] = []
        for b in 0..<blocks {
            bytes += halfBytes(Float(b % 17) * 0.01 + 0.001)
            bytes += (0..<32).map { UInt8(truncatingIfNeeded: $0 * 31 + b) }
        }
        let whole = try decoded(.q8_0, bytes)
        for b in stride(from: 0, to: blocks, by: 499) {
            let one = try decoded(.q8_0, Array(bytes[(b * 34)..<(b * 34 + 34)]))
            #expect(Array(whole[(b * 32)..<(b * 32 + 32)]) == one)
        }
        #expect(!whole.contains { $0.isNaN })
    }

    @Test func unsupportedTypesAndSizesAreRejected() {
        expectRejection("Q2_K") { _ = try decoded(.q2_K, [UInt8](repeating: 0, count: 84)) }
        expectRejection("not a whole number") { _ = try decoded(.q8_0, [UInt8](repeating: 0, count: 35)) }
        expectRejection("room for") {
            let bytes = [UInt8](repeating: 0, count: 34)
            var out = [Float](repeating: 0, count: 31)
            try bytes.withUnsafeBytes { raw in try out.withUnsafeMutableBufferPointer { try Dequantize.decode(.q8_0, blocks: raw, into: $0) } }
        }
    }

    @Test func typeGeometry() {
        #expect(GGMLType.q4_K.bytesPerBlock == 144 && GGMLType.q5_K.bytesPerBlock == 176 && GGMLType.q6_K.bytesPerBlock == 210)
        #expect(GGMLType.q8_0.bytesPerBlock == 34 && GGMLType.q4_1.bytesPerBlock == 20 && GGMLType.q5_1.bytesPerBlock == 24)
        #expect(GGMLType.bf16.rawValue == 30 && GGMLType.q4_K.name == "Q4_K")
        #expect(GGMLType.allCases.filter(\.isSupported).count == 12)
        #expect(GGMLType.mxfp4.bytesPerBlock == 17 && GGMLType.mxfp4.valuesPerBlock == 32 && GGMLType.mxfp4.isSupported)
    }
}
