// The quantised-weight kernels (Sources/CQuantKernels through Kernels/QuantizedMatrix.swift) on random blocks of
// every type: the decoder bit-exact against ModelFiles' Dequantize, every path the CPU runs against the scalar
// reference and against a Float64 dot of the dequantised weights, each within a bound derived from its arithmetic.
import Foundation
import Testing
import Kernels
import ModelFiles
import LazarusTestSupport

/// Random blocks of a type: every byte random except the Float16 scales, set to finite values of a realistic size.
func randomBlocks(_ type: QuantizedMatrix.BlockType, rows: Int, cols: Int, seed: UInt64) -> Data {
    var rng = SeededRandom(seed: seed)
    let blocks = rows * cols / type.valuesPerBlock
    var bytes = [UInt8](repeating: 0, count: blocks * type.bytesPerBlock)
    for i in bytes.indices { bytes[i] = UInt8(truncatingIfNeeded: rng.next()) }
    func half(_ at: Int, _ v: Float) {
        let bits = Float16(v).bitPattern
        bytes[at] = UInt8(bits & 0xFF)
        bytes[at + 1] = UInt8(bits >> 8)
    }
    for b in 0..<blocks {
        let p = b * type.bytesPerBlock
        switch type {
        case .q8_0, .q4_0, .q5_0: half(p, rng.uniform(-0.05, 0.05))
        case .q4_1, .q5_1: half(p, rng.uniform(0, 0.05)); half(p + 2, rng.uniform(-0.4, 0))
        case .q4_K, .q5_K: half(p, rng.uniform(0, 0.002)); half(p + 2, rng.uniform(0, 0.002))
        case .q6_K: half(p + 208, rng.uniform(-0.001, 0.001))
        // E8M0 scales 2^-13 … 2^-4 (values up to 0.75), as trained weights have.
        case .mxfp4: bytes[p] = UInt8(115 + Int(rng.next() % 10))
        }
    }
    return Data(bytes)
}

/// The largest |bias| a 32-value block of these bytes can add (Q4_1, Q5_1: |m|; Q4_K, Q5_K: dmin · 63, the widest 6-bit min).
func biasBound(_ type: QuantizedMatrix.BlockType, _ data: Data, rowBytes: Int, row: Int, block32: Int) -> Double {
    let bytes = [UInt8](data)
    func half(_ at: Int) -> Double { Double(HalfFloat.toFloat(UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8)) }
    switch type {
    case .q4_1, .q5_1: return abs(half(row * rowBytes + block32 * type.bytesPerBlock + 2))
    case .q4_K, .q5_K: return abs(half(row * rowBytes + (block32 / 8) * type.bytesPerBlock + 2)) * 63
    default: return 0
    }
}

let unitRoundoff = pow(2.0, -24.0)
/// γ_n = n·u / (1 − n·u): the relative error bound of a sum of n rounded terms in Float32, in any order.
func gamma(_ n: Int) -> Double { Double(n) * unitRoundoff / (1 - Double(n) * unitRoundoff) }

@Suite(.serialized) struct QuantizedMatrixTests {
    let rows = 37, cols = 512

    func matrix(_ type: QuantizedMatrix.BlockType, seed: UInt64) throws -> (QuantizedMatrix, Data) {
        let data = randomBlocks(type, rows: rows, cols: cols, seed: seed)
        return (try QuantizedMatrix(type: type, rows: rows, cols: cols, data: data, offset: 0, byteCount: data.count), data)
    }

    @Test(arguments: QuantizedMatrix.BlockType.allCases)
    func decoderIsBitExactWithDequantize(_ type: QuantizedMatrix.BlockType) throws {
        let (q, data) = try matrix(type, seed: 11)
        var expected = [Float](repeating: 0, count: rows * cols)
        try data.withUnsafeBytes { raw in
            try expected.withUnsafeMutableBufferPointer { out in
                try Dequantize.decode(GGMLType(rawValue: UInt32(type.rawValue))!, blocks: raw, into: out)
            }
        }
        let decoded = q.dequantized().values
        #expect(decoded.map(\.bitPattern) == expected.map(\.bitPattern))
        #expect(q.dequantizedRows(5..<9) == Array(expected[(5 * cols)..<(9 * cols)]))
    }

