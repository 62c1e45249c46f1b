// The research commands on every family, through the built binary as a user runs them: on the tiny Qwen2,
// Qwen3, Mistral and Gemma 3 folders of tools/make_tiny_families.py, `introspect logit-lens` (the lens at the
// last layer is the model's own next-token distribution), `introspect probe`, `introspect hidden-states`,
// `train lora` (the loss falls, the adapter loads back) and a small flagship experiment each exit 0 with
// output of the documented shape and sizes read from the folder's own config.json.
import Foundation
import ModelFiles
import Testing

@Suite struct FamilyCommandTests {
    static let families = ["tiny_qwen2", "tiny_qwen3", "tiny_mistral", "tiny_gemma3"]

    /// The folder and the sizes its config.json states (not what Lazarus reports, which is under test).
    struct Family {
        var path: String
        var layers: Int
        var hidden: Int
        var vocab: Int

        init(_ name: String) throws {
            path = LazarusProcess.packageRoot.appendingPathComponent("Tests/TransformerTests/Fixtures/families/\(name)").path
            struct Config: Decodable { var num_hidden_layers: Int; var hidden_size: Int; var vocab_size: Int }
            let c = try JSONDecoder().decode(Config.self, from: Data(contentsOf: URL(fileURLWithPath: path + "/config.json")))
            (layers, hidden, vocab) = (c.num_hidden_layers, c.hidden_size, c.vocab_size)
        }
    }

    struct LensReport: Decodable {
        struct Top: Decodable { var id: Int; var prob: Double }
        struct Final: Decodable { var id: Int; var logprob: Double }
        struct Layer: Decodable { var name: String; var index: Int; var top: [Top] }
        struct Prompt: Decodable { var token_ids: [Int]; var layers: [Layer]; var final_top: [Final] }
        var prompts: [Prompt]
    }

    /// Two prompts, one longer than the Gemma and Mistral windows (8 tokens), so windowed layers are exercised.
    static let prompts = "7 * 8 =|The capital of France is Paris, and 12 + 30 = 42"

    @Test(arguments: families)
    func logitLensAtTheLastLayerIsTheModelsDistribution(name: String) throws {
        let family = try Family(name)
        let data = try SchemaConformanceTests.output(["introspect", "logit-lens", "--model", family.path, "--prompts", Self.prompts,
                                                      "--targets", "add", "--targets", "multiply", "--layers", "all", "--top-k", "10", "--json"])
        try SchemaConformanceTests.expectConforms(data, to: "logit_lens")
        let report = try JSONDecoder().decode(LensReport.self, from: data)
        #expect(report.prompts.count == 2)
        #expect(report.prompts[1].token_ids.count > 8)
        var worst = 0.0
        for p in report.prompts {
            #expect(p.layers.map(\.index) == Array(-1..<family.layers))
            let last = try #require(p.layers.last)
            #expect(last.name == "L\(family.layers - 1)")
            #expect(last.top.map(\.id) == p.final_top.prefix(10).map(\.id), "\(name): lens top-10 at the last layer")
            for (lens, own) in zip(last.top, p.final_top) { worst = max(worst, abs(lens.prob - exp(own.logprob))) }
            #expect(p.layers.allSatisfy { $0.top.allSatisfy { $0.prob >= 0 && $0.prob <= 1 } && $0.top.count == 10 })
        }
        print("\(name): last-layer lens vs the model's own probabilities: \(worst)")
        #expect(worst < 1e-5)
    }

