// The LoRA-step figure of `lazarus bench`: one optimiser step (forward with saved activations, loss,
// backward to the adapters, AdamW) at batch 4 of chain-of-thought arithmetic texts, r16 on q/k/v/o —
// the unit of work that dominates the flagship experiment's training stages.
import Foundation
import Transformer
import Training
import Optimization

public enum LoRABenchmark {
    /// Four chain-of-thought texts cut to 16 tokens each: the batch tools/peer/bench_pytorch.py trains on,
    /// so the two step times are for the same [4, 16] work.
    static let texts = [(12, 7), (34, 19), (5, 88), (61, 3)].map { a, b in "\(a) + \(b) = add: \(a + b). \(a) * \(b) = multiply: \(a * b)." }
    static let tokensPerText = 16

    /// Median seconds of one step after a warm-up step.
    public static func stepSeconds(model: TransformerModel, tokenizer encode: (String) -> [Int], repeats: Int) throws -> Double {
        let settings = LoRASettings(rank: 16, alpha: 32, targets: [.query, .key, .value, .output])
        let layout = LoRAParameterLayout(config: model.config, settings: settings)
        var parameters = LoRAInitialisation.initialParameters(layout: layout, seed: 1)
        // B starts at zero; make it non-zero so the step does the work of a trained adapter.
        for i in parameters.indices where parameters[i] == 0 { parameters[i] = 1e-3 }
        var optimizer = AdamWState(parameterCount: parameters.count)
        let batch = texts.map { TrainingExample(tokens: Array(encode($0).prefix(tokensPerText))) }
        // As the trainer does: one workspace and one gradient vector for every step.
        let workspace = ActivationWorkspace()
        var gradients: [Float] = []
        return try Benchmark.median(repeats: repeats) {
            let adapters = layout.adapters(from: parameters)
            let result = try LoRAGradients.lossAndGradients(model: model, adapters: adapters, batch: batch, workspace: workspace)
            layout.flatten(result.gradients, into: &gradients)
            AdamW.step(parameters: &parameters, gradients: gradients, state: &optimizer,
                       learningRate: 2e-4, settings: AdamWSettings())
        }
    }
}
