// Seconds per LoRA step at the default model's size (SmolLM2-135M's shape, random weights), batch 4 × 16
// tokens, rank 16 on q/k/v/o; and `lazarus bench`'s own LoRA figure called as a library (the default model,
// without anything the command line sets up). Slow, so they run only when LAZARUS_TIME_LORA_STEP is set;
// they print their figures rather than asserting a machine-dependent bound.
import Foundation
import Kernels
import Transformer
import Testing
import Optimization
import Training
import Benchmarks
import LazarusTestSupport

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
        // As the trainer and `lazarus bench` run it: one workspace and one gradient vector for all steps.
        let workspace = ActivationWorkspace()
        var gradients: [Float] = []
        for _ in 0..<8 {
            let start = Date()
            let r = try LoRAGradients.lossAndGradients(model: model, adapters: layout.adapters(from: parameters), batch: batch,
                                                       workspace: workspace)
            layout.flatten(r.gradients, into: &gradients)
            AdamW.step(parameters: &parameters, gradients: gradients, state: &optimizer, learningRate: 2e-4, settings: AdamWSettings())
            times.append(Date().timeIntervalSince(start))
        }
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let peak = status.split(separator: "\n").first { $0.hasPrefix("VmHWM") } ?? "VmHWM unknown"
        let median = times.dropFirst().sorted()[(times.count - 1) / 2]
        print("LoRA step (B4×T16, r16 qkvo, \(layout.count) parameters): seconds per step \(times.map { String(format: "%.3f", $0) }), median after the first \(String(format: "%.3f", median)), \(peak)")
        #expect(times.allSatisfy { $0.isFinite })
    }

    /// The benchmark's step (LoRABenchmark.stepSeconds, as `lazarus bench --only lora` runs it) from a test process:
    /// docs/performance.md compares the two medians.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["LAZARUS_TIME_LORA_STEP"] != nil))
    func benchmarkStepAsALibraryCall() throws {
        let loaded = try DefaultModel.get()
        let seconds = try LoRABenchmark.stepSeconds(model: loaded.model, tokenizer: { loaded.tokenizer.encode($0) }, repeats: 5)
        print("LoRA step of lazarus bench, called from the test target: median \(String(format: "%.4f", seconds)) s "
              + "(load average \(MachineLoad.oneMinute))")
        #expect(seconds.isFinite && seconds > 0)
    }
}
