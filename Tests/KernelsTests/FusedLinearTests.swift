// FusedLinear and the row pool (Sources/CQuantKernels/row_pool.c): the Float32 row kernels of every path against
// the scalar one and a Float64 dot within the bound of their arithmetic; how the rows are split over threads
// changing no bit; a group of weights in one hand-off giving each product's bits alone.
import Foundation
import Testing
import Kernels
import LazarusTestSupport

@Suite(.serialized) struct FusedLinearTests {
    func randomMatrix(rows: Int, cols: Int, seed: UInt64) -> Matrix {
        var rng = SeededRandom(seed: seed)
        return Matrix(rows: rows, cols: cols, values: (0..<(rows * cols)).map { _ in rng.uniform(-1, 1) })
    }

    func product(_ x: Matrix, _ w: LinearWeight, path: KernelPath, workers: Int) -> Matrix {
        var y = Matrix(rows: x.rows, cols: w.rows)
        FusedLinear.apply(x, w, into: &y, path: path, workers: workers)
        return y
    }

    /// Every path's Float32 rows within γ_k·Σ|w·x| of a Float64 dot (the bound of any summation order), and the
    /// scalar path bit for bit the in-order Float32 sum; k values with and without a tail past the vector width.
    @Test(arguments: [(1, 576), (3, 200), (8, 1536), (2, 13)])
    func floatRowsOfEveryPathAgainstFloat64(_ shape: (Int, Int)) {
        let (nx, k) = shape
        let w = randomMatrix(rows: 67, cols: k, seed: 3), x = randomMatrix(rows: nx, cols: k, seed: 4)
        for path in KernelPath.allCases where path.isSupported {
            let y = product(x, .dense(w), path: path, workers: 2)
            for r in 0..<nx {
                for o in 0..<w.rows {
                    var exact = 0.0, magnitude = 0.0
                    var inOrder: Float = 0
                    for i in 0..<k {
                        let t = Double(w[o, i]) * Double(x[r, i])
                        exact += t
                        magnitude += abs(t)
                        inOrder = inOrder + w[o, i] * x[r, i]
                    }
                    #expect(abs(Double(y[r, o]) - exact) <= gamma(k + 1) * magnitude, "path \(path), row \(o)")
                    if path == .scalar { #expect(y[r, o].bitPattern == inOrder.bitPattern, "row \(o)") }
                }
            }
        }
    }

    /// One worker or two: each output is one row's dot product, so the split changes no bit (quantised and float).
    @Test func workersChangeNoBit() throws {
        let k = 512
        let data = randomBlocks(.q4_1, rows: 300, cols: k, seed: 5)
        let q = try QuantizedMatrix(type: .q4_1, rows: 300, cols: k, data: data, offset: 0, byteCount: data.count)
        let dense = randomMatrix(rows: 300, cols: k, seed: 6), x = randomMatrix(rows: 3, cols: k, seed: 7)
        for path in KernelPath.allCases where path.isSupported {
            for w in [LinearWeight.quantized(q), .dense(dense)] {
                let one = product(x, w, path: path, workers: 1), two = product(x, w, path: path, workers: 2)
                #expect(one.values.map(\.bitPattern) == two.values.map(\.bitPattern), "path \(path)")
            }
        }
    }

    /// Three weights of different kinds and sizes in one call give the bits each gives alone, and the quantised
    /// one the bits of QuantizedMatrix's own product on the same path.
    @Test func groupEqualsEachProductAlone() throws {
        let k = 256
        let d0 = randomBlocks(.q8_0, rows: 96, cols: k, seed: 8), d2 = randomBlocks(.q6_K, rows: 40, cols: k, seed: 9)
        let w0 = LinearWeight.quantized(try QuantizedMatrix(type: .q8_0, rows: 96, cols: k, data: d0, offset: 0, byteCount: d0.count))
        let w1 = LinearWeight.dense(randomMatrix(rows: 70, cols: k, seed: 10))
        let q2 = try QuantizedMatrix(type: .q6_K, rows: 40, cols: k, data: d2, offset: 0, byteCount: d2.count)
        let x = randomMatrix(rows: 2, cols: k, seed: 11)
        for path in KernelPath.allCases where path.isSupported {
            var y0 = Matrix(rows: 2, cols: 96), y1 = Matrix(rows: 2, cols: 70), y2 = Matrix(rows: 2, cols: 40)
            FusedLinear.apply(x, w0, w1, .quantized(q2), into: &y0, &y1, &y2, path: path, workers: 2)
            #expect(y0.values.map(\.bitPattern) == product(x, w0, path: path, workers: 1).values.map(\.bitPattern))
            #expect(y1.values.map(\.bitPattern) == product(x, w1, path: path, workers: 1).values.map(\.bitPattern))
            var alone = Matrix(rows: 2, cols: 40)
            q2.linear(x, into: &alone, path: path)
            #expect(y2.values.map(\.bitPattern) == alone.values.map(\.bitPattern))
            var pair0 = Matrix(rows: 2, cols: 96), pair1 = Matrix(rows: 2, cols: 70)
            FusedLinear.apply(x, w0, w1, into: &pair0, &pair1, path: path, workers: 2)
            #expect(pair0 == y0 && pair1 == y1)
        }
    }

    /// Beyond the fused batch, tiles are decoded by the path's SIMD decoder and multiplied by sgemm: every path must
    /// give the scalar decoder's product bit for bit (the same Float32 weights, the same sgemm), for every type.
    @Test(arguments: QuantizedMatrix.BlockType.allCases)
    func tiledProductsAreBitExactAcrossPaths(_ type: QuantizedMatrix.BlockType) throws {
        let k = 512, n = 300
        let data = randomBlocks(type, rows: n, cols: k, seed: 12)
        let q = try QuantizedMatrix(type: type, rows: n, cols: k, data: data, offset: 0, byteCount: data.count)
        let x = randomMatrix(rows: 20, cols: k, seed: 13)
        var reference = Matrix(rows: 20, cols: n)
        q.linear(x, into: &reference, path: .scalar)
        for path in KernelPath.allCases where path.isSupported && path != .scalar {
            var y = Matrix(rows: 20, cols: n)
            q.linear(x, into: &y, path: path)
            #expect(y.values.map(\.bitPattern) == reference.values.map(\.bitPattern), "path \(path)")
        }
    }
}
