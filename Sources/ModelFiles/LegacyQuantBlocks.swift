// ggml's 32-value blocks: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, one function per block layout.
// In the 4- and 5-bit ones, byte j's low nibble is value j and its high nibble value j + 16.

enum LegacyQuantBlocks {
    /// { f16 d; u8 qs[16] }: d × (nibble − 8).
    @inline(__always)
    static func q4_0(_ p: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = loadHalf(p, 0)
        for j in 0..<16 {
            let q = loadByte(p, 2 + j)
            y[j] = Float(Int(q & 0xF) - 8) * d
            y[j + 16] = Float(Int(q >> 4) - 8) * d
        }
    }

    /// { f16 d; f16 m; u8 qs[16] }: d × nibble + m.
    @inline(__always)
    static func q4_1(_ p: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = loadHalf(p, 0)
        let m = loadHalf(p, 2)
        for j in 0..<16 {
            let q = loadByte(p, 4 + j)
            y[j] = Float(q & 0xF) * d + m
            y[j + 16] = Float(q >> 4) * d + m
        }
    }

    /// { f16 d; u8 qh[4]; u8 qs[16] }: bit j of the little-endian u32 qh is value j's fifth bit; d × (q − 16).
    @inline(__always)
    static func q5_0(_ p: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = loadHalf(p, 0)
        let qh = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 2, as: UInt32.self))
        for j in 0..<16 {
            let q = loadByte(p, 6 + j)
            let low = Int(q & 0xF) | Int((qh >> UInt32(j)) & 1) << 4
            let high = Int(q >> 4) | Int((qh >> UInt32(j + 16)) & 1) << 4
            y[j] = Float(low - 16) * d
            y[j + 16] = Float(high - 16) * d
        }
    }

    /// { f16 d; f16 m; u8 qh[4]; u8 qs[16] }: d × q + m with q's fifth bit from qh as in Q5_0.
    @inline(__always)
    static func q5_1(_ p: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = loadHalf(p, 0)
        let m = loadHalf(p, 2)
        let qh = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        for j in 0..<16 {
            let q = loadByte(p, 8 + j)
            let low = UInt32(q & 0xF) | ((qh >> UInt32(j)) & 1) << 4
            let high = UInt32(q >> 4) | ((qh >> UInt32(j + 16)) & 1) << 4
            y[j] = Float(low) * d + m
            y[j + 16] = Float(high) * d + m
        }
    }

    /// { f16 d; i8 qs[32] }: d × q.
    @inline(__always)
    static func q8_0(_ p: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = loadHalf(p, 0)
        for j in 0..<32 {
            y[j] = Float(Int8(bitPattern: loadByte(p, 2 + j))) * d
        }
    }
}
