// Greedy decoding with a KV cache, for a batch of prompts of any lengths at once: the prompts are
// prefilled together, then every step feeds each sequence its last token.
import Kernels

public struct GenerationOptions: Sendable {
    public var maxTokens: Int
    /// Token ids that end a sequence (EOS, and newline tokens when asked); the stop token is kept in the output.
    public var stopTokens: Set<Int>
    /// Edits applied in the prefill and in every decoding step (an edit at a prompt position acts once, in the
    /// prefill; one without a position acts on every token, generated ones too).
    public var interventions: [Intervention]

    public init(maxTokens: Int = 32, stopTokens: Set<Int> = [], interventions: [Intervention] = []) {
        self.maxTokens = maxTokens
        self.stopTokens = stopTokens
        self.interventions = interventions
    }
}

extension TransformerModel {
    /// Greedy continuations of each prompt: at most `maxTokens` new ids each, ending at a stop token.
    public func generateGreedy(prompts: [[Int]], adapters: LoRAAdapters? = nil, options: GenerationOptions) throws -> [[Int]] {
        guard !prompts.isEmpty else { return [] }
        guard options.maxTokens > 0 else { return prompts.map { _ in [] } }
        let longest = prompts.map(\.count).max() ?? 0
        for (i, p) in prompts.enumerated() {
            try config.checkContext(promptTokens: p.count, newTokens: options.maxTokens, what: prompts.count == 1 ? "the prompt" : "prompt \(i + 1)")
        }
        var cache: KVCache? = KVCache(config: config, sequences: prompts.count, capacity: longest + options.maxTokens)
        var outputs = Array(repeating: [Int](), count: prompts.count)
        var finished = Array(repeating: false, count: prompts.count)
        let pass = ForwardOptions(capture: .none, logits: .lastToken, interventions: options.interventions)
        var step = try forward(prompts, adapters: adapters, cache: &cache, options: pass)
        for n in 0..<options.maxTokens {
            var next = [[Int]]()
            for b in 0..<prompts.count {
                let id = TopK.argmax(step.logits, b)
                if !finished[b] {
                    outputs[b].append(id)
                    if options.stopTokens.contains(id) { finished[b] = true }
                }
                next.append([id])
            }
            if finished.allSatisfy({ $0 }) || n == options.maxTokens - 1 { break }
            // Finished sequences keep decoding (their tokens are dropped) so every cache slot advances together.
            step = try forward(next, adapters: adapters, cache: &cache, options: pass)
        }
        return outputs
    }
}
