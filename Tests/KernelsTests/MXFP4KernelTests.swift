// MXFP4 in the quantised-weight kernels (CQuantKernels/mxfp4_kernels.c): every path computes the scalar path's
// exact Float32 weights and differs from it by the order of the sums only, so each forced path lies within
// 2·γ_k·Σ|w·x| of the scalar result (both within γ_k·Σ|w·x| of the exact dot). The generic suite
// (QuantizedMatrixTests) also runs MXFP4 through its decoder and bound tests; this one holds the tighter bound,
// the row slices a mixture-of-experts layer multiplies by, and the input gradient through frozen blocks.
import Foundation
import Testing
import Kernels
import ModelFiles
import LazarusTestSupport

@Suite(.serialized) struct MXFP4KernelTests {
    let rows = 45, cols = 2880   // GPT-OSS-20B's expert width: 90 blocks a row

    func matrix(seed: UInt64) throws -> QuantizedMatrix {
        let data = randomBlocks(.mxfp4, rows: rows, cols: cols, seed: seed)
        return try QuantizedMatrix(type: .mxfp4, rows: rows, cols: cols, data: data, offset: 0, byteCount: data.count)
    }

    @Test func forcedPathsAgreeWithScalarWithinTheSummationBound() throws {
        let q = try matrix(seed: 21)
        let w = q.dequantized()
        for m in [1, 2, 5, 8] {
            let x = Matrix(rows: m, cols: cols, values: randomValues(m * cols, seed: UInt64(m) * 7, range: -3...3))
            var scalar = Matrix(rows: m, cols: rows)
            q.linear(x, into: &scalar, path: .scalar)
            // The scalar path is the reference loop: the decoded weights dotted in order, in Float32.
            for r in 0..<m {
                for o in 0..<rows {
                    var a: Float = 0
                    for i in 0..<cols { a += w[o, i] * x[r, i] }
                    #expect(scalar[r, o].bitPattern == a.bitPattern, "scalar m=\(m) row \(o)")
                }
            }
            var ran = 0
            for path in KernelPath.allCases where path != .scalar && path.isSupported {
                ran += 1
                var y = Matrix(rows: m, cols: rows)
                q.linear(x, into: &y, path: path)
                for r in 0..<m {
                    for o in 0..<rows {
                        let absProducts = (0..<cols).reduce(0.0) { $0 + abs(Double(w[o, $1]) * Double(x[r, $1])) }
                        let bound = 2 * gamma(cols) * absProducts
                        #expect(abs(Double(y[r, o]) - Double(scalar[r, o])) <= bound, "\(path) m=\(m) row \(o)")
                    }
                }
            }
            #expect(ran >= 1 || !KernelPath.avx2.isSupported)
        }
    }

    @Test func aRowSliceIsThoseRowsOfTheMatrix() throws {
        let q = try matrix(seed: 22)
        let slice = q.rows(9..<27)
        #expect(slice.rows == 18 && slice.cols == cols && slice.byteCount == 18 * q.rowBytes)
        #expect(slice.dequantized().values == q.dequantizedRows(9..<27))
        let x = Matrix(rows: 3, cols: cols, values: randomValues(3 * cols, seed: 4, range: -1...1))
        var whole = Matrix(rows: 3, cols: rows), part = Matrix(rows: 3, cols: 18)
        q.linear(x, into: &whole)
        slice.linear(x, into: &part)
        for r in 0..<3 { for o in 0..<18 { #expect(part[r, o].bitPattern == whole[r, o + 9].bitPattern) } }
    }

    @Test func inputGradientIsTheDenseOneOfTheDecodedWeights() throws {
        let q = try matrix(seed: 23)
        let dY = Matrix(rows: 6, cols: rows, values: randomValues(6 * rows, seed: 9, range: -1...1))
        var dX = Matrix(rows: 6, cols: cols), dense = Matrix(rows: 6, cols: cols)
        q.inputGradient(dY, into: &dX)
        Matmul.product(dY, q.dequantized(), into: &dense)
        #expect(dX.values == dense.values)
        // Against the plain loop (Float64): dX[r, i] = Σ_o dY[r, o] W[o, i].
        let w = q.dequantized()
        for r in [0, 5] {
            for i in [0, 1, 31, 32, 2879] {
                let exact = (0..<rows).reduce(0.0) { $0 + Double(dY[r, $1]) * Double(w[$1, i]) }
                let scale = (0..<rows).reduce(0.0) { $0 + abs(Double(dY[r, $1]) * Double(w[$1, i])) }
                #expect(abs(Double(dX[r, i]) - exact) <= gamma(rows) * scale)
            }
        }
        q.inputGradient(dY, into: &dX, accumulate: true)
        // Added onto what was there (one more rounding of each sum).
        #expect(zip(dX.values, dense.values).allSatisfy { abs($0 - 2 * $1) <= 4 * Float(unitRoundoff) * abs(2 * $1) + 1e-30 })
    }
}
