// RMSNorm forward and backward over rows: y = x / sqrt(mean(x²) + eps) ⊙ w.
// Not LayerNorm: no mean is subtracted and there is no bias (Llama's normalisation).

public enum RMSNorm {
    /// x, y: [N, D]; weight: [D]; rstd: [N] receives 1/sqrt(mean(x²)+eps) per row for the backward.
    public static func forward(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, eps: Float,
                               _ y: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>?, rows: Int, dim: Int) {
        Parallel.forEachChunk(rows, minimumPerChunk: Parallel.minimumRows(width: dim)) { range in
            for r in range {
                let xr = x + r * dim
                let yr = y + r * dim
                var ss: Float = 0
                for i in 0..<dim { ss += xr[i] * xr[i] }
                let s = 1 / (ss / Float(dim) + eps).squareRoot()
                rstd?[r] = s
                for i in 0..<dim { yr[i] = (xr[i] * s) * weight[i] }
            }
        }
    }

    /// dx (+)= ∂L/∂x given dy: [N, D]. With g = w ⊙ dy and x̂ = x·rstd: dx = rstd · (g − x̂ · mean(g ⊙ x̂)).
    /// dWeight, when given, accumulates Σ_rows dy ⊙ x̂ (frozen base weights pass nil).
    public static func backward(dy: UnsafePointer<Float>, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                rstd: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, accumulate: Bool,
                                dWeight: UnsafeMutablePointer<Float>?, rows: Int, dim: Int) {
        Parallel.forEachChunk(rows, minimumPerChunk: Parallel.minimumRows(width: dim)) { range in
            for r in range {
                let xr = x + r * dim, dyr = dy + r * dim, dxr = dx + r * dim
                let s = rstd[r]
                var dot: Float = 0
                for i in 0..<dim { dot += weight[i] * dyr[i] * xr[i] * s }
                let meanDot = dot / Float(dim)
                for i in 0..<dim {
                    let g = weight[i] * dyr[i]
                    let v = s * (g - xr[i] * s * meanDot)
                    dxr[i] = accumulate ? dxr[i] + v : v
                }
            }
        }
        if let dWeight {
            for r in 0..<rows {
                let xr = x + r * dim, dyr = dy + r * dim
                let s = rstd[r]
                for i in 0..<dim { dWeight[i] += dyr[i] * xr[i] * s }
            }
        }
    }
}

extension RMSNorm {
    /// y = RMSNorm(x) ⊙ weight row by row; y must be shaped like x; rstd (if non-empty) gets one value per row.
    public static func forward(_ x: Matrix, weight: [Float], eps: Float, into y: inout Matrix, rstd: inout [Float]) {
        precondition(x.cols == weight.count && y.rows == x.rows && y.cols == x.cols, "RMSNorm: shape mismatch")
        let keep = !rstd.isEmpty
        precondition(!keep || rstd.count == x.rows, "RMSNorm: rstd needs one value per row")
        x.values.withUnsafeBufferPointer { xp in
            weight.withUnsafeBufferPointer { wp in
                y.values.withUnsafeMutableBufferPointer { yp in
                    rstd.withUnsafeMutableBufferPointer { rp in
                        forward(xp.baseAddress!, weight: wp.baseAddress!, eps: eps, yp.baseAddress!,
                                rstd: keep ? rp.baseAddress : nil, rows: x.rows, dim: x.cols)
                    }
                }
            }
        }
    }

    /// y = RMSNorm(x[rows]) ⊙ weight for a contiguous range of x's rows, without gathering them first;
    /// y must be shaped [rows.count, x.cols].
    public static func forward(_ x: Matrix, rows: Range<Int>, weight: [Float], eps: Float, into y: inout Matrix) {
        precondition(x.cols == weight.count && rows.lowerBound >= 0 && rows.upperBound <= x.rows
                     && y.rows == rows.count && y.cols == x.cols, "RMSNorm: shape mismatch")
        x.values.withUnsafeBufferPointer { xp in
            weight.withUnsafeBufferPointer { wp in
                y.values.withUnsafeMutableBufferPointer { yp in
                    forward(xp.baseAddress! + rows.lowerBound * x.cols, weight: wp.baseAddress!, eps: eps, yp.baseAddress!,
                            rstd: nil, rows: rows.count, dim: x.cols)
                }
            }
        }
    }

