// The readout: final norm, unembedding and (where the family has it) logit soft-capping, forward and
// backward. It turns a residual-stream row of any layer into logits — the model's own output at the last
// layer, the logit lens elsewhere — and its backward is what a loss read through the lens needs.
import Kernels

extension TransformerModel {
    /// softcap(W_U · FinalNorm(h)) for every row of hidden: [R, D] → [R, V].
    public func readout(_ hidden: Matrix) -> Matrix {
        var normed = Matrix(rows: hidden.rows, cols: config.hiddenSize)
        var logits = Matrix(rows: hidden.rows, cols: config.vocabularySize)
        readout(hidden, rows: 0..<hidden.rows, normed: &normed, into: &logits)
        return logits
    }

    /// `readout` of a contiguous range of rows into buffers the caller keeps between calls (the logit lens
    /// reads thousands of rows: fresh 30 MB logit buffers each time cost page faults, not arithmetic).
    /// normed: [rows.count, D] scratch; logits: [rows.count, V].
    public func readout(_ hidden: Matrix, rows: Range<Int>, normed: inout Matrix, into logits: inout Matrix) {
        RMSNorm.forward(hidden, rows: rows, weight: weights.finalNorm, eps: config.rmsNormEps, into: &normed)
        if rows.count <= FusedLinear.maximumRows {
            // Decode's unembedding: one dot product a vocabulary row, split over the cores (FusedLinear).
            FusedLinear.apply(normed, weights.unembeddingWeight, into: &logits)
        } else {
            Matmul.linear(normed, weights.unembeddingWeight, into: &logits)
        }
        if let cap = config.finalLogitSoftcap { Softcap.forward(&logits.values, cap: cap) }
    }

    /// ∂L/∂hidden for a loss on `readout(hidden)`: dLogits and hidden are [R, V] and [R, D]; returns [R, D].
    /// The unembedding and the final norm are frozen, so only the activation gradient is formed.
    public func readoutBackward(dLogits: Matrix, hidden: Matrix) -> Matrix {
        let c = config
        precondition(weights.quantizedUnembedding == nil, "readoutBackward: the unembedding is quantised (native weights); gradients need f32 weights")
        precondition(dLogits.rows == hidden.rows && dLogits.cols == c.vocabularySize && hidden.cols == c.hiddenSize,
                     "readoutBackward: dLogits \(dLogits.rows)×\(dLogits.cols), hidden \(hidden.rows)×\(hidden.cols)")
        var dCapped = dLogits
        if let cap = c.finalLogitSoftcap {
            // The cap's derivative reads the capped logits; recomputing them for these rows is cheaper than keeping them.
            Softcap.backward(&dCapped.values, capped: readout(hidden).values, cap: cap)
        }
        var dNormed = Matrix(rows: hidden.rows, cols: c.hiddenSize)
        Matmul.product(dCapped, weights.unembedding, into: &dNormed)
        var rstd = [Float](repeating: 0, count: hidden.rows)
        var normed = Matrix(rows: hidden.rows, cols: c.hiddenSize)
        RMSNorm.forward(hidden, weight: weights.finalNorm, eps: c.rmsNormEps, into: &normed, rstd: &rstd)
        var dHidden = Matrix(rows: hidden.rows, cols: c.hiddenSize)
        var noWeightGradient: [Float] = []
        RMSNorm.backward(dy: dNormed, x: hidden, weight: weights.finalNorm, rstd: rstd, dx: &dHidden,
                         accumulate: false, dWeight: &noWeightGradient)
        return dHidden
    }
}
