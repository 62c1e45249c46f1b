// SmallMatmul (Sources/CQuantKernels/small_gemm.c): the forward x·Wᵀ and the input gradient dy·W of every path
// against a Float64 product within the bound of their arithmetic, the scalar path bit for bit the in-order
// Float32 sum, the same bits with one worker or two, and Matmul's entry points handing the small shapes over.
import Testing
import Kernels
import LazarusTestSupport

@Suite(.serialized) struct SmallMatmulTests {
    static func random(_ count: Int, seed: UInt64) -> [Float] {
        var rng = SeededRandom(seed: seed)
        return (0..<count).map { _ in rng.uniform(-1, 1) }
    }

    /// Shapes (m, n, k) with every tile edge: rows not a multiple of 4 or 6, W rows not a multiple of 3 or 4,
    /// inner sizes with and without a tail past the vector width, more than one cache block.
    static let shapes = [(1, 17, 16), (7, 67, 200), (49, 130, 513), (13, 300, 2_100), (64, 40, 96), (8, 700, 130)]

    func forward(path: KernelPath, x: [Float], w: [Float], y0: [Float], m: Int, n: Int, k: Int, accumulate: Bool,
                 alpha: Float, workers: Int) -> [Float] {
        var y = y0
        x.withUnsafeBufferPointer { xp in
            w.withUnsafeBufferPointer { wp in
                y.withUnsafeMutableBufferPointer { yp in
                    SmallMatmul.xWt(xp.baseAddress!, wp.baseAddress!, yp.baseAddress!, m: m, n: n, k: k,
                                    accumulate: accumulate, alpha: alpha, path: path, workers: workers)
                }
            }
        }
        return y
    }

    func backward(path: KernelPath, dy: [Float], w: [Float], dx0: [Float], m: Int, n: Int, k: Int, accumulate: Bool,
                  workers: Int) -> [Float] {
        var dx = dx0
        dy.withUnsafeBufferPointer { dp in
            w.withUnsafeBufferPointer { wp in
                dx.withUnsafeMutableBufferPointer { xp in
                    SmallMatmul.xW(dp.baseAddress!, wp.baseAddress!, xp.baseAddress!, m: m, n: n, k: k,
                                   accumulate: accumulate, path: path, workers: workers)
                }
            }
        }
        return dx
    }

    /// y = alpha·x·Wᵀ (+ y0): each path within γ_(k+2)·(|alpha|·Σ|x·w| + |y0|) of Float64, the scalar path the
    /// in-order Float32 sum exactly; one worker or two the same bits.
    @Test(arguments: shapes)
    func forwardOfEveryPathAgainstFloat64(_ shape: (Int, Int, Int)) {
        let (m, n, k) = shape
        let x = Self.random(m * k, seed: 1), w = Self.random(n * k, seed: 2), y0 = Self.random(m * n, seed: 3)
        for accumulate in [false, true] {
            let alpha: Float = accumulate ? 0.5 : 1
            for path in KernelPath.allCases where path.isSupported {
                let y = forward(path: path, x: x, w: w, y0: y0, m: m, n: n, k: k, accumulate: accumulate, alpha: alpha, workers: 2)
                let one = forward(path: path, x: x, w: w, y0: y0, m: m, n: n, k: k, accumulate: accumulate, alpha: alpha, workers: 1)
                #expect(y.map(\.bitPattern) == one.map(\.bitPattern), "path \(path): workers changed bits")
                var worst = 0.0
                for i in 0..<m {
                    for j in 0..<n {
                        var exact = 0.0, magnitude = 0.0
                        var inOrder: Float = 0
                        for p in 0..<k {
                            let t = Double(x[i * k + p]) * Double(w[j * k + p])
                            exact += t
                            magnitude += abs(t)
                            inOrder = inOrder + x[i * k + p] * w[j * k + p]
                        }
                        let base = accumulate ? Double(y0[i * n + j]) : 0
                        let want = Double(alpha) * exact + base
                        let bound = gamma(k + 2) * (Double(abs(alpha)) * magnitude + abs(base))
                        worst = max(worst, abs(Double(y[i * n + j]) - want) / bound)
                        if path == .scalar {
                            let s = alpha * inOrder
                            let expected = accumulate ? y0[i * n + j] + s : s
                            #expect(y[i * n + j].bitPattern == expected.bitPattern, "scalar (\(i), \(j))")
                        }
                    }
                }
                #expect(worst <= 1, "path \(path) \(shape): error \(worst) of the bound")
            }
        }
    }

