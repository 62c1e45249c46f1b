// Seconds per LoRA step at the default model's size (SmolLM2-135M's shape, random weights), batch 4 × 16
// tokens, rank 16 on q/k/v/o. Slow (building the model takes seconds), so it runs only when
// LAZARUS_TIME_LORA_STEP is set; it prints its figures rather than asserting a machine-dependent bound.
import Foundation
import Kernels
import Transformer
import Testing
import Optimization
import Training

@Suite struct StepTimingTests {
    @Test(.enabled(if: ProcessInfo.processInfo.environment["LAZARUS_TIME_LORA_STEP"] != nil))
    func defaultSizeLoRAStep() throws {
        let config = ModelConfig(vocabularySize: 49152, hiddenSize: 576, intermediateSize: 1536, layerCount: 30, headCount: 9,
                                 kvHeadCount: 3, headDim: 64, rmsNormEps: 1e-5, ropeTheta: 100_000, tiedEmbeddings: true, contextLength: 8192)
        let model = TransformerModel.random(config: config, seed: 1)
        let settings = LoRASettings()
        let layout = LoRAParameterLayout(config: config, settings: settings)
        var parameters = LoRAInitialisation.initialParameters(layout: layout, seed: 42)
        var optimizer = AdamWState(parameterCount: layout.count)
        var rng = SeededRandom(seed: 5)
        let batch = (0..<4).map { _ in TrainingExample(tokens: (0..<16).map { _ in rng.below(config.vocabularySize) }) }
        var times: [Double] = []
        for _ in 0..<4 {
            let start = Date()
            let r = try LoRAGradients.lossAndGradients(model: model, adapters: layout.adapters(from: parameters), batch: batch)
            AdamW.step(parameters: &parameters, gradients: layout.flatten(r.gradients), state: &optimizer, learningRate: 2e-4, settings: AdamWSettings())
            times.append(Date().timeIntervalSince(start))
        }
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let peak = status.split(separator: "\n").first { $0.hasPrefix("VmHWM") } ?? "VmHWM unknown"
        print("LoRA step (B4×T16, r16 qkvo, \(layout.count) parameters): seconds per step \(times.map { String(format: "%.3f", $0) }), \(peak)")
        #expect(times.allSatisfy { $0.isFinite })
    }
}