    /// Returns RMSNorm(x) ⊙ weight.
    public static func forward(_ x: Matrix, weight: [Float], eps: Float) -> Matrix {
        var y = Matrix(rows: x.rows, cols: x.cols)
        var none: [Float] = []
        forward(x, weight: weight, eps: eps, into: &y, rstd: &none)
        return y
    }

    /// dx (+)= backward of RMSNorm; dWeight accumulates when non-empty.
    public static func backward(dy: Matrix, x: Matrix, weight: [Float], rstd: [Float], dx: inout Matrix,
                                accumulate: Bool, dWeight: inout [Float]) {
        let wantW = !dWeight.isEmpty
        dy.values.withUnsafeBufferPointer { dyp in
            x.values.withUnsafeBufferPointer { xp in
                weight.withUnsafeBufferPointer { wp in
                    rstd.withUnsafeBufferPointer { rp in
                        dx.values.withUnsafeMutableBufferPointer { dxp in
                            dWeight.withUnsafeMutableBufferPointer { dwp in
                                backward(dy: dyp.baseAddress!, x: xp.baseAddress!, weight: wp.baseAddress!, rstd: rp.baseAddress!,
                                         dx: dxp.baseAddress!, accumulate: accumulate, dWeight: wantW ? dwp.baseAddress : nil,
                                         rows: x.rows, dim: x.cols)
                            }
                        }
                    }
                }
            }
        }
    }
}

extension RMSNorm {
    /// QK-norm: RMSNorm of every Dh-wide head slice of each row, in place. m: [N, heads·Dh]; weight: [Dh];
    /// rstd: [N·heads] (filled when non-empty). A row of heads is N·heads rows of Dh, so the row kernel serves.
    public static func forwardHeads(_ m: inout Matrix, weight: [Float], eps: Float, rstd: inout [Float]) {
        let dh = weight.count
        precondition(dh > 0 && m.cols % dh == 0, "RMSNorm heads: \(m.cols) columns are not heads of \(dh)")
        let rows = m.rows * (m.cols / dh)
        let keep = !rstd.isEmpty
        precondition(!keep || rstd.count == rows, "RMSNorm heads: rstd needs one value per head row")
        weight.withUnsafeBufferPointer { wp in
            m.values.withUnsafeMutableBufferPointer { mp in
                rstd.withUnsafeMutableBufferPointer { rp in
                    // In place: each row's sum of squares is taken before any of its values is written.
                    forward(mp.baseAddress!, weight: wp.baseAddress!, eps: eps, mp.baseAddress!,
                            rstd: keep ? rp.baseAddress : nil, rows: rows, dim: dh)
                }
            }
        }
    }

    /// The backward of `forwardHeads`: dx = ∂L/∂(pre-norm heads) from dy and the saved pre-norm x (both [N, heads·Dh]).
    public static func backwardHeads(dy: Matrix, x: Matrix, weight: [Float], rstd: [Float], dx: inout Matrix) {
        let dh = weight.count
        precondition(dy.count == x.count && dx.count == x.count && x.cols % dh == 0, "RMSNorm heads: shape mismatch")
        let rows = x.rows * (x.cols / dh)
        precondition(rstd.count == rows, "RMSNorm heads: rstd needs one value per head row")
        dy.values.withUnsafeBufferPointer { dyp in
            x.values.withUnsafeBufferPointer { xp in
                weight.withUnsafeBufferPointer { wp in
                    rstd.withUnsafeBufferPointer { rp in
                        dx.values.withUnsafeMutableBufferPointer { dxp in
                            backward(dy: dyp.baseAddress!, x: xp.baseAddress!, weight: wp.baseAddress!, rstd: rp.baseAddress!,
                                     dx: dxp.baseAddress!, accumulate: false, dWeight: nil, rows: rows, dim: dh)
                        }
                    }
                }
            }
        }
    }
}
