// ggml's 256-value K-quant super-blocks: Q4_K, Q5_K, Q6_K. Each is 8 (Q4_K, Q5_K) or 16 (Q6_K)
// sub-blocks with their own scale; the packing of those scales is the subtle part, written out below.

enum KQuantBlocks {
    /// Q4_K and Q5_K pack 8 six-bit scales and 8 six-bit mins into 12 bytes: sub-blocks 0–3 use the low
    /// 6 bits of bytes 0–3 (scale) and 4–7 (min); sub-blocks 4–7 take their low 4 bits from bytes 8–11
    /// (scale low nibble, min high nibble) and their top 2 bits from the spare top bits of bytes 0–7.
    @inline(__always)
    static func scaleAndMin(_ scales: UnsafeRawPointer, _ j: Int) -> (scale: UInt8, min: UInt8) {
        if j < 4 {
            return (loadByte(scales, j) & 63, loadByte(scales, j + 4) & 63)
        }
        let packed = loadByte(scales, j + 4)
        let scale = (packed & 0xF) | ((loadByte(scales, j - 4) >> 6) << 4)
        let min = (packed >> 4) | ((loadByte(scales, j) >> 6) << 4)
        return (scale, min)
    }

    /// The two sub-blocks of 64-value group `group`: their scale and min, multiplied out.
    @inline(__always)
    static func groupScales(_ scales: UnsafeRawPointer, _ group: Int, _ d: Float, _ dmin: Float) -> (Float, Float, Float, Float) {
        let (s1, m1) = scaleAndMin(scales, 2 * group)
        let (s2, m2) = scaleAndMin(scales, 2 * group + 1)
        return (d * Float(s1), dmin * Float(m1), d * Float(s2), dmin * Float(m2))
    }

    /// { f16 d; f16 dmin; u8 scales[12]; u8 qs[128] }. Each 32 bytes of qs hold two sub-blocks of 32:
    /// low nibbles the first, high nibbles the second. Value = d·scale·q − dmin·min.
    @inline(__always)
    static func q4_K(_ p: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = loadHalf(p, 0)
        let dmin = loadHalf(p, 2)
        let scales = p + 4
        for group in 0..<4 {
            let (d1, min1, d2, min2) = groupScales(scales, group, d, dmin)
            let qs = p + 16 + 32 * group
            let out = y + 64 * group
            for l in 0..<32 {
                let q = loadByte(qs, l)
                out[l] = d1 * Float(q & 0xF) - min1
                out[l + 32] = d2 * Float(q >> 4) - min2
            }
        }
    }

    /// { f16 d; f16 dmin; u8 scales[12]; u8 qh[32]; u8 qs[128] }: Q4_K plus a fifth bit per value;
    /// for value l of sub-block s the bit is bit s of qh[l].
    @inline(__always)
    static func q5_K(_ p: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = loadHalf(p, 0)
        let dmin = loadHalf(p, 2)
        let scales = p + 4
        let qh = p + 16
        for group in 0..<4 {
            let (d1, min1, d2, min2) = groupScales(scales, group, d, dmin)
            let lowBit = UInt8(1) << UInt8(2 * group)
            let highBit = lowBit << 1
            let qs = p + 48 + 32 * group
            let out = y + 64 * group
            for l in 0..<32 {
                let q = loadByte(qs, l)
                let h = loadByte(qh, l)
                out[l] = d1 * Float((q & 0xF) + (h & lowBit != 0 ? 16 : 0)) - min1
                out[l + 32] = d2 * Float((q >> 4) + (h & highBit != 0 ? 16 : 0)) - min2
            }
        }
    }

    /// { u8 ql[128]; u8 qh[64]; i8 scales[16]; f16 d }: 6-bit values (4 low bits in ql, 2 high in qh)
    /// minus 32, in two halves of 128; 16 sub-blocks of 16 with a signed 8-bit scale each.
    @inline(__always)
    static func q6_K(_ p: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = loadHalf(p, 208)
        for half in 0..<2 {
            let ql = p + 64 * half
            let qh = p + 128 + 32 * half
            let sc = p + 192 + 8 * half
            let out = y + 128 * half
            for l in 0..<32 {
                let s = l / 16
                let h = loadByte(qh, l)
                let a = loadByte(ql, l)
                let b = loadByte(ql, l + 32)
                let q1 = Int((a & 0xF) | ((h & 3) << 4)) - 32
                let q2 = Int((b & 0xF) | (((h >> 2) & 3) << 4)) - 32
                let q3 = Int((a >> 4) | (((h >> 4) & 3) << 4)) - 32
                let q4 = Int((b >> 4) | (((h >> 6) & 3) << 4)) - 32
                out[l] = d * Float(Int8(bitPattern: loadByte(sc, s))) * Float(q1)
                out[l + 32] = d * Float(Int8(bitPattern: loadByte(sc, s + 2))) * Float(q2)
                out[l + 64] = d * Float(Int8(bitPattern: loadByte(sc, s + 4))) * Float(q3)
                out[l + 96] = d * Float(Int8(bitPattern: loadByte(sc, s + 6))) * Float(q4)
            }
        }
    }
}
