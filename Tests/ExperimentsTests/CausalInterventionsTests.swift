// causal_interventions end to end on the tiny test model (its adapters cached in the flagship's folder, as the
// full run finds them): the positive control holds (patching the last layer at '=' gives the donor's own
// next token every time), the curves have a point per layer and per α, the unedited rates agree between the
// sections, a second run reuses the flagship's adapters, and a bad stage name is refused with the valid ones.
import Experiments
import Foundation
import Testing

@Suite struct CausalInterventionsTests {
    static let tiny = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("TransformerTests/Fixtures/tiny_llama.gguf").path

    static func scratch(_ extra: String = "") throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("lazarus-causal-\(UUID().uuidString)")
        let folder = root.appendingPathComponent("causal_interventions")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let text = """
            name: causal_interventions
            model: \(tiny)
            parameters:
              num_samples: 60
              max_steps: 2
              eval_samples: 30
              valid_samples: 4
              lora:
                rank: 2
              pairs: 4
              patch_layers: embed,L0
              steering_layers_pct: [0.5]
              steering_alphas: [0, 1, 4]
              max_new_tokens: 3
            \(extra)
            """
        try Data(text.utf8).write(to: folder.appendingPathComponent("config.yaml"))
        return root
    }

    @Test func runsWithItsPositiveControlAndReusesTheFlagshipsAdapters() throws {
        let root = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: root) }
        let run = try ExperimentRunner.run("causal_interventions", root: root)
        let results = try JSONDecoder().decode(CausalInterventionsResults.self, from: Data(contentsOf: run.appendingPathComponent("results.json")))
        let stage = try #require(results.stages.first)
        #expect(stage.stage == "cot_sft" && stage.pairs == 4)
        #expect(stage.positiveControlPassed && stage.positiveControl.n == 8, "control \(stage.positiveControl)")
        #expect(stage.patching.count == 4)
        for curve in stage.patching {
            // embed, L0 and the last layer (always patched: the control).
            #expect(curve.layers == ["embed", "L0", "L\(curve.layerIndices.last!)"] && curve.wordFollowsDonor.count == 3)
            #expect(curve.wordFollowsDonor.allSatisfy { $0.n == 4 })
        }
        #expect(stage.steering.count == 2 && stage.steering.allSatisfy { $0.alphas == [0, 1, 4] && $0.wordSwitched.count == 3 })
        let erasure = try #require(stage.erasure.first)
        #expect(erasure.wordCorrectBefore == stage.wordCorrect && erasure.answerCorrectBefore == stage.answerCorrect)
        let checkpoints = root.appendingPathComponent("cot_vocab_alignment/checkpoints")
        #expect(try FileManager.default.contentsOfDirectory(atPath: checkpoints.path).contains { $0.hasPrefix("cot_sft-") },
                "the adapters are cached where the flagship looks for them")
        let report = try String(contentsOf: run.appendingPathComponent("report.md"), encoding: .utf8)
        #expect(report.contains("Positive control: patching the last layer"))
        #expect(FileManager.default.fileExists(atPath: run.appendingPathComponent("cot_sft_patching.svg").path))

        let again = try ExperimentRunner.run("causal_interventions", root: root)
        let log = try String(contentsOf: again.appendingPathComponent("log.txt"), encoding: .utf8)
        #expect(log.contains("cot_sft: reusing trained adapters"))
    }

    @Test func anUnknownStageIsRefusedWithTheValidOnes() throws {
        let root = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: root) }
        #expect {
            try ExperimentRunner.run("causal_interventions", overrides: ["parameters.stages=[cot]"], root: root)
        } throws: { error in
            "\(error)".contains("baseline, direct_sft, cot_sft")
        }
    }
}
