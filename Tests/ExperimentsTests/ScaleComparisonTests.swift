// scale_comparison end to end on two tiny models of different families and depths (Llama, 2 blocks; Gemma 3,
// 7 blocks): each runs the flagship's per-seed runner in the flagship's folder (its adapters land where the
// flagship looks), the curves run from depth 0 (embed) to 1 (the last block) whatever the depth, each model's own
// flagship report is written beside the comparison, a second run reuses every stage, and mistakes name their key.
import Experiments
import Foundation
import Testing

@Suite struct ScaleComparisonTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("TransformerTests/Fixtures")
    static let models = [fixtures.appendingPathComponent("tiny_llama.gguf").path, fixtures.appendingPathComponent("families/tiny_gemma3.gguf").path]

    static func scratch() throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("lazarus-scale-\(UUID().uuidString)")
        let folder = root.appendingPathComponent("scale_comparison")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let text = """
            name: scale_comparison
            parameters:
              models: [\(models.joined(separator: ", "))]
              num_samples: 60
              max_steps: 2
              eval_samples: 6
              valid_samples: 4
              probe_folds: 2
              probe_samples_per_operation: 6
              lora:
                rank: 2
            """
        try Data(text.utf8).write(to: folder.appendingPathComponent("config.yaml"))
        return root
    }

    @Test func overlaysTheFlagshipsMeasurementsByNormalisedDepth() throws {
        let root = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: root) }
        let run = try ExperimentRunner.run("scale_comparison", root: root)
        let results = try JSONDecoder().decode(ScaleComparisonResults.self, from: Data(contentsOf: run.appendingPathComponent("results.json")))
        #expect(results.schema == "lazarus.scale_comparison.v1")
        #expect(results.models.map(\.name) == ["tiny_llama.gguf", "tiny_gemma3.gguf"] && results.models.map(\.layers) == [2, 7])
        for m in results.models {
            #expect(m.seeds == [42] && m.positiveControl.count == 1)
            // 3 stages × (probe + 3 positions × 2 lens measures).
            #expect(m.curves.count == 21, "\(m.name): \(m.curves.count) curves")
            for c in m.curves {
                #expect(c.points.count == m.layers + 1 && c.points.first?.depth == 0 && c.points.last?.depth == 1)
                #expect(c.points.allSatisfy { (0...1).contains($0.value.mean) })
            }
            let own = run.appendingPathComponent(m.folder)
            let flagship = try ScratchExperiments.json(own.appendingPathComponent("results.json"))
            #expect(flagship["schema"] as? String == "lazarus.cot_vocab_alignment.v2")
            #expect(FileManager.default.fileExists(atPath: own.appendingPathComponent("report.md").path))
        }
        let checkpoints = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("cot_vocab_alignment/checkpoints").path)
        #expect(checkpoints.filter { $0.hasPrefix("cot_sft-") }.count == 2, "one cot_sft per model, in the flagship's folder")
        let report = try String(contentsOf: run.appendingPathComponent("report.md"), encoding: .utf8)
        #expect(report.contains("What 2 models can say") && report.contains("cannot say: anything about scale as a cause"))
        #expect(!report.contains(Self.fixtures.path), "the report names models without this machine's paths")
        for plot in ["word_prob_prompt_end.svg", "probe_accuracy_prompt_end.svg", "lens_task_accuracy_operator.svg"] {
            #expect(FileManager.default.fileExists(atPath: run.appendingPathComponent(plot).path), "\(plot)")
        }
        let again = try ExperimentRunner.run("scale_comparison", root: root)
        let log = try String(contentsOf: again.appendingPathComponent("log.txt"), encoding: .utf8)
        #expect(!log.contains(": running") && log.contains("reusing trained adapters"), "\(log)")
    }

    @Test func mistakesNameTheirKey() throws {
        let root = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: root) }
        #expect { try ExperimentRunner.run("scale_comparison", overrides: ["parameters.models=[]"], root: root) } throws: { "\($0)".contains("parameters.models") }
        #expect { try ExperimentRunner.run("scale_comparison", overrides: ["parameters.max_steps=0"], root: root) } throws: { "\($0)".contains("parameters.max_steps") }
        #expect { try ExperimentRunner.run("scale_comparison", overrides: ["parameters.modles=[default]"], root: root) } throws: { "\($0)".contains("parameters.modles") }
    }
}
