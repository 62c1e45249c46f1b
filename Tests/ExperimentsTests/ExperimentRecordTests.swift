// What an experiment records is what ran: parameters are validated (naming the config key) before any stage or
// folder exists, the baseline's cache key holds nothing of training, a capped eval_samples is stated, and a
// resumed training stage reports every step its adapters took. Runs on the committed tiny model, in seconds.
import Experiments
import Foundation
import Testing
import Training
import Transformer

@Suite(.serialized) struct ExperimentRecordTests {
    static let tinyModel = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("TransformerTests/Fixtures/tiny_llama.gguf").path
    static let small = ["model=\(tinyModel)", "parameters.num_samples=24", "parameters.valid_samples=6", "parameters.eval_samples=12",
                        "parameters.probe_folds=2", "parameters.probe_samples_per_operation=12", "parameters.max_new_tokens=4", "parameters.batch_size=2"]

    static func description(of body: () throws -> Void) -> String {
        do { try body(); return "no error" } catch { return "\(error)" }
    }

    @Test func badParametersAreRefusedBeforeAnythingRunsOrIsWritten() throws {
        let root = try ScratchExperiments.make(["cot_vocab_alignment"])
        defer { try? FileManager.default.removeItem(at: root) }
        let config = ExperimentRunner.configURL("cot_vocab_alignment", root: root).path
        let cases = [
            ("parameters.max_steps=0", "\(config): parameters.max_steps: must be positive, got 0"),
            ("parameters.max_steps=2.5", "\(config): parameters.max_steps: has the wrong type: 2.5 is not a whole number"),
            ("parameters.lora.alpha=0", "\(config): parameters.lora.alpha: must be a positive number, got 0.0"),
            ("parameters.max_new_tokens=-1", "\(config): parameters.max_new_tokens: must be positive, got -1"),
            ("parameters.probe_folds=abc", "\(config): parameters.probe_folds: has the wrong type (Expected to decode Int but found a string instead.)"),
            ("parameters.probe_folds=1", "\(config): parameters.probe_folds: must be at least 2, got 1"),
            ("parameters.probe_l2_grid=[0.1, -1]", "\(config): parameters.probe_l2_grid: holds -1.0; every penalty must be 0 or more"),
            ("parameters.probe_l2_grid=[]", "\(config): parameters.probe_l2_grid: must list at least one penalty, e.g. [0.001, 0.01, 0.1, 1, 10]"),
            ("parameters.probe_samples_per_operation=5", "\(config): parameters.probe_samples_per_operation: must be at least 3 × probe_folds = 6, got 5"),
            ("parameters.lens=tuned", "\(config): parameters.lens: 'tuned': use 'logit' or 'tuned:DIR' (a folder written by 'lazarus lens train')"),
        ]
        for (override, expected) in cases {
            let message = Self.description { _ = try ExperimentRunner.run("cot_vocab_alignment", overrides: Self.small + [override], root: root) }
            #expect(message == expected)
        }
        // Only the config is there: no results/RUN, no data, no checkpoints.
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("cot_vocab_alignment").path) == ["config.yaml"])
    }

    @Test func baselineIsReusedWhenOnlyTrainingChangesAndACappedEvalSetIsStated() throws {
        let root = try ScratchExperiments.make(["cot_vocab_alignment"])
        defer { try? FileManager.default.removeItem(at: root) }
        let overrides = Self.small.filter { !$0.hasPrefix("parameters.eval_samples") } + ["parameters.eval_samples=100000"]
        let first = try ExperimentRunner.run("cot_vocab_alignment", overrides: overrides + ["parameters.max_steps=2"], root: root)
        let note = "eval_samples 100000 capped to 144 held-out problems (48 per operation: each holds out at most 40% of its problems, and multiply has only 121)"
        let log = try String(contentsOf: first.appendingPathComponent("log.txt"), encoding: .utf8)
        #expect(log.contains("data: \(note)"), "\(log)")
        let report = try String(contentsOf: first.appendingPathComponent("report.md"), encoding: .utf8)
        #expect(report.contains("144 held-out test problems, split from training by unordered operand pair (\(note))"), "\(report)")

        let second = try ExperimentRunner.run("cot_vocab_alignment", overrides: overrides + ["parameters.max_steps=3"], root: root)
        let again = try String(contentsOf: second.appendingPathComponent("log.txt"), encoding: .utf8)
        #expect(again.contains("stage baseline-evaluation: reusing the result of an earlier run"), "\(again)")
        #expect(again.contains("stage direct_sft-evaluation: running"), "\(again)")
        #expect(again.contains("stage cot_sft-evaluation: running"), "\(again)")
    }

    /// An interrupted stage is made by replacing a finished stage's checkpoint with a 2-step one of the same
    /// settings: the re-run resumes it to 4 steps, and results.json says 4, not the 2 the second run took.
    @Test func aResumedStageRecordsEveryStepItsAdaptersTook() throws {
        let root = try ScratchExperiments.make(["cot_vocab_alignment"])
        defer { try? FileManager.default.removeItem(at: root) }
        let overrides = Self.small + ["parameters.max_steps=4"]
        _ = try ExperimentRunner.run("cot_vocab_alignment", overrides: overrides, root: root)
        let experiment = root.appendingPathComponent("cot_vocab_alignment")
        let checkpoints = experiment.appendingPathComponent("checkpoints")
        let stage = try #require(try FileManager.default.contentsOfDirectory(atPath: checkpoints.path).first { $0.hasPrefix("direct_sft-") })
        let folder = checkpoints.appendingPathComponent(stage)
        try FileManager.default.removeItem(at: folder.appendingPathComponent("training_summary.json"))
        for cached in try FileManager.default.contentsOfDirectory(atPath: checkpoints.appendingPathComponent("stages").path)
        where cached.hasPrefix("direct_sft-evaluation") {
            try FileManager.default.removeItem(at: checkpoints.appendingPathComponent("stages").appendingPathComponent(cached))
        }
        let loaded = try ModelLoader.load(Self.tinyModel)
        let data = try TrainingData.load(folder: experiment.appendingPathComponent("data/direct"), tokenizer: loaded.tokenizer, maskPrompt: false)
        let d = CoTVocabAlignment.defaultParameters
        let trainer = LoRATrainer(model: loaded.model, settings: LoRASettings(rank: d.lora.rank, alpha: Float(d.lora.alpha)),
                                  options: TrainingOptions(steps: 2, batchSize: 2, learningRate: Float(d.learningRate), seed: UInt64(d.seed),
                                                           baseModel: loaded.source.path),
                                  outputFolder: folder)
        _ = try trainer.run(train: data.train, valid: data.valid, overwrite: true)

        let run = try ExperimentRunner.run("cot_vocab_alignment", overrides: overrides, root: root)
        let log = try String(contentsOf: run.appendingPathComponent("log.txt"), encoding: .utf8)
        #expect(log.contains("4 steps, batch 2 (resuming an interrupted run)"), "\(log)")
        let results = try ScratchExperiments.json(run.appendingPathComponent("results.json"))
        let training = try #require(((results["stages"] as? [String: Any])?["direct_sft"] as? [String: Any])?["training"] as? [String: Any])
        #expect(training["steps"] as? Int == 4)
        #expect((training["train_loss"] as? [Any])?.count == 4)
    }
}

@Suite struct ExperimentFolderLockTests {
    @Test func aSecondRunOfOneExperimentFolderIsRefusedAndTheFirstRunsOn() throws {
        let root = try ScratchExperiments.make(["cot_vocab_alignment"])
        defer { try? FileManager.default.removeItem(at: root) }
        let folder = root.appendingPathComponent("cot_vocab_alignment")
        // A run in progress holds the folder's lock (here this process takes it as that run would).
        var holder: AdapterFolderLock? = try AdapterFolderLock(folder: folder)
        let message = ExperimentRecordTests.description {
            _ = try ExperimentRunner.run("cot_vocab_alignment", overrides: ExperimentRecordTests.small + ["parameters.max_steps=1"], root: root)
        }
        #expect(message == "\(folder.path): another run (pid \(getpid())) of this experiment is using its data and stage cache; "
                + "wait for it to finish, or run a copy of the experiment folder")
        // Refused before anything was written: no data, no results.
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("data").path))
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("results").path))
        holder = nil
        _ = holder
    }
}
