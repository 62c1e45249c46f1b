// The commands on the tiny Mixtral and GPT-OSS models of tools/make_tiny_moe.py, through the built binary:
// `introspect routing` (its JSON conforms to docs/schemas/routing.schema.json, --output and --json are one
// report, sizes are config.json's), `model info`, `introspect logit-lens` and `introspect hidden-states`,
// from the folders and the GGUF files; the flagship experiment, small (its LoRA stages train the attention
// projections through the MoE blocks); `train lora` with the router as a target; and `introspect routing` or
// a router target on a dense model is one line and exit 1.
import Foundation
import ModelFiles
import Testing

@Suite struct MixtureOfExpertsCommandTests {
    static let root = LazarusProcess.packageRoot.appendingPathComponent("Tests/TransformerTests/Fixtures/moe")
    static let models = ["tiny_mixtral", "tiny_gpt_oss", "tiny_mixtral.gguf", "tiny_gpt_oss.gguf"]
    static let prompts = "7 * 8 =|The capital of France is Paris, and 12 + 30 = 42"

    struct Config: Decodable { var num_hidden_layers: Int; var num_local_experts: Int; var num_experts_per_tok: Int }
    static func config(_ model: String) throws -> Config {
        let folder = model.replacingOccurrences(of: ".gguf", with: "")
        return try JSONDecoder().decode(Config.self, from: Data(contentsOf: root.appendingPathComponent("\(folder)/config.json")))
    }

    static func succeed(_ arguments: [String]) throws -> String {
        let run = try LazarusProcess.run(arguments)
        guard run.status == 0 else { throw TestFailure("\(arguments): status \(run.status): \(run.stderr)") }
        return run.stdout
    }

    @Test(arguments: models)
    func routingReport(_ model: String) throws {
        let path = Self.root.appendingPathComponent(model).path
        let c = try Self.config(model)
        let folder = try temporaryFolder("routing")
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("routing.json")
        let json = try Self.succeed(["introspect", "routing", "--model", path, "--prompts", Self.prompts, "--json", "--output", file.path])
        try SchemaConformanceTests.expectConforms(Data(json.utf8), to: "routing")
        #expect(try JSONValue.parse(Data(contentsOf: file)) == JSONValue.parse(Data(json.utf8)), "--output and --json are one report")
        struct Report: Decodable {
            struct Layer: Decodable { var name: String; var expert_share: [Double] }
            struct Position: Decodable { var experts: [Int] }
            struct PromptLayer: Decodable { var positions: [Position] }
            struct Prompt: Decodable { var token_ids: [Int]; var layers: [PromptLayer] }
            var experts: Int; var experts_per_token: Int; var layers: [Layer]; var prompts: [Prompt]
        }
        let r = try JSONDecoder().decode(Report.self, from: Data(json.utf8))
        #expect(r.experts == c.num_local_experts && r.experts_per_token == c.num_experts_per_tok)
        #expect(r.layers.map(\.name) == (0..<c.num_hidden_layers).map { "L\($0)" })
        for p in r.prompts {
            #expect(p.layers.count == c.num_hidden_layers)
            #expect(p.layers.allSatisfy { $0.positions.count == p.token_ids.count && $0.positions.allSatisfy { Set($0.experts).count == c.num_experts_per_tok } })
        }
        let text = try Self.succeed(["introspect", "routing", "--model", path, "--prompts", Self.prompts])
        #expect(text.contains("\(c.num_local_experts) experts, \(c.num_experts_per_tok) per token"))
    }

