// The training loop on a tiny model: it learns, it resumes to the identical result, it stops on NaN
// keeping good adapters, it logs metrics; and PEFT adapter files round-trip.
import Foundation
import Kernels
import Transformer
import Testing
import Training

@Suite struct TrainerTests {
    let model = TransformerModel.random(config: TransformerModel.tinyTestConfig, seed: 21)
    let examples = [
        TrainingExample(tokens: [1, 5, 9, 13, 17, 21, 25, 2]),
        TrainingExample(tokens: [1, 40, 30, 20, 10, 2]),
        TrainingExample(tokens: [1, 7, 7, 8, 8, 9, 9, 2], lossMask: [false, false, false, false, true, true, true, true]),
        TrainingExample(tokens: [1, 33, 44, 11, 2]),
        TrainingExample(tokens: [1, 12, 24, 36, 2]),
    ]

    func folder() -> URL { FileManager.default.temporaryDirectory.appendingPathComponent("lazarus-trainer-\(UUID().uuidString)") }

    @Test func lossDecreasesWhenOverfittingAFewSequences() throws {
        let settings = LoRASettings(rank: 4, alpha: 8, targets: Projection.linearModules)
        let options = TrainingOptions(steps: 80, batchSize: 5, learningRate: 1e-2, seed: 3, evalEvery: 80)
        let trainer = LoRATrainer(model: model, settings: settings, options: options, outputFolder: nil)
        let before = try trainer.validationLoss(examples, adapters: LoRAInitialisation.adapters(config: model.config, settings: settings, seed: 3))
        let outcome = try trainer.run(train: examples, valid: examples)
        #expect(outcome.stepsRun == 80 && outcome.finalStep == 80 && !outcome.cancelled)
        #expect(outcome.trainLosses.count == 80)
        #expect(abs(outcome.trainLosses[0].loss - before) < 1e-5)  // the first batch is the whole set
        #expect(outcome.validLosses.count == 1)
        #expect(outcome.validLosses[0].loss < 0.5 * before, "from \(before) to \(outcome.validLosses[0].loss)")
    }

    @Test func resumeAfterCancellationEqualsUninterruptedRun() throws {
        let settings = LoRASettings(rank: 2, alpha: 4, targets: [.query, .value, .down])
        let options = TrainingOptions(steps: 9, batchSize: 2, learningRate: 5e-3, warmupSteps: 2, cosineDecay: true, weightDecay: 0.01,
                                      gradientClipNorm: 0.5, seed: 8, evalEvery: 4, saveEvery: 100, reportEvery: 2)
        let straight = try LoRATrainer(model: model, settings: settings, options: options, outputFolder: folder())
            .run(train: examples, valid: Array(examples.prefix(2)))

        let interruptedFolder = folder()
        let first = LoRATrainer(model: model, settings: settings, options: options, outputFolder: interruptedFolder)
        let partial = try first.run(train: examples, valid: Array(examples.prefix(2))) { p in
            if p.event == .step && p.step == 5 { first.cancellation.cancel() }
        }
        #expect(partial.cancelled && partial.finalStep == 5)
        let resumed = try LoRATrainer(model: model, settings: settings, options: options, outputFolder: interruptedFolder)
            .run(train: examples, valid: Array(examples.prefix(2)), resume: true)
        #expect(resumed.stepsRun == 4 && resumed.finalStep == 9)
        let layout = LoRAParameterLayout(config: model.config, settings: settings)
        #expect(layout.flatten(resumed.adapters) == layout.flatten(straight.adapters))
        #expect(resumed.trainLosses == straight.trainLosses)
        #expect(resumed.validLosses == straight.validLosses)
        // What is on disk is the final state too.
        let loaded = try PEFTAdapterFiles.load(from: interruptedFolder, config: model.config)
        #expect(layout.flatten(loaded) == layout.flatten(straight.adapters))
        let metrics = try String(contentsOf: interruptedFolder.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
            .split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        #expect(metrics.map { $0["step"] as! Int } == [2, 4, 6, 8, 9])
        #expect(metrics.allSatisfy { $0["train_loss"] != nil && $0["tokens_per_s"] != nil })
        #expect(metrics.filter { $0["val_loss"] != nil }.count == 3)
    }

    @Test func nonFiniteLossStopsAndKeepsTheLastGoodAdapters() throws {
        var broken = model
        broken.weights.layers[1][.up].values[0] = .nan
        let out = folder()
        let settings = LoRASettings(rank: 2, alpha: 4)
        let trainer = LoRATrainer(model: broken, settings: settings, options: TrainingOptions(steps: 3, batchSize: 2, seed: 1), outputFolder: out)
        #expect {
            _ = try trainer.run(train: examples, valid: [])
        } throws: { error in
            guard case let .nonFiniteLoss(step, loss, kept)? = error as? TrainingError else { return false }
            return step == 1 && loss.isNaN && kept == out.path && "\(error)".contains("training stopped at step 1")
        }
        let kept = try PEFTAdapterFiles.load(from: out, config: model.config)
        let initial = LoRAInitialisation.adapters(config: model.config, settings: settings, seed: 1)
        let layout = LoRAParameterLayout(config: model.config, settings: settings)
        #expect(layout.flatten(kept) == layout.flatten(initial))
    }

