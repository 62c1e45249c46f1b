// A stretch of a QuantizedMatrix's rows as a matrix of its own (the same bytes, not a copy), and the input
// gradient through quantised weights (dX = dY · W, decoding W to Float32): what a mixture-of-experts layer needs
// to multiply by one expert of a stacked [E·F, D] tensor and to train around it frozen. Not a change of the
// kernels: products of a slice run QuantizedMatrix.linear as for any matrix.

extension QuantizedMatrix {
    /// Rows `range` as a [range.count, cols] matrix over the same storage (rows are whole blocks, so any stretch is one).
    public func rows(_ range: Range<Int>) -> QuantizedMatrix {
        precondition(range.lowerBound >= 0 && range.upperBound <= rows && !range.isEmpty, "QuantizedMatrix.rows: \(range) of \(rows) rows")
        // Inside the checked matrix: the same type and width, a sub-range of its bytes.
        return try! QuantizedMatrix(type: type, rows: range.count, cols: cols, data: storage,
                                    offset: byteOffset + range.lowerBound * rowBytes, byteCount: range.count * rowBytes)
    }

    /// dX [M, cols] (+)= dY [M, rows] · W: the input gradient of y = x · Wᵀ with W frozen. W is decoded to Float32 (its
    /// exact values, as `dequantized()`) and multiplied by the same sgemm as the dense backward, so the result is
    /// bit-identical to that of the Float32 weights. The decoded copy lives for the call only (one expert is 33 MB at
    /// GPT-OSS-20B's 2880 × 2880).
    public func inputGradient(_ dY: Matrix, into dX: inout Matrix, accumulate: Bool = false) {
        precondition(dY.cols == rows && dX.rows == dY.rows && dX.cols == cols,
                     "QuantizedMatrix.inputGradient: dY \(dY.rows)×\(dY.cols), W \(rows)×\(cols), dX \(dX.rows)×\(dX.cols)")
        Matmul.product(dY, dequantized(), into: &dX, accumulate: accumulate)
    }
}
