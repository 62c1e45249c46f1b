// Matrix products through the loaded BLAS's sgemm (BLASLibrary.swift), plus a plain reference loop that tests hold them to.
// Weights are stored as [out, in] rows (Hugging Face's nn.Linear layout), so a linear layer is y = x·Wᵀ.
import COpenBLAS

public enum Matmul {
    /// y[M,N] (+)= x[M,K] · w[N,K]ᵀ   — the forward of a linear layer.
    public static func xWt(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                           m: Int, n: Int, k: Int, accumulate: Bool = false, alpha: Float = 1) {
        guard m > 0, n > 0 else { return }
        if k == 0 { if !accumulate { y.update(repeating: 0, count: m * n) }; return }
        lazarus_sgemm(0, 1, Int32(m), Int32(n), Int32(k),
                    alpha, x, Int32(k), w, Int32(k), accumulate ? 1 : 0, y, Int32(n))
    }

    /// y[M,N] (+)= x[M,K] · w[K,N]   — the input gradient of a linear layer (dx = dy·W).
    public static func xW(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                          m: Int, n: Int, k: Int, accumulate: Bool = false, alpha: Float = 1) {
        guard m > 0, n > 0 else { return }
        if k == 0 { if !accumulate { y.update(repeating: 0, count: m * n) }; return }
        lazarus_sgemm(0, 0, Int32(m), Int32(n), Int32(k),
                    alpha, x, Int32(k), w, Int32(n), accumulate ? 1 : 0, y, Int32(n))
    }

    /// y[M,N] (+)= a[K,M]ᵀ · b[K,N]   — the weight gradient of a linear layer (dW = dyᵀ·x).
    public static func aTb(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                           m: Int, n: Int, k: Int, accumulate: Bool = false, alpha: Float = 1) {
        guard m > 0, n > 0 else { return }
        if k == 0 { if !accumulate { y.update(repeating: 0, count: m * n) }; return }
        lazarus_sgemm(1, 0, Int32(m), Int32(n), Int32(k),
                    alpha, a, Int32(m), b, Int32(n), accumulate ? 1 : 0, y, Int32(n))
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