    @Test func resumeRefusesOtherSettings() throws {
        let out = folder()
        _ = try LoRATrainer(model: model, settings: LoRASettings(rank: 2, alpha: 4), options: TrainingOptions(steps: 1, batchSize: 2), outputFolder: out)
            .run(train: examples, valid: [])
        #expect(throws: TrainingError.self) {
            _ = try LoRATrainer(model: model, settings: LoRASettings(rank: 4, alpha: 4), options: TrainingOptions(steps: 2, batchSize: 2), outputFolder: out)
                .run(train: examples, valid: [], resume: true)
        }
    }

    @Test func peftFilesRoundTrip() throws {
        let settings = LoRASettings(rank: 3, alpha: 5, targets: [.key, .output, .gate, .down])
        let layout = LoRAParameterLayout(config: model.config, settings: settings)
        var rng = SeededRandom(seed: 2)
        let adapters = layout.adapters(from: (0..<layout.count).map { _ in rng.uniform(-1, 1) })
        let out = folder()
        try PEFTAdapterFiles.save(adapters, to: out, baseModel: "HuggingFaceTB/SmolLM2-135M-Instruct", architecture: model.config.architecture)
        let loaded = try PEFTAdapterFiles.load(from: out, config: model.config)
        #expect(loaded.rank == 3 && loaded.alpha == 5 && loaded.targets == settings.targets)
        #expect(layout.flatten(loaded) == layout.flatten(adapters))
        #expect(loaded.layers[2][.down]!.scale == Float(5) / 3)

        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("adapter_config.json"))) as! [String: Any]
        #expect(config["peft_type"] as? String == "LORA" && config["task_type"] as? String == "CAUSAL_LM")
        #expect(config["r"] as? Int == 3 && config["lora_alpha"] as? Double == 5 && config["lora_dropout"] as? Double == 0)
        #expect(config["target_modules"] as? [String] == ["k_proj", "o_proj", "gate_proj", "down_proj"])
        #expect(config["bias"] as? String == "none" && config["base_model_name_or_path"] as? String == "HuggingFaceTB/SmolLM2-135M-Instruct")
        #expect(config["fan_in_fan_out"] as? Bool == false && config["inference_mode"] as? Bool == true && config["use_rslora"] as? Bool == false)

        // The safetensors header names PEFT's keys with [r, in] and [out, r] shapes.
        let bytes = try Data(contentsOf: out.appendingPathComponent("adapter_model.safetensors"))
        let headerLength = Int(bytes.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        let header = try JSONSerialization.jsonObject(with: bytes.subdata(in: 8..<(8 + headerLength))) as! [String: Any]
        let a = header["base_model.model.model.layers.0.self_attn.k_proj.lora_A.weight"] as! [String: Any]
        let b = header["base_model.model.model.layers.0.mlp.down_proj.lora_B.weight"] as! [String: Any]
        #expect(a["shape"] as! [Int] == [3, 32] && a["dtype"] as! String == "F32")
        #expect(b["shape"] as! [Int] == [32, 3])
        #expect(header.count == 3 * 4 * 2 + 1)  // every layer × target × {A, B}, plus __metadata__
    }

    @Test func loadsAnAdapterWrittenByPEFT() throws {
        // tools/peft_reference.py wrote this r4 q/v adapter for SmolLM2-135M with PEFT itself.
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../IntrospectionTests/Fixtures/peft_adapter_r4").standardized
        let smolLM2 = ModelConfig(vocabularySize: 49152, hiddenSize: 576, intermediateSize: 1536, layerCount: 30, headCount: 9, kvHeadCount: 3,
                                  headDim: 64, rmsNormEps: 1e-5, ropeTheta: 100_000, tiedEmbeddings: true, contextLength: 8192)
        let adapters = try PEFTAdapterFiles.load(from: fixture, config: smolLM2)
        #expect(adapters.rank == 4 && adapters.alpha == 8 && Set(adapters.targets) == [.query, .value])
        #expect(adapters.layers.allSatisfy { $0.count == 2 })
        #expect(adapters.layers[29][.value]!.b.values.contains { $0 != 0 })
        #expect(adapters.layers[0][.query]!.scale == 2)
    }

    @Test func adapterFileRejectionsNameTheFieldAndDoNotCrash() throws {
        let settings = LoRASettings(rank: 2, alpha: 4)
        let out = folder()
        try PEFTAdapterFiles.save(LoRAInitialisation.adapters(config: model.config, settings: settings, seed: 1), to: out, baseModel: "x", architecture: model.config.architecture)
        let configURL = out.appendingPathComponent("adapter_config.json")
        let original = try Data(contentsOf: configURL)
        var json = try JSONSerialization.jsonObject(with: original) as! [String: Any]
        json["use_rslora"] = true
        try JSONSerialization.data(withJSONObject: json).write(to: configURL)
        #expect(throws: TrainingError.self) { _ = try PEFTAdapterFiles.load(from: out, config: model.config) }
        try original.write(to: configURL)
        // Every truncation of the weights file is refused with an error, never a crash.
        let weightsURL = out.appendingPathComponent("adapter_model.safetensors")
        let weights = try Data(contentsOf: weightsURL)
        for cut in stride(from: 0, to: weights.count, by: max(1, weights.count / 40)) {
            try weights.prefix(cut).write(to: weightsURL)
            #expect(throws: TrainingError.self) { _ = try PEFTAdapterFiles.load(from: out, config: model.config) }
        }
        // A model of another shape is refused.
        try weights.write(to: weightsURL)
        var other = model.config
        other.hiddenSize = 40
        #expect(throws: TrainingError.self) { _ = try PEFTAdapterFiles.load(from: out, config: other) }
    }
}
