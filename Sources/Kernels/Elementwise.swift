// Small elementwise operations on matrices: the residual add, scaling and row gathering.

public enum Elementwise {
    /// y += x.
    public static func add(_ x: Matrix, to y: inout Matrix) {
        precondition(x.count == y.count, "add: size mismatch")
        x.values.withUnsafeBufferPointer { xp in
            y.values.withUnsafeMutableBufferPointer { yp in
                let a = xp.baseAddress!, b = yp.baseAddress!
                for i in 0..<x.count { b[i] += a[i] }
            }
        }
    }

    /// Adds bias: [cols] to every row of m (q/k/v biases of Qwen2).
    public static func addBias(_ bias: [Float], to m: inout Matrix) {
        precondition(bias.count == m.cols, "addBias: \(bias.count) values for \(m.cols) columns")
        bias.withUnsafeBufferPointer { bp in
            m.values.withUnsafeMutableBufferPointer { mp in
                let b = bp.baseAddress!, y = mp.baseAddress!
                for r in 0..<m.rows { for j in 0..<m.cols { y[r * m.cols + j] += b[j] } }
            }
        }
    }

    /// m *= factor.
    public static func scale(_ m: inout Matrix, by factor: Float) {
        m.values.withUnsafeMutableBufferPointer { p in
            guard let base = p.baseAddress else { return }
            Softmax.scale(base, count: p.count, by: factor)
        }
    }

    /// The rows `rows` of m, in that order, as a new matrix.
    public static func gatherRows(_ m: Matrix, _ rows: [Int]) -> Matrix {
        var out = Matrix(rows: rows.count, cols: m.cols)
        m.values.withUnsafeBufferPointer { src in
            out.values.withUnsafeMutableBufferPointer { dst in
                for (i, r) in rows.enumerated() {
                    precondition(r >= 0 && r < m.rows, "gatherRows: row \(r) outside 0..<\(m.rows)")
                    (dst.baseAddress! + i * m.cols).update(from: src.baseAddress! + r * m.cols, count: m.cols)
                }
            }
        }
        return out
    }

    /// Copies `count` rows of `source` starting at `sourceRow` into `destination` (a flat row buffer of the same width) at `destinationRow`.
    public static func copyRows(_ source: Matrix, from sourceRow: Int, count: Int, into destination: inout [Float], at destinationRow: Int) {
        precondition(sourceRow + count <= source.rows && (destinationRow + count) * source.cols <= destination.count, "copyRows: out of range")
        source.values.withUnsafeBufferPointer { src in
            destination.withUnsafeMutableBufferPointer { dst in
                (dst.baseAddress! + destinationRow * source.cols).update(from: src.baseAddress! + sourceRow * source.cols, count: count * source.cols)
            }
        }
    }
}
