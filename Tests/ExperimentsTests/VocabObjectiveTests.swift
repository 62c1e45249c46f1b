// vocab_objective end to end on the tiny test model: one stage per seed and λ with the λ = 0 adapters cached in
// the flagship's folder (where its cot_sft finds them), every layer read, the λ > 0 stage trained with the lens
// term (its loss recorded), a second run reusing every stage, and the config's mistakes refused by key.
import Datasets
import Experiments
import Foundation
import Testing
import Training
import Transformer

@Suite struct VocabObjectiveTests {
    static let tiny = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("TransformerTests/Fixtures/tiny_llama.gguf").path

    static func scratch(model: String = tiny, _ extra: String = "") throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("lazarus-vocab-\(UUID().uuidString)")
        let folder = root.appendingPathComponent("vocab_objective")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let text = """
            name: vocab_objective
            model: \(model)
            parameters:
              num_samples: 60
              max_steps: 3
              eval_samples: 30
              valid_samples: 4
              seeds: [42, 43]
              lambdas: [0, 1]
              probe_epochs: 5
              max_new_tokens: 3
              lora:
                rank: 2
            \(extra)
            """
        try Data(text.utf8).write(to: folder.appendingPathComponent("config.yaml"))
        return root
    }

    @Test func runsEveryStageAndReusesThem() throws {
        let root = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: root) }
        let run = try ExperimentRunner.run("vocab_objective", root: root)
        let results = try JSONDecoder().decode(VocabObjectiveResults.self, from: Data(contentsOf: run.appendingPathComponent("results.json")))
        #expect(results.schema == "lazarus.vocab_objective.v1")
        #expect(results.stages.map { "\($0.seed)/\($0.lambda)" } == ["42/0.0", "42/1.0", "43/0.0", "43/1.0"])
        #expect(results.lensLayerIndex == results.layerCount / 2)
        for s in results.stages {
            #expect(s.layers.count == results.layerCount + 1 && s.layers.first?.name == "embed")
            #expect(s.agreement.layer == results.lensLayer && s.agreement.agreement.n > 0)
            #expect((s.training?.lensLoss != nil) == (s.lambda != 0), "only λ > 0 trains with the lens term")
            #expect(s.training?.lensLoss?.count ?? 3 == 3)
        }
        #expect(results.acrossSeeds.count == 2 && results.acrossSeeds[1].accuracyCost?.n == 2)
        #expect(results.pairedTests.count == 2)
        let flagship = root.appendingPathComponent("cot_vocab_alignment/checkpoints")
        #expect(try FileManager.default.contentsOfDirectory(atPath: flagship.path).filter { $0.hasPrefix("cot_sft-") }.count == 2,
                "λ = 0 is cached where the flagship's cot_sft looks for it, one folder per seed")
        let report = try String(contentsOf: run.appendingPathComponent("report.md"), encoding: .utf8)
        #expect(report.contains("## Conclusions") && report.contains("λ=1 at \(results.lensLayer)"))
        for plot in ["word_prob_by_depth.svg", "lens_accuracy_by_depth.svg", "direct_word_prob_by_depth.svg", "training_loss.svg"] {
            #expect(FileManager.default.fileExists(atPath: run.appendingPathComponent(plot).path), "\(plot)")
        }
        let again = try ExperimentRunner.run("vocab_objective", root: root)
        let log = try String(contentsOf: again.appendingPathComponent("log.txt"), encoding: .utf8)
        #expect(log.contains("reusing trained adapters") && !log.contains(": running"), "\(log)")
        let second = try JSONDecoder().decode(VocabObjectiveResults.self, from: Data(contentsOf: again.appendingPathComponent("results.json")))
        #expect(second.summary.conclusions == results.summary.conclusions)
    }

    /// On the default model, 30 steps with λ = 1 against 30 without. Measured (seed 42, 30 held-out prompts, k = L15):
    /// the word's mean lens probability at L15 2.2e-12 at λ = 0 and 1.6e-3 at λ = 1, lens task accuracy 33% and 63%.
    /// Asserted with margins: above 1e-5 (160× below the measurement) and 10⁴ times λ = 0's, accuracy 15 points up.
    @Test func aShortRunWithTheLensTermRaisesTheWordAtK() throws {
        let root = try ScratchExperiments.make(["vocab_objective"])
        defer { try? FileManager.default.removeItem(at: root) }
        let run = try ExperimentRunner.run("vocab_objective", overrides: [
            "parameters.num_samples=240", "parameters.max_steps=30", "parameters.seeds=[42]", "parameters.lambdas=[0, 1]",
            "parameters.eval_samples=30", "parameters.valid_samples=8", "parameters.probe_epochs=10", "parameters.max_new_tokens=6"], root: root)
        let results = try JSONDecoder().decode(VocabObjectiveResults.self, from: Data(contentsOf: run.appendingPathComponent("results.json")))
        #expect(results.lensLayer == "L15")
        let k = results.lensLayerIndex
        let zero = try #require(results.stages.first { $0.lambda == 0 }?.layers.first { $0.index == k })
        let one = try #require(results.stages.first { $0.lambda == 1 }?.layers.first { $0.index == k })
        print("vocab_objective short run at L\(k): word prob λ=0 \(zero.logit.meanWordProb), λ=1 \(one.logit.meanWordProb); lens accuracy \(zero.logit.accuracy.value) → \(one.logit.accuracy.value)")
        #expect(one.logit.meanWordProb > 1e-5)
        #expect(one.logit.meanWordProb > 1e4 * zero.logit.meanWordProb)
        #expect(one.logit.accuracy.value > zero.logit.accuracy.value + 0.15)
        #expect(one.logit.accuracy.n == 30 && zero.logit.accuracy.n == 30)
    }

    /// The lens term reads the '=' of the training text: the prompt "a op b =" tokenises to a prefix of the CoT text,
    /// and the position before the operation word's token is the prompt's last token (default model's tokenizer).
    @Test func theLensTermReadsTheEqualsSign() throws {
        let loaded = try ModelLoader.load("default")
        let targets = try LensPositions.targetTokens(tasks: ArithmeticOperation.allCases.map(\.rawValue), tokenizer: loaded.tokenizer, style: .aligned)
        let words = Set(ArithmeticOperation.allCases.map { targets.forms[$0.rawValue]!["spaced"]!.id })
        for p in [ArithmeticProblem(operation: .multiply, a: 7, b: 8), ArithmeticProblem(operation: .add, a: 23, b: 45),
                  ArithmeticProblem(operation: .subtract, a: 89, b: 34)] {
            let text = loaded.tokenizer.encode(p.chainOfThoughtText), prompt = loaded.tokenizer.encode(p.prompt(style: .aligned))
            let target = try #require(VocabObjective.lensTarget(TrainingExample(tokens: text), wordTokens: words))
            #expect(Array(text.prefix(prompt.count)) == prompt && target.position == prompt.count - 1, "\(p.chainOfThoughtText)")
            #expect(target.token == targets.forms[p.operation.rawValue]!["spaced"]!.id)
        }
    }

    @Test(arguments: [("parameters.lambdas=[0.1, 1]", "parameters.lambdas"), ("parameters.lens_layer=embed", "parameters.lens_layer"),
                      ("parameters.lens_layer=99", "parameters.lens_layer"), ("parameters.learning_rate=0", "parameters.learning_rate"),
                      ("parameters.lambdas=[0, -1]", "parameters.lambdas")])
    func mistakesNameTheirKey(override: String, key: String) throws {
        let root = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: root) }
        #expect { try ExperimentRunner.run("vocab_objective", overrides: [override], root: root) } throws: { "\($0)".contains(key) }
    }
}
