// Hidden states of many prompts at one position each (default: the last prompt token), computed in
// batches once per prompt set and shared by every layer's lens and probe: never a forward pass per layer.
import Kernels
import Transformer

public struct PromptHiddenStates: Sendable {
    /// -1 for `embed`, k for `Lk`: the layer of each entry of `states`.
    public var layerIndices: [Int]
    /// states[i]: [P, D], row p is prompt p's residual stream at layer layerIndices[i].
    public var states: [Matrix]
    /// The model's own next-token logits at the same positions, [P, V].
    public var finalLogits: Matrix

    public init(layerIndices: [Int], states: [Matrix], finalLogits: Matrix) {
        self.layerIndices = layerIndices
        self.states = states
        self.finalLogits = finalLogits
    }

    public func state(layer index: Int) -> Matrix? {
        layerIndices.firstIndex(of: index).map { states[$0] }
    }
}

public enum HiddenStateCollector {
    /// Runs the prompts through the model in batches of at most `batchSize` prompts and `tokenBudget` tokens
    /// (a prompt longer than the budget goes alone), keeping the last token of each. Batches are packed rows,
    /// so a batch of ~1000 short-prompt rows costs no padding, and every sgemm of the forward pass then has
    /// enough rows to run near peak (at 32 prompts of ~7 tokens, packing the weights costs as much as the product).
    public static func collect(model: TransformerModel, prompts: [[Int]], adapters: LoRAAdapters? = nil,
                               batchSize: Int = 256, tokenBudget: Int = 1024) throws -> PromptHiddenStates {
        guard !prompts.isEmpty else { throw IntrospectionError.notEnoughData("no prompts") }
        let c = model.config
        for (i, p) in prompts.enumerated() { try c.checkContext(promptTokens: p.count, what: "prompt \(i + 1)") }
        let layerCount = c.layerCount + 1
        var states = (0..<layerCount).map { _ in Matrix(rows: prompts.count, cols: c.hiddenSize) }
        var logits = Matrix(rows: prompts.count, cols: c.vocabularySize)
        // One set of buffers for every batch: a 1024-row batch's are ~30 MB, which glibc would otherwise give
        // back to the system after each batch and fault in again for the next.
        let workspace = ActivationWorkspace()
        for batch in batches(prompts.map(\.count), batchSize: batchSize, tokenBudget: tokenBudget) {
            workspace.beginStep()
            let result = try model.forward(Array(prompts[batch]), adapters: adapters,
                                           options: ForwardOptions(capture: .lastToken, logits: .lastToken, workspace: workspace))
            for l in 0..<layerCount {
                Elementwise.copyRows(result.hidden[l], from: 0, count: batch.count, into: &states[l].values, at: batch.lowerBound)
            }
            Elementwise.copyRows(result.logits, from: 0, count: batch.count, into: &logits.values, at: batch.lowerBound)
        }
        return PromptHiddenStates(layerIndices: Array(-1..<c.layerCount), states: states, finalLogits: logits)
    }

    /// Consecutive prompt ranges of at most `batchSize` prompts and `tokenBudget` tokens each; a prompt longer
    /// than the budget is a batch alone.
    public static func batches(_ lengths: [Int], batchSize: Int = 256, tokenBudget: Int = 1024) -> [Range<Int>] {
        var out: [Range<Int>] = []
        var start = 0
        while start < lengths.count {
            var end = start + 1, tokens = lengths[start]
            while end < lengths.count && end - start < max(1, batchSize) && tokens + lengths[end] <= tokenBudget {
                tokens += lengths[end]
                end += 1
            }
            out.append(start..<end)
            start = end
        }
        return out
    }
}
