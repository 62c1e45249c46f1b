// The Llama backward pass for LoRA training: from dLoss/dLogits at chosen rows back through the
// unembedding, the final norm and every block to the embedding output. Base weights are frozen, so
// they only carry activation gradients; the LoRA matrices A and B receive weight gradients.
// Not an optimiser and not a loss: those live in the Training target.
import Kernels

/// Gradients in the layout of the adapters they belong to: `layers[i][p].a` holds ∂L/∂A, `.b` holds ∂L/∂B.
public typealias LoRAAdapterGradients = LoRAAdapters

public struct BackwardResult: Sendable {
    public var adapterGradients: LoRAAdapterGradients
    /// ∂L/∂(embedding output): [N, D], packed like the input.
    public var embeddingOutputGradient: Matrix
}

extension TransformerModel {
    /// Logits for the packed rows `rows` of a forward pass with saved activations: [rows.count, V].
    /// Training asks only for the rows that have a target, so a 49152-wide vocabulary costs little.
    public func logits(atRows rows: [Int], of record: ActivationRecord) -> Matrix {
        let normed = Elementwise.gatherRows(record.finalNormed, rows)
        var logits = Matrix(rows: rows.count, cols: config.vocabularySize)
        Matmul.linear(normed, weights.unembedding, into: &logits)
        return logits
    }

    /// Backpropagates dLogits: [rows.count, V] (the gradient at `logits(atRows: rows, of: record)`) to every
    /// LoRA matrix of `adapters` (which must be the adapters of the forward pass that wrote `record`).
    public func backward(dLogits: Matrix, atRows rows: [Int], record: ActivationRecord,
                         adapters: LoRAAdapters) -> BackwardResult {
        let c = config
        precondition(dLogits.rows == rows.count && dLogits.cols == c.vocabularySize, "backward: dLogits shape")
        precondition(record.layers.count == c.layerCount, "backward: the record has no saved activations per layer")
        let N = record.finalInput.rows

        // Unembedding: dNormed[rows] = dLogits · W_U; other rows have no gradient.
        var dRowsNormed = Matrix(rows: rows.count, cols: c.hiddenSize)
        Matmul.product(dLogits, weights.unembedding, into: &dRowsNormed)
        var dNormed = Matrix(rows: N, cols: c.hiddenSize)
        for (i, r) in rows.enumerated() {
            for j in 0..<c.hiddenSize { dNormed.values[r * c.hiddenSize + j] += dRowsNormed.values[i * c.hiddenSize + j] }
        }
        var dx = Matrix(rows: N, cols: c.hiddenSize)
        var noWeightGradient: [Float] = []
        RMSNorm.backward(dy: dNormed, x: record.finalInput, weight: weights.finalNorm, rstd: record.finalRstd,
                         dx: &dx, accumulate: false, dWeight: &noWeightGradient)

        var gradients = LoRAAdapters(rank: adapters.rank, alpha: adapters.alpha, targets: adapters.targets,
                                     layers: Array(repeating: [:], count: c.layerCount))
        let layout = AttentionLayout(queryRowOffsets: record.rowOffsets, queryCounts: record.lengths,
                                     keyRowOffsets: record.rowOffsets, keyCounts: record.lengths,
                                     heads: c.headCount, kvHeads: c.kvHeadCount, headDim: c.headDim)
        // A pass that read keys from a KV cache saved [T, S] probabilities with S > T; this backward is for cache-free passes.
        precondition(layout.probabilityOffsets == record.probabilityOffsets, "backward: the record comes from a pass with a KV cache")
        // Buffers reused across layers.
        var dGated = Matrix(rows: N, cols: c.intermediateSize)
        var dGate = Matrix(rows: N, cols: c.intermediateSize)
        var dUp = Matrix(rows: N, cols: c.intermediateSize)
        var dXn = Matrix(rows: N, cols: c.hiddenSize)
        var dAttention = Matrix(rows: N, cols: c.queryWidth)
        var dQ = Matrix(rows: N, cols: c.queryWidth)
        var dK = Matrix(rows: N, cols: c.kvWidth)
        var dV = Matrix(rows: N, cols: c.kvWidth)

        for l in stride(from: c.layerCount - 1, through: 0, by: -1) {
            let w = weights.layers[l]
            let saved = record.layers[l]
            /// dInput (+)= dOut · W (+ LoRA path); records ∂L/∂A and ∂L/∂B for an adapted projection.
            func projectBackward(_ p: Projection, input: Matrix, dOut: Matrix, dInput: inout Matrix, accumulate: Bool) {
                Matmul.product(dOut, w.weight(of: p), into: &dInput, accumulate: accumulate)
                guard let ad = adapters.adapter(layer: l, p), let u = saved.loraIntermediate[p] else { return }
                // out += s · u · Bᵀ with u = input · Aᵀ.
                var dB = Matrix(rows: ad.b.rows, cols: ad.rank)
                Matmul.transposedProduct(dOut, u, into: &dB, alpha: ad.scale)
                var du = Matrix(rows: input.rows, cols: ad.rank)
                Matmul.product(dOut, ad.b, into: &du, alpha: ad.scale)
                var dA = Matrix(rows: ad.rank, cols: ad.a.cols)
                Matmul.transposedProduct(du, input, into: &dA)
                Matmul.product(du, ad.a, into: &dInput, accumulate: true)
                gradients.layers[l][p] = LoRAAdapter(a: dA, b: dB, scale: ad.scale)
            }

            // MLP: x_out = middle + down(silu(gate(xn)) ⊙ up(xn)), xn = RMSNorm(middle).
            projectBackward(.down, input: saved.gated, dOut: dx, dInput: &dGated, accumulate: false)
            SwiGLU.backward(dh: dGated, gate: saved.gate, up: saved.up, dGate: &dGate, dUp: &dUp)
            projectBackward(.gate, input: saved.mlpNormed, dOut: dGate, dInput: &dXn, accumulate: false)
            projectBackward(.up, input: saved.mlpNormed, dOut: dUp, dInput: &dXn, accumulate: true)
            RMSNorm.backward(dy: dXn, x: saved.middle, weight: w.mlpNorm, rstd: saved.mlpRstd,
                             dx: &dx, accumulate: true, dWeight: &noWeightGradient)

            // Attention: middle = input + o(attn(rope(q(xn)), rope(k(xn)), v(xn))), xn = RMSNorm(input).
            projectBackward(.output, input: saved.attentionOutput, dOut: dx, dInput: &dAttention, accumulate: false)
            dQ.zero()
            dK.zero()
            dV.zero()
            CausalAttention.backward(dOutput: dAttention, query: saved.query, keys: saved.key, values: saved.value,
                                     probabilities: saved.probabilities, layout: layout, dQuery: &dQ, dKeys: &dK, dValues: &dV)
            rope.backward(&dQ, heads: c.headCount, positions: record.positions)
            rope.backward(&dK, heads: c.kvHeadCount, positions: record.positions)
            projectBackward(.query, input: saved.attentionNormed, dOut: dQ, dInput: &dXn, accumulate: false)
            projectBackward(.key, input: saved.attentionNormed, dOut: dK, dInput: &dXn, accumulate: true)
            projectBackward(.value, input: saved.attentionNormed, dOut: dV, dInput: &dXn, accumulate: true)
            RMSNorm.backward(dy: dXn, x: saved.input, weight: w.attentionNorm, rstd: saved.attentionRstd,
                             dx: &dx, accumulate: true, dWeight: &noWeightGradient)
        }
        return BackwardResult(adapterGradients: gradients, embeddingOutputGradient: dx)
    }
}
