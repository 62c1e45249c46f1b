// Matmul's blocks: each entry point, cut into blocks along either side, against the Double reference loop,
// and the same bits whatever the number of workers (OpenBLAS's own threaded split, on its Haswell kernels,
// rounds differently with two threads than with one; the blocks are fixed by the shape alone).
import Testing
import Kernels

@Suite struct MatmulBlockingTests {
    static func random(_ count: Int, seed: UInt64) -> [Float] {
        var rng = SeededRandom(seed: seed)
        return (0..<count).map { _ in rng.uniform(-1, 1) }
    }

    @Test func blockingDependsOnTheShapeOnly() {
        let wide = Matmul.blocking(m: 64, n: 49_152, k: 576)
        #expect(wide.axis == .columns && wide.parts == 8 && wide.size % 16 == 0 && wide.size * wide.parts >= 49_152)
        let tall = Matmul.blocking(m: 1_536, n: 64, k: 576)
        #expect(tall.axis == .rows && tall.parts == 8)
        // Below ~4M multiply-adds one call does it.
        #expect(Matmul.blocking(m: 8, n: 576, k: 576).parts == 1)
        // No empty block: 200 columns want 6 parts of 34, rounded to stretches of 48, so 5 blocks (4·48 < 200).
        let odd = Matmul.blocking(m: 100, n: 200, k: 400)
        #expect(odd.axis == .columns && odd.size == 48 && odd.parts == 5 && odd.crossParts == 1 && odd.crossSize == 100)
        // Both sides long: 4 stretches along the longer side × 2 across, so no operand is re-packed by all 8 blocks.
        let square = Matmul.blocking(m: 2048, n: 2048, k: 2048)
        #expect(square.axis == .columns && square.size == 512 && square.parts == 4 && square.crossSize == 1024 && square.crossParts == 2)
        let batch = Matmul.blocking(m: 1024, n: 1536, k: 576) // a hidden-state batch's gate projection
        #expect(batch.axis == .columns && batch.parts == 4 && batch.crossParts == 2 && batch.blockCount == 8)
        #expect(Matmul.blocking(m: 511, n: 4096, k: 576).crossParts == 1)
    }

    /// y = alpha·op(A)·op(B) + beta·y0 in Double, row-major, for any transposition.
    static func reference(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, a: [Float], b: [Float],
                          beta: Float, y0: [Float]) -> [Float] {
        var y = [Float](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k {
                    let av = transA ? a[p * m + i] : a[i * k + p]
                    let bv = transB ? b[j * k + p] : b[p * n + j]
                    s += Double(av) * Double(bv)
                }
                y[i * n + j] = Float(Double(alpha) * s + Double(beta) * Double(y0[i * n + j]))
            }
        }
        return y
    }

    @Test(arguments: [(70, 300, 256), (300, 70, 256), (97, 131, 400), (530, 517, 24), (601, 520, 16)])
    func blockedProductsEqualTheReference(shape: (Int, Int, Int)) {
        let (m, n, k) = shape
        #expect(Matmul.blocking(m: m, n: n, k: k).blockCount > 1)
        for (transA, transB) in [(false, true), (false, false), (true, false)] {
            let a = Self.random(m * k, seed: 1), b = Self.random(k * n, seed: 2), y0 = Self.random(m * n, seed: 3)
            for (alpha, beta) in [(Float(1), Float(0)), (Float(0.5), Float(1))] {
                var y = y0
                a.withUnsafeBufferPointer { ap in
                    b.withUnsafeBufferPointer { bp in
                        y.withUnsafeMutableBufferPointer { yp in
                            Matmul.blocked(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                                           ap.baseAddress!, lda: transA ? m : k, bp.baseAddress!, ldb: transB ? k : n,
                                           beta: beta, yp.baseAddress!, ldc: n, workers: 2)
                        }
                    }
                }
                let want = Self.reference(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, b: b, beta: beta, y0: y0)
                // float32 sums of k products of values in [-1, 1]: error ≈ √k·2⁻²⁴·|terms|, far below 1e-4.
                let worst = zip(y, want).map { abs($0 - $1) }.max() ?? 0
                #expect(worst < 1e-4, "transA \(transA) transB \(transB) alpha \(alpha) beta \(beta): \(worst)")
            }
        }
    }

    @Test func oneWorkerAndTwoGiveTheSameBits() {
        // The shapes where OpenBLAS's own two-thread Haswell sgemm differed from its one-thread result.
        for (m, n, k) in [(64, 576, 576), (64, 576, 1536), (160, 4096, 576), (1024, 1536, 576)] {
            let x = Self.random(m * k, seed: 4), w = Self.random(n * k, seed: 5)
            func product(workers: Int) -> [Float] {
                var y = [Float](repeating: 0, count: m * n)
                x.withUnsafeBufferPointer { xp in
                    w.withUnsafeBufferPointer { wp in
                        y.withUnsafeMutableBufferPointer { yp in
                            Matmul.blocked(transA: false, transB: true, m: m, n: n, k: k, alpha: 1, xp.baseAddress!, lda: k,
                                           wp.baseAddress!, ldb: k, beta: 0, yp.baseAddress!, ldc: n, workers: workers)
                        }
                    }
                }
                return y
            }
            let one = product(workers: 1), two = product(workers: 2), three = product(workers: 3)
            #expect(one == two && one == three, "\(m)×\(n)×\(k)")
        }
    }
}
