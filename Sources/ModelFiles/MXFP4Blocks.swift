// MXFP4 (OCP microscaling FP4, GPT-OSS's expert weights): 32 values per 17-byte block, { u8 e; u8 qs[16] }.
// Byte j's low nibble is value j and its high nibble value j + 16 (as the legacy 4-bit blocks); a nibble is
// an E2M1 number stored doubled as ggml's kvalues_mxfp4 table, and the E8M0 byte e scales it by
// 2^(e − 127) / 2, which ggml_e8m0_to_fp32_half computes bit by bit (e < 2 gives the subnormals
// 0x00200000 << e; otherwise the bits are (e − 1) << 23). value = scale · kvalue, one float32 product.
import Foundation

public enum MXFP4Blocks {
    /// E2M1 values doubled: 0, 0.5, 1, 1.5, 2, 3, 4, 6 and their negatives, times 2.
    static let values: [Float] = [0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12]

    /// The block scale of E8M0 byte e, halved (the table above is doubled).
    @inline(__always)
    static func halfScale(_ e: UInt8) -> Float {
        Float(bitPattern: e < 2 ? UInt32(0x0020_0000) << UInt32(e) : UInt32(e - 1) << 23)
    }

    @inline(__always)
    static func mxfp4(_ p: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = halfScale(loadByte(p, 0))
        values.withUnsafeBufferPointer { k in
            for j in 0..<16 {
                let q = loadByte(p, 1 + j)
                y[j] = d * k[Int(q & 0xF)]
                y[j + 16] = d * k[Int(q >> 4)]
            }
        }
    }
}

extension MXFP4Blocks {
    /// transformers' checkpoint layout of the same format (integrations/mxfp4.py, GPT-OSS's released
    /// safetensors): `blocks` [rows, groups, 16] U8 where byte j holds value 2j (low nibble) and 2j + 1
    /// (high), and `scales` [rows, groups] U8 E8M0 bytes; value = E2M1 · 2^(scale − 127). Returns [rows, groups·32].
    public static func decodeTransformersLayout(blocks: Data, scales: Data, rows: Int, groups: Int, file: String, tensor: String) throws -> [Float] {
        guard blocks.count == rows * groups * 16, scales.count == rows * groups else {
            throw ModelFileError(file: file, field: "tensor '\(tensor)'",
                                 reason: "has \(blocks.count) block bytes and \(scales.count) scale bytes; \(rows) rows of \(groups) MXFP4 groups need \(rows * groups * 16) and \(rows * groups)")
        }
        let b = [UInt8](blocks), s = [UInt8](scales)
        var out = [Float](repeating: 0, count: rows * groups * 32)
        for g in 0..<(rows * groups) {
            let d = halfScale(s[g])
            for j in 0..<16 {
                let q = b[g * 16 + j]
                out[g * 32 + 2 * j] = d * values[Int(q & 0xF)]
                out[g * 32 + 2 * j + 1] = d * values[Int(q >> 4)]
            }
        }
        return out
    }
}

extension MXFP4Blocks {
    /// The same values as ggml blocks, for keeping them quantised in memory: rows `rows` of transformers' layout
    /// (`blocks` [allRows, groups, 16], `scales` [allRows, groups]), in that order, each as `groups` 17-byte
    /// blocks { e; qs[16] }. The nibble order differs, so the codes are repacked, not copied: transformers' byte j
    /// holds values 2j (low) and 2j + 1 (high), ggml's byte j values j (low) and j + 16 (high). The scale bytes and
    /// the codes themselves are the same, so the result decodes to exactly `decodeTransformersLayout`'s values.
    public static func ggmlBlocks(fromTransformersLayout blocks: Data, scales: Data, allRows: Int, groups: Int, rows: [Int],
                                  file: String, tensor: String) throws -> Data {
        let (blockCount, overflow) = allRows.multipliedReportingOverflow(by: groups)
        guard !overflow, blockCount <= Int.max / 32, blocks.count == blockCount * 16, scales.count == blockCount else {
            throw ModelFileError(file: file, field: "tensor '\(tensor)'",
                                 reason: "has \(blocks.count) block bytes and \(scales.count) scale bytes; \(allRows) rows of \(groups) MXFP4 groups need \(overflow ? "more than Int.max" : "\(blockCount * 16) and \(blockCount)")")
        }
        // The caller derives `rows` from the shape it checked; a row outside it is a programming error.
        precondition(rows.allSatisfy { $0 >= 0 && $0 < allRows }, "ggmlBlocks: a row outside the tensor's \(allRows)")
        var out = Data(count: rows.count * groups * 17)
        blocks.withUnsafeBytes { (b: UnsafeRawBufferPointer) in
            scales.withUnsafeBytes { (s: UnsafeRawBufferPointer) in
                out.withUnsafeMutableBytes { (o: UnsafeMutableRawBufferPointer) in
                    var at = 0
                    for r in rows {
                        for g in (r * groups)..<((r + 1) * groups) {
                            o[at] = s[g]
                            // Value i of the group is nibble i % 2 of transformers' byte i / 2.
                            func code(_ i: Int) -> UInt8 { let q = b[g * 16 + i / 2]; return i % 2 == 0 ? q & 0xF : q >> 4 }
                            for j in 0..<16 { o[at + 1 + j] = code(j) | (code(j + 16) << 4) }
                            at += 17
                        }
                    }
                }
            }
        }
        return out
    }
}
