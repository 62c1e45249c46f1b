// The LoRA-step figure of `lazarus bench`: one optimiser step (forward with saved activations, loss,
// backward to the adapters, AdamW) at batch 4 of chain-of-thought arithmetic texts, r16 on q/k/v/o —
// the unit of work that dominates the flagship experiment's training stages.
import Foundation
import Llama
import Training

public enum LoRABenchmark {
    /// Four training texts as cot_vocab_alignment writes them (about 16 tokens each).
    static let texts = ["7 * 8 = multiply: 56", "23 + 45 = add: 68", "89 - 34 = subtract: 55", "12 * 5 = multiply: 60"]

    /// Median seconds of one step after a warm-up step.
    public static func stepSeconds(model: LlamaModel, tokenizer encode: (String) -> [Int], eosTokenId: Int? = nil, repeats: Int) throws -> Double {
        let settings = LoRASettings(rank: 16, alpha: 32, targets: [.query, .key, .value, .output])
        let layout = LoRAParameterLayout(config: model.config, settings: settings)
        var parameters = LoRAInitialisation.initialParameters(layout: layout, seed: 1)
        // B starts at zero; make it non-zero so the step does the work of a trained adapter.
        for i in parameters.indices where parameters[i] == 0 { parameters[i] = 1e-3 }
        var optimizer = AdamWState(parameterCount: parameters.count)
        let batch = texts.map { TrainingExample(tokens: encode($0) + (eosTokenId.map { [$0] } ?? [])) }
        return try Benchmark.median(repeats: repeats) {
            let adapters = layout.adapters(from: parameters)
            let result = try LoRAGradients.lossAndGradients(model: model, adapters: adapters, batch: batch)
            AdamW.step(parameters: &parameters, gradients: layout.flatten(result.gradients), state: &optimizer,
                       learningRate: 2e-4, settings: AdamWSettings())
        }
    }
}
