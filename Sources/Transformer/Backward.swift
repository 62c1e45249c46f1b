// The backward pass, mirroring Forward.swift call for call: from a gradient at the logits of chosen rows
// and/or gradients injected into the residual stream at any layer, back through every block to the
// embedding output. Base weights are frozen, so they only carry activation gradients; the LoRA matrices
// A and B receive weight gradients. Not an optimiser and not a loss: those live in the Optimization target.
import Kernels

/// Gradients in the layout of the adapters they belong to: `layers[i][p].a` holds ∂L/∂A, `.b` holds ∂L/∂B.
public typealias LoRAAdapterGradients = LoRAAdapters

/// Where the backward starts: a gradient at the logits, at the residual stream, or both.
public struct BackwardSeed: Sendable {
    /// ∂L/∂logits for the packed rows `logitRows` ([rows.count, V], logits as `logits(atRows:of:)` gives them).
    public var dLogits: Matrix?
    public var logitRows: [Int]
    /// ∂L/∂(residual stream) by layer index (−1: `embed`, k: `Lk`, the output of block k), each [N, D] packed.
    public var residual: [Int: Matrix]

    public init(dLogits: Matrix? = nil, logitRows: [Int] = [], residual: [Int: Matrix] = [:]) {
        self.dLogits = dLogits
        self.logitRows = logitRows
        self.residual = residual
    }
}

public struct BackwardResult: Sendable {
    public var adapterGradients: LoRAAdapterGradients
    /// ∂L/∂(embedding output, after any embedding scale): [N, D], packed like the input.
    public var embeddingOutputGradient: Matrix
}

extension TransformerModel {
    /// Logits for the packed rows `rows` of a forward pass with saved activations: [rows.count, V].
    /// Training asks only for the rows that have a target, so a 49152-wide vocabulary costs little.
    public func logits(atRows rows: [Int], of record: ActivationRecord) -> Matrix {
        let normed = Elementwise.gatherRows(record.finalNormed, rows)
        // [R, V] is the largest buffer of a step (12 MB at 64 rows of a 49152-wide vocabulary): from the workspace.
        var logits = record.workspace?.matrix(rows: rows.count, cols: config.vocabularySize) ?? Matrix(rows: rows.count, cols: config.vocabularySize)
        Matmul.linear(normed, weights.unembedding, into: &logits)
        if let cap = config.finalLogitSoftcap { Softcap.forward(&logits.values, cap: cap) }
        return logits
    }

    /// Backpropagates dLogits: [rows.count, V] (the gradient at `logits(atRows: rows, of: record)`) to every
    /// LoRA matrix of `adapters` (which must be the adapters of the forward pass that wrote `record`).
    public func backward(dLogits: Matrix, atRows rows: [Int], record: ActivationRecord, adapters: LoRAAdapters) -> BackwardResult {
        backward(BackwardSeed(dLogits: dLogits, logitRows: rows), record: record, adapters: adapters)
    }

