// MXFP4 blocks: decoded bit for bit as gguf-py decodes them (mxfp4_blocks.json from tools/make_tiny_moe.py:
// every E8M0 byte 0…255, subnormal and overflowing scales included, and gguf-py-quantised random floats),
// and one block packed here from chosen E2M1 codes against the format's formula.
import Foundation
import ModelFiles
import Testing

@Suite struct MXFP4Tests {
    @Test func decodesAsGGUFPyBitForBit() throws {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/mxfp4_blocks.json", withExtension: nil))
        let ref = try JSONDecoder().decode(GGUFPyQuantReference.self, from: Data(contentsOf: url))
        #expect(ref.cases.count == 2)
        for c in ref.cases {
            #expect(c.type == "MXFP4" && GGMLType(rawValue: c.ggml_type) == .mxfp4)
            let bytes = [UInt8](try #require(Data(base64Encoded: c.bytes_base64)))
            #expect(bytes.count == c.blocks * 17)
            let ours = try decoded(.mxfp4, bytes)
            #expect(ours.count == c.value_bits.count)
            let differing = zip(ours, c.value_bits).filter { $0.bitPattern != $1 }.count
            #expect(differing == 0, "\(c.source): \(differing) of \(ours.count) values differ from gguf-py")
        }
    }

    @Test func formula() throws {
        // E2M1 code c (sign bit 3, exponent bits 2-1, mantissa bit 0) is 0, 0.5, 1, 1.5, 2, 3, 4, 6 (negated with bit 3).
        let e2m1: [Float] = [0, 0.5, 1, 1.5, 2, 3, 4, 6]
        let codes = (0..<32).map { ($0 * 7 + 3) % 16 }
        for (e, scale) in [(UInt8(127), Float(1)), (130, 8), (120, 1.0 / 128)] {
            let out = try decoded(.mxfp4, [e] + packNibbles32(codes))
            #expect(out == codes.map { ($0 & 8 == 0 ? 1 : -1) * e2m1[$0 & 7] * scale })
        }
        // The smallest scales are subnormal floats, not zero: E8M0 0 is 2^-127.
        let tiny = try decoded(.mxfp4, [0] + packNibbles32([Int](repeating: 2, count: 32)))
        #expect(tiny.allSatisfy { $0 == Float(sign: .plus, exponent: -127, significand: 1) })
    }
    @Test func transformersLayoutHoldsTheSameValuesInPairs() throws {
        // The same 64 codes and two scales as ggml blocks (value j with j + 16) and as transformers' checkpoint
        // layout (value 2j with 2j + 1, scales apart): one decoding.
        let codes = (0..<64).map { ($0 * 5 + 1) % 16 }
        let scales: [UInt8] = [126, 131]
        var ggml: [UInt8] = []
        for g in 0..<2 { ggml += [scales[g]] + packNibbles32(Array(codes[(g * 32)..<(g * 32 + 32)])) }
        let pairs: [UInt8] = (0..<32).map { (j: Int) -> UInt8 in
            let low = UInt8(codes[2 * j]), high = UInt8(codes[2 * j + 1])
            return low | (high << 4)
        }
        let ours = try MXFP4Blocks.decodeTransformersLayout(blocks: Data(pairs), scales: Data(scales), rows: 1, groups: 2, file: "t", tensor: "w")
        #expect(ours == (try decoded(.mxfp4, ggml)))
        #expect(throws: ModelFileError.self) {
            try MXFP4Blocks.decodeTransformersLayout(blocks: Data(pairs.dropLast()), scales: Data(scales), rows: 1, groups: 2, file: "t", tensor: "w")
        }
    }

    @Test func transformersLayoutRepacksToGGMLBlocksOfTheSameValues() throws {
        // Three rows of two groups in transformers' layout; the repacked ggml blocks of rows 2 and 0 (in that
        // order, as the experts' gate rows are picked from gate_up_proj) decode to exactly those rows' values.
        let rows = 3, groups = 2
        let pairs: [UInt8] = (0..<(rows * groups * 16)).map { UInt8(($0 * 37 + 11) % 256) }
        let scales: [UInt8] = [0, 1, 119, 127, 130, 254]
        let all = try MXFP4Blocks.decodeTransformersLayout(blocks: Data(pairs), scales: Data(scales), rows: rows, groups: groups, file: "t", tensor: "w")
        let ggml = try MXFP4Blocks.ggmlBlocks(fromTransformersLayout: Data(pairs), scales: Data(scales), allRows: rows, groups: groups,
                                              rows: [2, 0], file: "t", tensor: "w")
        #expect(ggml.count == 2 * groups * 17)
        let values = try decoded(.mxfp4, [UInt8](ggml))
        let expected = Array(all[(2 * 64)..<(3 * 64)]) + Array(all[0..<64])
        #expect(values.map(\.bitPattern) == expected.map(\.bitPattern))
        // The scale bytes are copied as they are; the nibbles move.
        #expect(ggml[0] == scales[4] && ggml[17] == scales[5] && ggml[34] == scales[0])
        #expect(throws: ModelFileError.self) {
            try MXFP4Blocks.ggmlBlocks(fromTransformersLayout: Data(pairs.dropLast()), scales: Data(scales), allRows: rows, groups: groups,
                                       rows: [0], file: "t", tensor: "w")
        }
    }
}