    /// dx = dy·W (+ dx0): each path within γ_(n+1)·(Σ|dy·w| + |dx0|) of Float64, the scalar path the in-order
    /// Float32 sum (then dx0 added to it) exactly; one worker or two the same bits. W's rows over several chunks
    /// (n = 300 and 2100 at 192 columns a block) exercise the parked sums.
    @Test(arguments: shapes)
    func backwardOfEveryPathAgainstFloat64(_ shape: (Int, Int, Int)) {
        let (m, n, k) = shape
        let dy = Self.random(m * n, seed: 4), w = Self.random(n * k, seed: 5), dx0 = Self.random(m * k, seed: 6)
        for accumulate in [false, true] {
            for path in KernelPath.allCases where path.isSupported {
                let dx = backward(path: path, dy: dy, w: w, dx0: dx0, m: m, n: n, k: k, accumulate: accumulate, workers: 2)
                let one = backward(path: path, dy: dy, w: w, dx0: dx0, m: m, n: n, k: k, accumulate: accumulate, workers: 1)
                #expect(dx.map(\.bitPattern) == one.map(\.bitPattern), "path \(path): workers changed bits")
                var worst = 0.0
                for i in 0..<m {
                    for c in 0..<k {
                        let base = accumulate ? Double(dx0[i * k + c]) : 0
                        var exact = base, magnitude = abs(base)
                        var inOrder: Float = 0
                        for r in 0..<n {
                            let t = Double(dy[i * n + r]) * Double(w[r * k + c])
                            exact += t
                            magnitude += abs(t)
                            inOrder = inOrder + dy[i * n + r] * w[r * k + c]
                        }
                        worst = max(worst, abs(Double(dx[i * k + c]) - exact) / (gamma(n + 1) * magnitude))
                        // The finished sum added to what was there, as sgemm's beta = 1 adds it.
                        let expected = accumulate ? dx0[i * k + c] + inOrder : inOrder
                        if path == .scalar { #expect(dx[i * k + c].bitPattern == expected.bitPattern, "scalar (\(i), \(c))") }
                    }
                }
                #expect(worst <= 1, "path \(path) \(shape): error \(worst) of the bound")
            }
        }
    }

    /// Matmul's linear and product take the small path for few rows (the bits SmallMatmul gives), OpenBLAS above
    /// the threshold. Skipped when $LAZARUS_SMALL_GEMM=0 turns the small path off or the CPU has no AVX-512.
    @Test(.enabled(if: SmallMatmul.enabled && KernelPath.avx512vnni.isSupported)) func matmulHandsSmallShapesOver() {
        let (m, n, k) = (20, 96, 256)
        let x = Matrix(rows: m, cols: k, values: Self.random(m * k, seed: 7))
        let w = Matrix(rows: n, cols: k, values: Self.random(n * k, seed: 8))
        let small = forward(path: .current, x: x.values, w: w.values, y0: [Float](repeating: 0, count: m * n),
                            m: m, n: n, k: k, accumulate: false, alpha: 1, workers: 1)
        let dy = Matrix(rows: m, cols: n, values: Self.random(m * n, seed: 9))
        let smallDx = backward(path: .current, dy: dy.values, w: w.values, dx0: [Float](repeating: 0, count: m * k),
                               m: m, n: n, k: k, accumulate: false, workers: 1)
        var dx = Matrix(rows: m, cols: k)
        Matmul.product(dy, w, into: &dx)
        #expect(Matmul.linear(x, w).values.map(\.bitPattern) == small.map(\.bitPattern))
        #expect(dx.values.map(\.bitPattern) == smallDx.map(\.bitPattern))
        // Above the threshold OpenBLAS does it, still the product.
        let tallRows = SmallMatmul.forwardMaximumRows + 1
        let tall = Matrix(rows: tallRows, cols: k, values: Self.random(tallRows * k, seed: 10))
        let reference = Matmul.referenceXWt(tall.values, w.values, m: tall.rows, n: n, k: k)
        #expect(zip(Matmul.linear(tall, w).values, reference).allSatisfy { abs($0 - $1) <= 1e-4 })
    }
}