    @Test(arguments: models)
    func everyReadingCommandRuns(_ model: String) throws {
        let path = Self.root.appendingPathComponent(model).path
        let c = try Self.config(model)
        let info = try Self.succeed(["model", "info", path, "--json"])
        try SchemaConformanceTests.expectConforms(Data(info.utf8), to: "model_info")
        struct Info: Decodable { var experts: Int?; var experts_per_token: Int?; var family: String }
        let i = try JSONDecoder().decode(Info.self, from: Data(info.utf8))
        #expect(i.experts == c.num_local_experts && i.experts_per_token == c.num_experts_per_tok)
        #expect(i.family == (model.hasPrefix("tiny_mixtral") ? "mixtral" : "gpt-oss"))
        _ = try Self.succeed(["introspect", "logit-lens", "--model", path, "--prompts", Self.prompts, "--json"])
        let folder = try temporaryFolder("moe-hidden")
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = try Self.succeed(["introspect", "hidden-states", "--model", path, "--prompts", Self.prompts,
                                    "--output", folder.appendingPathComponent("h.safetensors").path])
        #expect(out.contains("\(c.num_hidden_layers + 1) layers"))
    }

    struct RoutingResults: Decodable {
        struct Information: Decodable { var bits: Double; var corrected_bits: Double; var shuffled_p95_bits: Double; var p_value: Double; var n: Int }
        struct Probe: Decodable { var accuracy: Double; var low: Double; var high: Double; var n: Int }
        struct Layer: Decodable { var index: Int; var name: String; var probe: Probe; var shuffled_probe: Probe; var top_expert_information: Information; var top_expert_share: [Double] }
        struct Position: Decodable { var position: String; var layers: [Layer] }
        struct Routing: Decodable { var experts: Int; var experts_per_token: Int; var n: Int; var positions: [Position] }
        struct Stage: Decodable { var routing: Routing? }
        struct Seed: Decodable { var stages: [String: Stage] }
        var per_seed: [Seed]
    }

