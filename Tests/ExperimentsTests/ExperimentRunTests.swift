// The experiments end to end on the default model, with small overrides so they run in a minute or two:
// results.json has the documented shape and sane values, report.md and the plots carry its numbers,
// a re-run reuses finished stages, and the same config and seed give the same numbers.
import Experiments
import Foundation
import Testing

/// A scratch experiments root holding copies of the repository's config files.
enum ScratchExperiments {
    static var repositoryExperiments: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("experiments")
    }

    static func make(_ names: [String]) throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("lazarus-experiments-\(UUID().uuidString)")
        for n in names {
            let folder = root.appendingPathComponent(n)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: repositoryExperiments.appendingPathComponent(n).appendingPathComponent("config.yaml"),
                                             to: folder.appendingPathComponent("config.yaml"))
        }
        return root
    }

    static func json(_ url: URL) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    }
}

@Suite(.serialized) struct ExperimentRunTests {
    static let smallCoT = ["parameters.num_samples=240", "parameters.max_steps=20", "parameters.eval_samples=30",
                           "parameters.valid_samples=12", "parameters.probe_samples_per_operation=30", "parameters.seeds=[42, 43]"]

    @Test func cotVocabAlignmentRunsEndToEnd() throws {
        let root = try ScratchExperiments.make(["cot_vocab_alignment"])
        defer { try? FileManager.default.removeItem(at: root) }
        let run = try ExperimentRunner.run("cot_vocab_alignment", overrides: Self.smallCoT, root: root)
        let results = try ScratchExperiments.json(run.appendingPathComponent("results.json"))
        #expect(results["schema"] as? String == "lazarus.cot_vocab_alignment.v2")
        // Two training seeds, each with its three stages and paired tests; across-seed figures over both.
        let perSeed = try #require(results["per_seed"] as? [[String: Any]])
        #expect(perSeed.map { $0["seed"] as? Int } == [42, 43])
        for entry in perSeed {
            let tests = try #require(entry["paired_tests"] as? [[String: Any]])
            // Three answer tests and 31 lens tests for each of the three stage pairs.
            #expect(tests.count == 3 + 3 * 31)
            for t in tests {
                let p = try #require(t["p"] as? Double), q = try #require(t["p_holm"] as? Double)
                #expect(0 < p && p <= q && q <= 1)
            }
        }
        let across = try #require(results["across_seeds"] as? [String: Any])
        let accuracy = try #require(across["heldout_accuracy"] as? [String: [String: Any]])
        #expect(accuracy["cot_sft"]?["n"] as? Int == 2)
        let targets = try #require(results["target_tokens"] as? [String: Any])
        #expect(targets["primary_form"] as? String == "spaced")
        let stages = try #require(results["stages"] as? [String: Any])
        #expect(Set(stages.keys) == ["baseline", "direct_sft", "cot_sft"])
        let report = try String(contentsOf: run.appendingPathComponent("report.md"), encoding: .utf8)
        for (name, value) in stages {
            let stage = try #require(value as? [String: Any])
            for key in ["accuracy_seed_prompts", "accuracy_heldout"] {
                let a = try #require(stage[key] as? [String: Any], "\(name).\(key)")
                let v = try #require(a["value"] as? Double), low = try #require(a["low"] as? Double), high = try #require(a["high"] as? Double)
                #expect(0 <= low && low <= v && v <= high && high <= 1, "\(name).\(key) \(a)")
            }
            #expect((stage["accuracy_heldout"] as? [String: Any])?["n"] as? Int == 30)
            #expect((stage["accuracy_seed_prompts"] as? [String: Any])?["n"] as? Int == 9)
            let layers = try #require(stage["layers"] as? [[String: Any]])
            #expect(layers.count == 31, "embed + 30 blocks")
            #expect(layers.first?["name"] as? String == "embed" && layers.last?["name"] as? String == "L29")
            for l in layers {
                for key in ["mean_task_prob", "lens_task_accuracy", "top1_rate", "probe_accuracy"] {
                    let v = try #require(l[key] as? Double, "\(name) \(l["name"] ?? "?") \(key)")
                    #expect((0...1).contains(v), "\(name) \(key) = \(v)")
                }
            }
            // Cross-validated probes on the balanced probe set: 30 per operation, every prompt predicted once, one
            // chosen penalty per outer fold from the grid, the accuracy inside its Wilson interval.
            let probeSet = try #require(stage["probe_cv"] as? [String: Any], "\(name).probe_cv")
            #expect(probeSet["n"] as? Int == 90 && probeSet["per_operation"] as? Int == 30 && probeSet["folds"] as? Int == 5)
            let grid = try #require(probeSet["l2_grid"] as? [Double])
            for l in layers {
                #expect(l["probe_n"] as? Int == 90)
                let chosen = try #require(l["probe_l2"] as? [Double])
                #expect(chosen.count == 5 && chosen.allSatisfy(grid.contains))
                let v = try #require(l["probe_accuracy"] as? Double), low = try #require(l["probe_low"] as? Double), high = try #require(l["probe_high"] as? Double)
                #expect(low <= v && v <= high)
                #expect(l["probe_control_task_accuracy"] is Double && l["probe_first_operand_accuracy"] is Double)
            }
            // The report prints each stage's held-out accuracy as results.json holds it.
            let accuracy = (stage["accuracy_heldout"] as! [String: Any])["value"] as! Double
            #expect(report.contains(String(format: "%.1f%%", accuracy * 100)), "report.md lacks \(name)'s accuracy")
            if name != "baseline" {
                let training = try #require(stage["training"] as? [String: Any])
                let losses = try #require(training["train_loss"] as? [[String: Any]])
                #expect(!losses.isEmpty)
            }
        }
        let summary = try #require(results["summary"] as? [String: Any])
        #expect(summary["positive_control_passed"] is Bool)
        #expect((summary["table"] as? [Any])?.count == 3)
        for plot in try FileManager.default.contentsOfDirectory(atPath: run.path) where plot.hasSuffix(".svg") {
            let svg = try String(contentsOf: run.appendingPathComponent(plot), encoding: .utf8)
            #expect(svg.hasPrefix("<svg") || svg.hasPrefix("<?xml"), "\(plot)")
        }
        let plots = try FileManager.default.contentsOfDirectory(atPath: run.path).filter { $0.hasSuffix(".svg") }
        #expect(plots.count >= 3, "\(plots)")
        #expect(report.contains("Max Vocab Alignment"))

        // A second run reuses every finished stage and gives the same numbers.
        let again = try ExperimentRunner.run("cot_vocab_alignment", overrides: Self.smallCoT, root: root)
        let log = try String(contentsOf: again.appendingPathComponent("log.txt"), encoding: .utf8)
        #expect(log.contains("reusing"))
        let second = try ScratchExperiments.json(again.appendingPathComponent("results.json"))
        #expect(NSDictionary(dictionary: second["stages"] as! [String: Any]).isEqual(to: stages))
    }