    @Test(arguments: families)
    func probeAndHiddenStatesRun(name: String) throws {
        let family = try Family(name)
        let folder = try temporaryFolder("family-probe")
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = folder.appendingPathComponent("probe.jsonl")
        // Prompts that end at the operator: the last token is the label, so the task is linearly separable
        // from the embeddings on; a random tiny model's "=" position carries the operator only weakly.
        let records = (0..<20).flatMap { i in [#"{"prompt": "\#(i % 11 + 2) *", "op": "multiply"}"#,
                                               #"{"prompt": "\#(i + 10) +", "op": "add"}"#] }
        try Data(records.joined(separator: "\n").utf8).write(to: data)
        let probe = try SchemaConformanceTests.output(["introspect", "probe", "--model", family.path, "--data", data.path, "--label", "op",
                                                       "--json"])
        try SchemaConformanceTests.expectConforms(probe, to: "probe")
        struct ProbeReport: Decodable {
            struct Layer: Decodable { var index: Int; var test_accuracy: Double; var control_accuracy: Double; var selectivity: Double }
            var layers: [Layer]
            var labels: [String]
            var n_train: Int
            var n_test: Int
        }
        let report = try JSONDecoder().decode(ProbeReport.self, from: probe)
        #expect(report.layers.map(\.index) == Array(-1..<family.layers))
        #expect(report.labels.sorted() == ["add", "multiply"] && report.n_train + report.n_test == records.count && report.n_test > 0)
        for layer in report.layers {
            #expect((0...1).contains(layer.test_accuracy) && (0...1).contains(layer.control_accuracy))
            #expect(abs(layer.selectivity - (layer.test_accuracy - layer.control_accuracy)) < 1e-9)
        }
        #expect(report.layers[0].test_accuracy == 1, "\(name): \(report.layers.map(\.test_accuracy))")

        let hidden = folder.appendingPathComponent("h.safetensors")
        _ = try SchemaConformanceTests.output(["introspect", "hidden-states", "--model", family.path, "--prompts", Self.prompts,
                                               "--layers", "all", "--output", hidden.path])
        let file = try SafetensorsFile(contentsOf: hidden)
        let names = ["embed"] + (0..<family.layers).map { "L\($0)" }
        #expect(file.tensorNames.sorted() == names.sorted())
        for n in names {
            #expect(file.shape(of: n) == [2, family.hidden], "\(name) \(n)")
            #expect(try file.floatTensor(named: n).allSatisfy(\.isFinite))
        }
    }

    @Test(arguments: families)
    func loraTrainingLowersTheLossAndTheAdapterLoads(name: String) throws {
        let family = try Family(name)
        let folder = try temporaryFolder("family-train")
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = folder.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        func texts(_ range: Range<Int>) -> String {
            range.map { i in #"{"text": "\#(i % 9 + 2) * \#(i % 4 + 3) = multiply: \#((i % 9 + 2) * (i % 4 + 3))"}"# }.joined(separator: "\n")
        }
        try Data(texts(0..<24).utf8).write(to: data.appendingPathComponent("train.jsonl"))
        try Data(texts(24..<28).utf8).write(to: data.appendingPathComponent("valid.jsonl"))
        let adapter = folder.appendingPathComponent("adapter")
        _ = try SchemaConformanceTests.output(["train", "lora", "--model", family.path, "--data", data.path, "--rank", "4", "--alpha", "8",
                                               "--targets", "all", "--steps", "30", "--learning-rate", "1e-2", "--report-every", "5",
                                               "--eval-every", "15", "--adapter-path", adapter.path])
        struct Metric: Decodable { var step: Int; var train_loss: Double; var val_loss: Double? }
        let lines = try String(contentsOf: adapter.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
        let metrics = try lines.map { try JSONDecoder().decode(Metric.self, from: Data($0.utf8)) }
        #expect(metrics.map(\.step) == [5, 10, 15, 20, 25, 30])
        let first = try #require(metrics.first), last = try #require(metrics.last)
        let vals = metrics.compactMap(\.val_loss)
        print("\(name): train loss \(first.train_loss) -> \(last.train_loss), validation \(vals)")
        // From about ln V (a random model) down: the repeated format is easy to learn in 30 steps.
        #expect(first.train_loss < log(Double(family.vocab)) + 1)
        #expect(last.train_loss < first.train_loss - 0.5, "\(name): \(metrics.map(\.train_loss))")
        #expect(vals.count == 2 && vals[1] < vals[0])
        // The saved adapter loads back onto the same folder and changes what the model says.
        let base = try SchemaConformanceTests.output(["generate", family.path, "7 * 5 =", "--max-tokens", "4", "--json"])
        let adapted = try SchemaConformanceTests.output(["generate", family.path, "7 * 5 =", "--max-tokens", "4", "--adapter", adapter.path, "--json"])
        #expect(base != adapted)
    }

    /// The flagship, small, on `modelPath`: runs every stage and returns its results.json, checked against its schema
    /// (`overrides` go to `--set`; `report` sees the run's report.md).
    static func runFlagshipSmall(_ modelPath: String, set overrides: [String] = [], report: (String) -> Void = { _ in }) throws -> Data {
        let root = try temporaryFolder("family-flagship")
        defer { try? FileManager.default.removeItem(at: root) }
        let config = root.appendingPathComponent("cot_vocab_alignment/config.yaml")
        try FileManager.default.createDirectory(at: config.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data("""
            name: cot_vocab_alignment
            model: \(modelPath)
            parameters:
              num_samples: 60
              max_steps: 2
              eval_samples: 6
              valid_samples: 4
              probe_folds: 3
              probe_samples_per_operation: 12
              lora:
                rank: 2

            """.utf8).write(to: config)
        _ = try SchemaConformanceTests.output(["experiment", "run", "cot_vocab_alignment"] + overrides.flatMap { ["--set", $0] },
                                              environment: ["LAZARUS_EXPERIMENTS": root.path])
        let results = root.appendingPathComponent("cot_vocab_alignment/results")
        let run = try #require(try FileManager.default.contentsOfDirectory(atPath: results.path).first)
        let data = try Data(contentsOf: results.appendingPathComponent("\(run)/results.json"))
        try SchemaConformanceTests.expectConforms(data, to: "cot_vocab_alignment.results")
        report(try String(contentsOf: results.appendingPathComponent("\(run)/report.md"), encoding: .utf8))
        return data
    }

    /// The flagship, small, on each family: every stage runs and its results.json has the documented shape.
    @Test(arguments: families)
    func flagshipRunsSmall(name: String) throws {
        let family = try Family(name)
        var report = ""
        let data = try Self.runFlagshipSmall(family.path) { report = $0 }
        // A dense model has no routers: no routing readings in results.json and no routing section in the report.
        let raw = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        let perSeed = try #require(raw?["per_seed"] as? [[String: Any]])
        for seed in perSeed { for (stage, s) in seed["stages"] as? [String: [String: Any]] ?? [:] { #expect(s["routing"] == nil, "\(name) \(stage)") } }
        #expect(!report.contains("Routing"), "\(name): a dense model's report has no routing section")
        struct Results: Decodable {
            struct Stage: Decodable { struct Layer: Decodable { var index: Int }; var layers: [Layer] }
            var stages: [String: Stage]
        }
        let decoded = try JSONDecoder().decode(Results.self, from: data)
        #expect(Set(decoded.stages.keys).isSuperset(of: ["baseline", "direct_sft", "cot_sft"]))
        for (stage, s) in decoded.stages { #expect(s.layers.map(\.index) == Array(-1..<family.layers), "\(name) \(stage): every layer") }
    }
}
