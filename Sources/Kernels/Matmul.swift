// Matrix products through the loaded BLAS's sgemm (BLASLibrary.swift), plus a plain reference loop that tests hold them to.
// Weights are stored as [out, in] rows (Hugging Face's nn.Linear layout), so a linear layer is y = x·Wᵀ.
import COpenBLAS

public enum Matmul {
    /// y[M,N] (+)= x[M,K] · w[N,K]ᵀ   — the forward of a linear layer.
    public static func xWt(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                           m: Int, n: Int, k: Int, accumulate: Bool = false, alpha: Float = 1) {
        guard m > 0, n > 0 else { return }
        if k == 0 { if !accumulate { y.update(repeating: 0, count: m * n) }; return }
        if SmallMatmul.takesForward(m: m, n: n, k: k) {
            return SmallMatmul.xWt(x, w, y, m: m, n: n, k: k, accumulate: accumulate, alpha: alpha)
        }
        blocked(transA: false, transB: true, m: m, n: n, k: k, alpha: alpha, x, lda: k, w, ldb: k,
                beta: accumulate ? 1 : 0, y, ldc: n)
    }

    /// y[M,N] (+)= x[M,K] · w[K,N]   — the input gradient of a linear layer (dx = dy·W).
    public static func xW(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                          m: Int, n: Int, k: Int, accumulate: Bool = false, alpha: Float = 1) {
        guard m > 0, n > 0 else { return }
        if k == 0 { if !accumulate { y.update(repeating: 0, count: m * n) }; return }
        if alpha == 1, SmallMatmul.takesInputGradient(m: m, n: k, k: n) {
            return SmallMatmul.xW(x, w, y, m: m, n: k, k: n, accumulate: accumulate)
        }
        blocked(transA: false, transB: false, m: m, n: n, k: k, alpha: alpha, x, lda: k, w, ldb: n,
                beta: accumulate ? 1 : 0, y, ldc: n)
    }

    /// y[M,N] (+)= a[K,M]ᵀ · b[K,N]   — the weight gradient of a linear layer (dW = dyᵀ·x).
    public static func aTb(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                           m: Int, n: Int, k: Int, accumulate: Bool = false, alpha: Float = 1) {
        guard m > 0, n > 0 else { return }
        if k == 0 { if !accumulate { y.update(repeating: 0, count: m * n) }; return }
        blocked(transA: true, transB: false, m: m, n: n, k: k, alpha: alpha, a, lda: m, b, ldb: n,
                beta: accumulate ? 1 : 0, y, ldc: n)
    }

    // MARK: Blocks fixed by the shape

    /// How one product is cut into independent blocks of the output: along its longer side (rows of C, or
    /// columns of C), into `parts` stretches of `size`, and when the other side is long too, that side into
    /// `crossParts` stretches of `crossSize` (a grid of tiles). It depends on the shape alone, never on how many
    /// cores are free, so a product gives the same bits on a quiet machine and a loaded one, with one worker or two.
    public struct Blocking: Equatable, Sendable {
        public enum Axis: Sendable { case rows, columns }
        public var axis: Axis
        public var size: Int
        public var parts: Int
        public var crossSize: Int
        public var crossParts: Int = 1
        public var blockCount: Int { parts * crossParts }
    }

    /// Products below this many multiply-adds (about 0.1 ms on one core) run as one call.
    static let smallestSplitProduct = 1 << 22
    /// At most this many blocks: enough for dynamic balance on a few cores when one of them is shared,
    /// few enough that each block re-packing the smaller operand stays a small cost.
    static let maximumBlocks = 8
    /// Both sides at least this long: a grid of 4 × 2 tiles instead of 8 stretches. Each stretch along one side
    /// re-packs the whole of the other operand (OpenBLAS packs it once per call), so 8 stretches of a 2048³
    /// product spent 5–10% more CPU time than one call, and 4 × 2 tiles about none (docs/performance.md).
    static let gridSide = 512

    public static func blocking(m: Int, n: Int, k: Int) -> Blocking {
        let axis: Blocking.Axis = n >= m ? .columns : .rows
        let length = axis == .columns ? n : m, other = axis == .columns ? m : n
        guard m * n * k >= smallestSplitProduct, length >= 64 else {
            return Blocking(axis: axis, size: length, parts: 1, crossSize: other)
        }
        // Stretches a multiple of 16 long keep every block's edge on the kernels' register tiles.
        func cut(_ side: Int, into parts: Int) -> (size: Int, parts: Int) {
            let size = ((side + parts - 1) / parts + 15) / 16 * 16
            return (size, (side + size - 1) / size)
        }
        if other >= gridSide {
            let along = cut(length, into: maximumBlocks / 2), across = cut(other, into: 2)
            return Blocking(axis: axis, size: along.size, parts: along.parts, crossSize: across.size, crossParts: across.parts)
        }
        let along = cut(length, into: min(maximumBlocks, length / 32))
        return Blocking(axis: axis, size: along.size, parts: along.parts, crossSize: other)
    }

