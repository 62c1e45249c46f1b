// Each mixture-of-experts layer's routing at the last token of every prompt, from the forward pass's routing
// capture (ForwardOptions.routing), batched as HiddenStateCollector batches: the router logits and the chosen
// experts, in prompt order. Not a measurement: the flagship's routing probe reads these.
import Kernels
import Transformer

public struct PromptRouting: Sendable {
    /// The MoE layers, in order.
    public var layers: [Int]
    /// logits[i]: [P, E], prompt p's router logits at layer layers[i].
    public var logits: [Matrix]
    /// experts[i][p]: prompt p's chosen experts at layer layers[i], best first (k of them).
    public var experts: [[[Int]]]
}

public enum RoutingCollector {
    public static func collect(model: TransformerModel, prompts: [[Int]], adapters: LoRAAdapters? = nil,
                               batchSize: Int = 256, tokenBudget: Int = 1024) throws -> PromptRouting {
        guard !prompts.isEmpty else { throw IntrospectionError.notEnoughData("no prompts") }
        let c = model.config
        guard let shape = c.mixture, c.block.moe != nil else {
            throw IntrospectionError.badInput("the model has no mixture-of-experts layers: it has no routers to read")
        }
        for (i, p) in prompts.enumerated() { try c.checkContext(promptTokens: p.count, what: "prompt \(i + 1)") }
        var layers: [Int] = [], logits: [Matrix] = [], experts: [[[Int]]] = []
        for batch in HiddenStateCollector.batches(prompts.map(\.count), batchSize: batchSize, tokenBudget: tokenBudget) {
            let result = try model.forward(Array(prompts[batch]), adapters: adapters,
                                           options: ForwardOptions(logits: .none, routing: .lastToken))
            if layers.isEmpty {
                layers = result.routing.map(\.layer)
                logits = layers.map { _ in Matrix(rows: prompts.count, cols: shape.experts) }
                experts = layers.map { _ in [] }
            }
            for (i, record) in result.routing.enumerated() {
                Elementwise.copyRows(record.logits, from: 0, count: batch.count, into: &logits[i].values, at: batch.lowerBound)
                experts[i] += (0..<batch.count).map { Array(record.experts(row: $0)) }
            }
        }
        return PromptRouting(layers: layers, logits: logits, experts: experts)
    }
}