    /// A one-hot activation reads one weight back: the float paths must return exactly the dequantised value
    /// (0 + w·1 and sums of zeros are exact), which pins their decoding bit for bit, summation aside; only a −0
    /// weight reads back as +0 (0 + (−0) = +0), so the comparison is of values, with every non-zero one bit for bit.
    @Test(arguments: QuantizedMatrix.BlockType.allCases)
    func floatPathsDecodeEachWeightExactly(_ type: QuantizedMatrix.BlockType) throws {
        let (q, _) = try matrix(type, seed: 12)
        let w = q.dequantized()
        for path in [KernelPath.scalar, .avx2] where path.isSupported {
            for i in [0, 1, 15, 16, 31, 32, 100, 255, 256, 300, 511] {
                var x = Matrix(rows: 1, cols: cols)
                x.values[i] = 1
                var y = Matrix(rows: 1, cols: rows)
                q.linear(x, into: &y, path: path)
                for o in 0..<rows {
                    #expect(y.values[o] == 0 ? w[o, i] == 0 : y.values[o].bitPattern == w[o, i].bitPattern, "\(type) \(path) row \(o) col \(i)")
                }
            }
        }
    }

    /// Every path against the exact dot product (Float64) of the dequantised weights with the activations.
    /// Scalar and AVX2 sum rounded products: |error| ≤ γ_k Σ|w·x| (FMA only removes roundings). The VNNI paths
    /// first quantise each 32-value block of x to L levels (int16: L = 32767; int8: 127) with scale dx = max|x|/L:
    /// |x − dx·q| ≤ dx·(1/2 + 2(L+1)u) (the half from rounding to nearest, the rest from computing x·(1/dx) in
    /// Float32), so they add Σ_b dx_b(1/2 + 2(L+1)u)Σ|w|; their integer sums are exact, and the rest is rounding of
    /// terms bounded by (|w| + |bias|)(|x| + dx), at most k + 4 roundings deep, counted three times (decoding, the
    /// scale product, the accumulation).
    @Test(arguments: QuantizedMatrix.BlockType.allCases)
    func everyPathWithinItsBoundOfTheExactDot(_ type: QuantizedMatrix.BlockType) throws {
        let (q, data) = try matrix(type, seed: 13)
        let w = q.dequantized()
        // 13 rows: beyond the fused kernels' 8, through decoded tiles and sgemm on every path.
        for m in [1, 3, 8, 13] {
            let x = Matrix(rows: m, cols: cols, values: randomValues(m * cols, seed: UInt64(m) * 31, range: -2...2))
            var results: [KernelPath: Matrix] = [:]
            for path in KernelPath.allCases where path.isSupported {
                var y = Matrix(rows: m, cols: rows)
                q.linear(x, into: &y, path: path)
                results[path] = y
            }
            for r in 0..<m {
                for o in 0..<rows {
                    var exact = 0.0, absProducts = 0.0
                    for i in 0..<cols {
                        exact += Double(w[o, i]) * Double(x[r, i])
                        absProducts += abs(Double(w[o, i]) * Double(x[r, i]))
                    }
                    let floatBound = gamma(cols) * absProducts
                    func bound(_ path: KernelPath) -> Double {
                        let levels: Float
                        switch path {
                        case .scalar, .avx2: return floatBound
                        case .avx512vnni: levels = 32767
                        case .avx512vnniInt8: levels = 127
                        }
                        var quantization = 0.0, magnitude = 0.0
                        for b in 0..<(cols / 32) {
                            let dx = Double((0..<32).map { abs(x[r, 32 * b + $0]) }.max()! / levels)
                            let bias = biasBound(type, data, rowBytes: q.rowBytes, row: o, block32: b)
                            for i in (32 * b)..<(32 * b + 32) {
                                quantization += dx * (0.5 + 2 * (Double(levels) + 1) * unitRoundoff) * abs(Double(w[o, i]))
                                magnitude += (abs(Double(w[o, i])) + bias) * (abs(Double(x[r, i])) + dx)
                            }
                        }
                        return quantization + 3 * gamma(cols + 4) * magnitude
                    }
                    for (path, y) in results {
                        let got = Double(y[r, o])
                        #expect(abs(got - exact) <= bound(path), "\(type) \(path) m=\(m) row \(o): |\(got) − \(exact)| > \(bound(path))")
                    }
                    // Forced paths against the scalar one: each within its bound of the exact value, so apart by at most the sum.
                    if let s = results[.scalar] {
                        for (path, y) in results where path != .scalar {
                            #expect(abs(Double(y[r, o]) - Double(s[r, o])) <= floatBound + bound(path), "\(type) \(path) vs scalar")
                        }
                    }
                }
            }
        }
    }