    /// Row-major C[m, n] = alpha·op(A)·op(B) + beta·C, block by block (each block one single-threaded sgemm);
    /// the blocks run on up to `BLASThreads.current` workers, never more than the cores other processes leave free
    /// (`workers` overrides that count, for tests that compare one worker with several).
    public static func blocked(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                               _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int,
                               beta: Float, _ c: UnsafeMutablePointer<Float>, ldc: Int, workers: Int? = nil) {
        let plan = blocking(m: m, n: n, k: k)
        func run(_ block: Int) {
            let along = (block / plan.crossParts) * plan.size, across = (block % plan.crossParts) * plan.crossSize
            let (row, column) = plan.axis == .columns ? (across, along) : (along, across)
            let (rowSize, columnSize) = plan.axis == .columns ? (plan.crossSize, plan.size) : (plan.size, plan.crossSize)
            let rows = min(rowSize, m - row), columns = min(columnSize, n - column)
            guard rows > 0, columns > 0 else { return }
            // Rows i of C come from rows i of op(A) (columns of A when it is transposed); columns j of C from
            // columns j of op(B) (rows of B when it is transposed).
            lazarus_sgemm(transA ? 1 : 0, transB ? 1 : 0, Int32(rows), Int32(columns), Int32(k), alpha,
                          a + (transA ? row : row * lda), Int32(lda), b + (transB ? column * ldb : column), Int32(ldb),
                          beta, c + row * ldc + column, Int32(ldc))
        }
        Parallel.forEachItem(plan.blockCount, workers: workers ?? min(BLASThreads.current, Parallel.workerCount), run)
    }

    // MARK: Safe wrappers over Matrix values

    /// Returns x · wᵀ.
    public static func linear(_ x: Matrix, _ w: Matrix) -> Matrix {
        precondition(x.cols == w.cols, "linear: x has \(x.cols) columns, w has \(w.cols)")
        var y = Matrix(rows: x.rows, cols: w.rows)
        linear(x, w, into: &y)
        return y
    }

    /// y (+)= alpha · x · wᵀ, y already shaped [x.rows, w.rows].
    public static func linear(_ x: Matrix, _ w: Matrix, into y: inout Matrix, accumulate: Bool = false, alpha: Float = 1) {
        precondition(x.cols == w.cols && y.rows == x.rows && y.cols == w.rows,
                     "linear: x \(x.rows)×\(x.cols), w \(w.rows)×\(w.cols), y \(y.rows)×\(y.cols)")
        x.values.withUnsafeBufferPointer { xp in
            w.values.withUnsafeBufferPointer { wp in
                y.values.withUnsafeMutableBufferPointer { yp in
                    xWt(xp.baseAddress!, wp.baseAddress!, yp.baseAddress!, m: x.rows, n: w.rows, k: x.cols,
                        accumulate: accumulate, alpha: alpha)
                }
            }
        }
    }

    /// y (+)= alpha · x · w, y already shaped [x.rows, w.cols].
    public static func product(_ x: Matrix, _ w: Matrix, into y: inout Matrix, accumulate: Bool = false, alpha: Float = 1) {
        precondition(x.cols == w.rows && y.rows == x.rows && y.cols == w.cols, "product: shape mismatch")
        x.values.withUnsafeBufferPointer { xp in
            w.values.withUnsafeBufferPointer { wp in
                y.values.withUnsafeMutableBufferPointer { yp in
                    xW(xp.baseAddress!, wp.baseAddress!, yp.baseAddress!, m: x.rows, n: w.cols, k: x.cols,
                       accumulate: accumulate, alpha: alpha)
                }
            }
        }
    }

    /// y (+)= alpha · aᵀ · b, y already shaped [a.cols, b.cols] (a and b share their row count).
    public static func transposedProduct(_ a: Matrix, _ b: Matrix, into y: inout Matrix, accumulate: Bool = false, alpha: Float = 1) {
        precondition(a.rows == b.rows && y.rows == a.cols && y.cols == b.cols, "transposedProduct: shape mismatch")
        a.values.withUnsafeBufferPointer { ap in
            b.values.withUnsafeBufferPointer { bp in
                y.values.withUnsafeMutableBufferPointer { yp in
                    aTb(ap.baseAddress!, bp.baseAddress!, yp.baseAddress!, m: a.cols, n: b.cols, k: a.rows,
                        accumulate: accumulate, alpha: alpha)
                }
            }
        }
    }

    /// The reference: a triple loop in Double, for tests of the fast path.
    public static func referenceXWt(_ x: [Float], _ w: [Float], m: Int, n: Int, k: Int) -> [Float] {
        var y = [Float](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k { s += Double(x[i * k + p]) * Double(w[j * k + p]) }
                y[i * n + j] = Float(s)
            }
        }
        return y
    }
}