    public func backward(_ seed: BackwardSeed, record: ActivationRecord, adapters: LoRAAdapters) -> BackwardResult {
        let c = config
        // Frozen experts may stay quantised (their input gradient decodes them); nothing else may.
        precondition(!weights.quantizesMoreThanExperts, "backward: the model's weights are quantised (native storage); training needs Float32 weights beside frozen experts: load with .f32 or .nativeExperts, or use weights.dequantized()")
        precondition(record.layers.count == c.layerCount, "backward: the record has no saved activations per layer")
        let N = record.finalInput.rows
        let workspace = record.workspace
        func buffer(_ cols: Int) -> Matrix { workspace?.matrix(rows: N, cols: cols) ?? Matrix(rows: N, cols: cols) }
        var dx = buffer(c.hiddenSize)
        if let dLogits = seed.dLogits {
            let rows = seed.logitRows
            precondition(dLogits.rows == rows.count && dLogits.cols == c.vocabularySize, "backward: dLogits shape")
            let dRows = readoutBackward(dLogits: dLogits, hidden: Elementwise.gatherRows(record.finalInput, rows))
            for (i, r) in rows.enumerated() {
                for j in 0..<c.hiddenSize { dx.values[r * c.hiddenSize + j] += dRows.values[i * c.hiddenSize + j] }
            }
        }
        func inject(after layer: Int) {
            if let g = seed.residual[layer] {
                precondition(g.rows == N && g.cols == c.hiddenSize, "backward: residual gradient at \(layer) is \(g.rows)×\(g.cols), expected \(N)×\(c.hiddenSize)")
                Elementwise.add(g, to: &dx)
            }
            InterventionPlan.applyTranspose(record.interventions.residualEdits(after: layer), to: &dx)
        }

        var gradients = LoRAAdapters(rank: adapters.rank, alpha: adapters.alpha, targets: adapters.targets,
                                     layers: Array(repeating: [:], count: c.layerCount))
        let baseLayout = AttentionLayout(queryRowOffsets: record.rowOffsets, queryCounts: record.lengths,
                                         keyRowOffsets: record.rowOffsets, keyCounts: record.lengths,
                                         heads: c.headCount, kvHeads: c.kvHeadCount, headDim: c.headDim, scale: c.attentionScale)
        // A pass that read keys from a KV cache saved [T, S] probabilities with S > T; this backward is for cache-free passes.
        precondition(baseLayout.probabilityOffsets == record.probabilityOffsets, "backward: the record comes from a pass with a KV cache")
        let postNorms = c.block.normPlacement == .prePost
        // Buffers reused across layers.
        var dGated = buffer(c.intermediateSize)
        var dGate = buffer(c.intermediateSize)
        var dUp = buffer(c.intermediateSize)
        var dXn = buffer(c.hiddenSize)
        var dProjected = buffer(c.hiddenSize)
        var dAttention = buffer(c.queryWidth)
        var dQ = buffer(c.queryWidth)
        var dK = buffer(c.kvWidth)
        var dV = buffer(c.kvWidth)
        var noWeightGradient: [Float] = []

        for l in stride(from: c.layerCount - 1, through: 0, by: -1) {
            inject(after: l)
            let w = weights.layers[l]
            let saved = record.layers[l]
            var layout = baseLayout
            layout.window = c.window(layer: l)
            layout.sinks = w.vector(.attentionSinks)
            /// dInput (+)= dOut · W (+ LoRA path); records ∂L/∂A and ∂L/∂B for an adapted projection.
            func projectBackward(_ p: Projection, input: Matrix, dOut: Matrix, dInput: inout Matrix, accumulate: Bool) {
                Matmul.product(dOut, w.weight(of: p), into: &dInput, accumulate: accumulate)
                guard let ad = adapters.adapter(layer: l, p), let u = saved.loraIntermediate[p] else { return }
                // out += s · u · Bᵀ with u = input · Aᵀ.
                gradients.layers[l][p] = ad.backward(dOut: dOut, input: input, u: u, dInput: &dInput)
            }
            /// The gradient at a sublayer's output before its post-norm (pre+post blocks), or dx itself.
            func throughPostNorm(_ role: BlockTensor, projected: Matrix, rstd: [Float]) -> Matrix {
                guard postNorms else { return dx }
                RMSNorm.backward(dy: dx, x: projected, weight: w[role].values, rstd: rstd, dx: &dProjected,
                                 accumulate: false, dWeight: &noWeightGradient)
                return dProjected
            }

            // MLP: x_out = middle + [PostNorm] down(act(gate(xn)) ⊙ up(xn)), xn = Norm(middle).
            let dDown = throughPostNorm(.mlpOutputNorm, projected: saved.mlpProjected, rstd: saved.mlpOutputRstd)
            if let routing = saved.routing {
                // A mixture of experts, frozen: through the chosen experts and the routing weights (MixtureOfExperts.swift).
                if let g = MixtureOfExperts.backward(dDelta: dDown, xn: saved.mlpNormed, routing: routing, weights: w, config: c,
                                                     routerAdapter: adapters.adapter(layer: l, .router),
                                                     routerLoRA: saved.loraIntermediate[.router], dXn: &dXn) {
                    gradients.layers[l][.router] = g
                }
            } else {
                projectBackward(.down, input: saved.gated, dOut: dDown, dInput: &dGated, accumulate: false)
                switch c.block.activation {
                case .swiglu: SwiGLU.backward(dh: dGated, gate: saved.gate, up: saved.up, dGate: &dGate, dUp: &dUp)
                case .gegluTanh: GeGLU.backward(dh: dGated, gate: saved.gate, up: saved.up, dGate: &dGate, dUp: &dUp)
                }
                projectBackward(.gate, input: saved.mlpNormed, dOut: dGate, dInput: &dXn, accumulate: false)
                projectBackward(.up, input: saved.mlpNormed, dOut: dUp, dInput: &dXn, accumulate: true)
            }
            RMSNorm.backward(dy: dXn, x: saved.middle, weight: w.mlpNorm, rstd: saved.mlpRstd,
                             dx: &dx, accumulate: true, dWeight: &noWeightGradient)

            // Attention: middle = input + [PostNorm] o(attn(rope([QKNorm] q(xn)), rope([QKNorm] k(xn)), v(xn))), xn = Norm(input).
            let dO = throughPostNorm(.attentionOutputNorm, projected: saved.attentionProjected, rstd: saved.attentionOutputRstd)
            projectBackward(.output, input: saved.attentionOutput, dOut: dO, dInput: &dAttention, accumulate: false)
            InterventionPlan.applyTranspose(record.interventions.headEdits(in: l), to: &dAttention)
            dQ.zero()
            dK.zero()
            dV.zero()
            CausalAttention.backward(dOutput: dAttention, query: saved.query, keys: saved.key, values: saved.value,
                                     probabilities: saved.probabilities, layout: layout, dQuery: &dQ, dKeys: &dK, dValues: &dV)
            ropes[l].backward(&dQ, heads: c.headCount, positions: record.positions)
            ropes[l].backward(&dK, heads: c.kvHeadCount, positions: record.positions)
            if c.block.qkNorm {
                let dQNormed = workspace?.copy(dQ) ?? dQ, dKNormed = workspace?.copy(dK) ?? dK
                RMSNorm.backwardHeads(dy: dQNormed, x: saved.queryRaw, weight: w[.queryNorm].values, rstd: saved.queryNormRstd, dx: &dQ)
                RMSNorm.backwardHeads(dy: dKNormed, x: saved.keyRaw, weight: w[.keyNorm].values, rstd: saved.keyNormRstd, dx: &dK)
                workspace?.recycle(dQNormed)
                workspace?.recycle(dKNormed)
            }
            // Biases are frozen and add a constant: their gradient passes through unchanged.
            projectBackward(.query, input: saved.attentionNormed, dOut: dQ, dInput: &dXn, accumulate: false)
            projectBackward(.key, input: saved.attentionNormed, dOut: dK, dInput: &dXn, accumulate: true)
            projectBackward(.value, input: saved.attentionNormed, dOut: dV, dInput: &dXn, accumulate: true)
            RMSNorm.backward(dy: dXn, x: saved.input, weight: w.attentionNorm, rstd: saved.attentionRstd,
                             dx: &dx, accumulate: true, dWeight: &noWeightGradient)
        }
        inject(after: -1)
        for m in [dGated, dGate, dUp, dXn, dProjected, dAttention, dQ, dK, dV] { workspace?.recycle(m) }
        return BackwardResult(adapterGradients: gradients, embeddingOutputGradient: dx)
    }
}