    /// Beyond LQ_MAX_BATCH rows the float paths run sgemm on decoded tiles: the f32 product of the dequantised weights.
    @Test(arguments: [QuantizedMatrix.BlockType.q4_1, .q6_K])
    func largeBatchesMatchTheFloatProduct(_ type: QuantizedMatrix.BlockType) throws {
        let (q, _) = try matrix(type, seed: 14)
        let w = q.dequantized()
        let m = 13
        let x = Matrix(rows: m, cols: cols, values: randomValues(m * cols, seed: 5, range: -2...2))
        var y = Matrix(rows: m, cols: rows)
        q.linear(x, into: &y, path: .scalar)
        let reference = Matmul.referenceXWt(x.values, w.values, m: m, n: rows, k: cols)
        for r in 0..<m {
            for o in 0..<rows {
                let absProducts = (0..<cols).reduce(0.0) { $0 + abs(Double(w[o, $1]) * Double(x[r, $1])) }
                // Both sides sum rounded products (the reference in Float64, then rounded once).
                #expect(abs(Double(y[r, o]) - Double(reference[r * rows + o])) <= gamma(cols) * absProducts + Double(abs(reference[r * rows + o])) * unitRoundoff)
            }
        }
    }

    @Test func forcingAPathChangesWhatRuns() throws {
        let best = KernelPath.best
        #expect(best.isSupported && KernelPath.scalar.isSupported)
        #expect(KernelPath.force(.scalar))
        #expect(KernelPath.current == .scalar)
        #expect(KernelPath.force(nil))
        #expect(KernelPath.current == KernelPath.defaultPath)
        for p in KernelPath.allCases { #expect(KernelPath(name: p.description) == p) }
        // On a CPU without the widest path, forcing it is refused and changes nothing.
        if !KernelPath.avx512vnni.isSupported {
            #expect(!KernelPath.force(.avx512vnni))
            #expect(KernelPath.current == KernelPath.defaultPath)
        }
    }

    @Test func blocksThatDoNotTileTheShapeAreRefused() throws {
        let data = randomBlocks(.q4_1, rows: 2, cols: 64, seed: 1)   // 2 rows × 2 blocks × 20 bytes
        #expect(throws: QuantizedMatrix.ShapeError.self) { try QuantizedMatrix(type: .q4_1, rows: 2, cols: 48, data: data, offset: 0, byteCount: 80) }
        #expect(throws: QuantizedMatrix.ShapeError.self) { try QuantizedMatrix(type: .q4_1, rows: 3, cols: 64, data: data, offset: 0, byteCount: 80) }
        #expect(throws: QuantizedMatrix.ShapeError.self) { try QuantizedMatrix(type: .q4_1, rows: 2, cols: 64, data: data, offset: 1, byteCount: 80) }
        #expect(throws: QuantizedMatrix.ShapeError.self) { try QuantizedMatrix(type: .q4_1, rows: 0, cols: 64, data: data, offset: 0, byteCount: 0) }
        #expect(throws: QuantizedMatrix.ShapeError.self) { try QuantizedMatrix(type: .q4_K, rows: 1, cols: 64, data: data, offset: 0, byteCount: 80) }
        #expect(throws: QuantizedMatrix.ShapeError.self) { try QuantizedMatrix(type: .q4_1, rows: Int.max / 2, cols: 64, data: data, offset: 0, byteCount: 80) }
        #expect(throws: QuantizedMatrix.ShapeError.self) { try QuantizedMatrix(type: .q4_1, rows: 2, cols: 64, data: data, offset: -1, byteCount: 80) }
        let ok = try QuantizedMatrix(type: .q4_1, rows: 2, cols: 64, data: data, offset: 0, byteCount: 80)
        #expect(ok.rowBytes == 40 && ok.byteCount == 80)
    }

    @Test func reorderedRowsDecodeAsTheReorderedMatrix() throws {
        let (q, _) = try matrix(.q4_0, seed: 15)
        let order = (0..<rows).reversed().map { $0 }
        let w = q.dequantized(), r = q.reorderingRows(Array(order)).dequantized()
        for i in 0..<rows { #expect(r.row(i) == w.row(order[i])) }
    }
}
