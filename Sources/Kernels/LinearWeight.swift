// LinearWeight: what a linear layer multiplies by — a Float32 matrix (the exact path, trainable) or quantised
// blocks (inference) — and the one product the forward calls for either. Not a tensor type of its own.

/// A linear layer's weight: Float32 (the exact path, trainable) or quantised blocks (inference).
public enum LinearWeight: Sendable {
    case dense(Matrix)
    case quantized(QuantizedMatrix)

    public var rows: Int {
        switch self {
        case let .dense(m): return m.rows
        case let .quantized(q): return q.rows
        }
    }
    public var cols: Int {
        switch self {
        case let .dense(m): return m.cols
        case let .quantized(q): return q.cols
        }
    }
}

extension Matmul {
    /// y = x · Wᵀ for either kind of weight, y already shaped [x.rows, w.rows].
    public static func linear(_ x: Matrix, _ w: LinearWeight, into y: inout Matrix) {
        switch w {
        case let .dense(m): linear(x, m, into: &y)
        case let .quantized(q): q.linear(x, into: &y)
        }
    }
}
