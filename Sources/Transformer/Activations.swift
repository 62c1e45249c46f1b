// What one forward pass saves for the backward pass (habit: one record of saved activations feeds
// the backward, the logit lens and the probes). Rows are packed: sequence b owns rows
// rowOffsets[b] ..< rowOffsets[b] + lengths[b]; there is no padding to mask. Entries a block does not
// have (QK-norm, post-norms) are empty.
import Kernels

public struct LayerActivations: Sendable {
    public var input: Matrix           // [N, D] residual entering the block
    public var attentionRstd: [Float]  // [N]
    public var attentionNormed: Matrix // [N, D]
    /// q and k before QK-norm: [N, H·Dh], [N, Hkv·Dh]; their per-head rstd [N·H], [N·Hkv].
    public var queryRaw: Matrix
    public var keyRaw: Matrix
    public var queryNormRstd: [Float]
    public var keyNormRstd: [Float]
    public var query: Matrix           // [N, H·Dh] after RoPE
    public var key: Matrix             // [N, Hkv·Dh] after RoPE
    public var value: Matrix           // [N, Hkv·Dh]
    /// Attention probabilities, per sequence b and head h: [T_b, T_b] at probabilityOffsets[b] + h·T_b².
    public var probabilities: [Float]
    public var attentionOutput: Matrix // [N, H·Dh] before o_proj (after head interventions)
    /// o_proj's output before the post-attention norm, and that norm's rstd (pre+post blocks only).
    public var attentionProjected: Matrix
    public var attentionOutputRstd: [Float]
    public var middle: Matrix          // [N, D] residual after attention
    public var mlpRstd: [Float]        // [N]
    public var mlpNormed: Matrix       // [N, D]
    public var gate: Matrix            // [N, F]
    public var up: Matrix              // [N, F]
    public var gated: Matrix           // [N, F] act(gate) ⊙ up
    /// down's output before the post-MLP norm, and that norm's rstd (pre+post blocks only).
    public var mlpProjected: Matrix
    public var mlpOutputRstd: [Float]
    /// x·Aᵀ per adapted projection: [N, r].
    public var loraIntermediate: [Projection: Matrix]
    /// A mixture-of-experts block's routing at every row (its backward recomputes the experts from mlpNormed).
    public var routing: RoutingRecord? = nil
}

public struct ActivationRecord: Sendable {
    public var lengths: [Int]
    public var rowOffsets: [Int]
    public var probabilityOffsets: [Int]
    public var positions: [Int]          // [N] absolute position of each row
    public var layers: [LayerActivations]
    public var finalInput: Matrix        // [N, D] output of the last block
    public var finalRstd: [Float]        // [N]
    public var finalNormed: Matrix       // [N, D]
    /// The pass's interventions, which the backward applies transposed.
    var interventions: InterventionPlan
    /// The workspace the buffers came from (ForwardOptions.workspace): the logits and the backward take theirs
    /// from it too, and `ActivationWorkspace.recycle` gives the record back to it.
    public var workspace: ActivationWorkspace? = nil
}