    @Test func sameConfigAndSeedGiveTheSameNumbers() throws {
        // Both runs compute everything (fresh), including training; only timings may differ.
        let overrides = ["parameters.num_samples=120", "parameters.max_steps=6", "parameters.eval_samples=12",
                         "parameters.valid_samples=6", "parameters.probe_folds=3", "parameters.probe_samples_per_operation=12", "parameters.seeds=[42]"]
        let root = try ScratchExperiments.make(["cot_vocab_alignment"])
        defer { try? FileManager.default.removeItem(at: root) }
        func numbers(_ run: URL) throws -> [String: Any] {
            var r = try ScratchExperiments.json(run.appendingPathComponent("results.json"))
            r["timings"] = nil
            var stages = r["stages"] as! [String: Any]
            for (k, v) in stages {
                var s = v as! [String: Any]
                s["evaluation_s"] = nil
                if var t = s["training"] as? [String: Any] {
                    t["seconds"] = nil
                    t["tokens_per_s"] = nil
                    s["training"] = t
                }
                stages[k] = s
            }
            r["stages"] = stages
            return Self.withoutTimings(r) as! [String: Any]
        }
        let first = try numbers(ExperimentRunner.run("cot_vocab_alignment", overrides: overrides, fresh: true, root: root))
        let second = try numbers(ExperimentRunner.run("cot_vocab_alignment", overrides: overrides, fresh: true, root: root))
        #expect(NSDictionary(dictionary: first).isEqual(to: second))
    }

    /// The value with every timing key removed at any depth (per_seed repeats the stages).
    static func withoutTimings(_ value: Any) -> Any {
        if let d = value as? [String: Any] {
            var out: [String: Any] = [:]
            for (k, v) in d where !["timings", "evaluation_s", "seconds", "tokens_per_s"].contains(k) { out[k] = withoutTimings(v) }
            return out
        }
        if let a = value as? [Any] { return a.map(withoutTimings) }
        return value
    }

    @Test func probeClassifierRunsEndToEnd() throws {
        let root = try ScratchExperiments.make(["probe_classifier"])
        defer { try? FileManager.default.removeItem(at: root) }
        let run = try ExperimentRunner.run("probe_classifier", overrides: ["parameters.num_samples=90", "parameters.probe_epochs=30"], root: root)
        let results = try ScratchExperiments.json(run.appendingPathComponent("results.json"))
        let layers = try #require(results["layers"] as? [[String: Any]])
        #expect(!layers.isEmpty)
        for l in layers {
            let acc = try #require(l["probe_accuracy"] as? Double)
            #expect((0...1).contains(acc))
            #expect(l["mean_task_prob"] is Double)
        }
        #expect(FileManager.default.fileExists(atPath: run.appendingPathComponent("report.md").path))
    }

    @Test func typoInConfigIsAHelpfulError() throws {
        let root = try ScratchExperiments.make(["cot_vocab_alignment"])
        defer { try? FileManager.default.removeItem(at: root) }
        #expect { try ExperimentRunner.loadConfig("cot_vocab_alignment", overrides: ["parameters.max_step=5"], root: root) } throws: {
            let text = String(describing: $0)
            return text.contains("max_step") && text.contains("max_steps")
        }
        #expect { try ExperimentRunner.loadConfig("no_such_experiment", overrides: [], root: root) } throws: {
            String(describing: $0).contains("cot_vocab_alignment")
        }
    }
}