    /// The flagship on the tiny MoE models with `--set`-sized settings: every stage, every layer, and per stage the
    /// routing readings (a smoke test of the tooling on random models, not a finding): the probe's accuracy in [0, 1],
    /// the information ≥ 0, and the report's routing sentences carrying exactly the counts the numbers give.
    @Test(arguments: ["tiny_mixtral", "tiny_gpt_oss.gguf"])
    func flagshipRunsSmall(_ model: String) throws {
        var report = ""
        let data = try FamilyCommandTests.runFlagshipSmall(Self.root.appendingPathComponent(model).path,
                                                           set: ["parameters.max_steps=3", "parameters.probe_samples_per_operation=15"]) { report = $0 }
        let c = try Self.config(model)
        let stages = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        let byStage = try #require(stages?["stages"] as? [String: [String: Any]])
        #expect(Set(byStage.keys).isSuperset(of: ["baseline", "direct_sft", "cot_sft"]))
        for (stage, s) in byStage { #expect((s["layers"] as? [Any])?.count == c.num_hidden_layers + 1, "\(model) \(stage): every layer") }

        let seed = try #require(try JSONDecoder().decode(RoutingResults.self, from: data).per_seed.first)
        #expect(report.contains("## Routing (mixture of experts, first seed)"))
        let titles = ["baseline": "Baseline", "direct_sft": "Direct SFT", "cot_sft": "CoT SFT"]
        for (stage, s) in seed.stages {
            let routing = try #require(s.routing, "\(model) \(stage): routing readings")
            #expect(routing.experts == c.num_local_experts && routing.experts_per_token == c.num_experts_per_tok)
            #expect(routing.positions.map(\.position) == ["prompt_end", "operator"])
            #expect(routing.n == 45, "the --set probe set: 15 per operation")
            for position in routing.positions {
                #expect(position.layers.map(\.index) == Array(0..<c.num_hidden_layers))
                for l in position.layers {
                    #expect((0...1).contains(l.probe.accuracy) && (0...1).contains(l.shuffled_probe.accuracy) && l.probe.n == routing.n)
                    #expect(l.top_expert_information.bits >= 0 && l.top_expert_information.n == routing.n)
                    #expect(l.top_expert_information.p_value > 0 && l.top_expert_information.p_value <= 1)
                    #expect(abs(l.top_expert_share.reduce(0, +) - 1) < 1e-9)
                }
                // The sentence counts what the table holds, recomputed here from results.json.
                let total = position.layers.count
                let above = position.layers.filter { $0.probe.low > max(1.0 / 3.0, $0.shuffled_probe.accuracy) }.count
                let informative = position.layers.filter { $0.top_expert_information.p_value < 0.05 }.count
                func count(_ k: Int) -> String { k == 0 ? "none of the \(total)" : "\(k) of \(total)" }
                let most = position.layers.max { $0.top_expert_information.bits < $1.top_expert_information.bits }!
                let head = "\(titles[stage]!), `\(position.position)`: the probe on the router logits is above chance"
                let line = try #require(report.split(separator: "\n").first { $0.contains(head) }, "\(model) \(stage) \(position.position): sentence")
                #expect(line.contains("at \(count(above)) MoE layers"), "\(line)")
                #expect(line.contains("(permutation p < 0.05) at \(count(informative)) (largest \(String(format: "%.3f", most.top_expert_information.bits)) bits at \(most.name)"), "\(line)")
                print("\(model) \(stage) \(position.position): " + position.layers.map { l in
                    String(format: "%@ probe %.2f (shuffled %.2f) I %.3f bits (corrected %.3f, p %.3f)", l.name, l.probe.accuracy, l.shuffled_probe.accuracy,
                           l.top_expert_information.bits, l.top_expert_information.corrected_bits, l.top_expert_information.p_value)
                }.joined(separator: "; "))
            }
        }
    }

    /// `train lora --targets …,router` trains the router on a mixture-of-experts model and saves it as PEFT names
    /// it (target_parameters); on a dense model the same targets are one line and exit 1, before any training.
    @Test func trainingTheRouter() throws {
        let folder = try temporaryFolder("router-train")
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = folder.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        let texts = ["7 * 8 = multiply: 56", "12 + 30 = add: 42", "45 - 18 = subtract: 27", "9 * 6 = multiply: 54"]
        try Data(texts.map { "{\"text\": \"\($0)\"}\n" }.joined().utf8).write(to: data.appendingPathComponent("train.jsonl"))
        let adapter = folder.appendingPathComponent("adapter")
        _ = try Self.succeed(["train", "lora", "--model", Self.root.appendingPathComponent("tiny_gpt_oss").path, "--data", data.path,
                              "--targets", "q_proj,router", "--rank", "2", "--steps", "3", "--batch-size", "2", "--adapter-path", adapter.path])
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: adapter.appendingPathComponent("adapter_config.json"))) as? [String: Any]
        #expect(config?["target_modules"] as? [String] == ["q_proj"])
        #expect(config?["target_parameters"] as? [String] == ["mlp.router.weight"])
        let dense = LazarusProcess.packageRoot.appendingPathComponent("Tests/TransformerTests/Fixtures/families/tiny_qwen2").path
        let run = try LazarusProcess.run(["train", "lora", "--model", dense, "--data", data.path, "--targets", "q_proj,router",
                                          "--steps", "1", "--adapter-path", folder.appendingPathComponent("dense").path])
        #expect(run.status == 1)
        #expect(run.stderr.contains("'router'") && run.stderr.contains("dense")
                && run.stderr.trimmingCharacters(in: .newlines).split(separator: "\n").count == 1, "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("dense").path), "a refused run leaves no folder")
    }

    @Test func routingOnADenseModelIsOneLine() throws {
        let dense = LazarusProcess.packageRoot.appendingPathComponent("Tests/TransformerTests/Fixtures/families/tiny_qwen2").path
        let run = try LazarusProcess.run(["introspect", "routing", "--model", dense, "--prompts", "1 + 2 ="])
        #expect(run.status == 1)
        #expect(run.stderr.contains("no routers") && run.stderr.trimmingCharacters(in: .newlines).split(separator: "\n").count == 1, "\(run.stderr)")
    }
}
