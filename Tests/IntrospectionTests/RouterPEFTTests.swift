// LoRA on the routers of the tiny Mixtral and GPT-OSS (with q_proj and v_proj) across Lazarus and PEFT, both
// ways, within 1e-4 in log-probability: an adapter PEFT saved (tools/peft_reference.py --fixture
// {mixtral,gpt_oss}_router) loaded by Lazarus, and one Lazarus trained (tools/make_lazarus_adapter.sh
// {mixtral,gpt_oss}_router) loaded by PEFT. PEFT cannot name a transformers-5 router in target_modules (it is
// not an nn.Linear), so both sides write it as target_parameters: Mixtral's "mlp.gate.weight", GPT-OSS's
// "mlp.router.weight". The router's share is checked too: without it, the logits miss PEFT's by far more.
import Foundation
import Kernels
import LazarusTestSupport
import ModelFiles
import Testing
import Training
import Transformer

@Suite struct RouterPEFTTests {
    static let families = ["mixtral", "gpt_oss"]

    /// The largest |Lazarus − PEFT| in log-probability over the fixed ids and PEFT's top 20, every prompt.
    static func worstLogprob(_ ref: PEFTReference, adapters: LoRAAdapters?, model m: LoadedModel) throws -> Double {
        var worst = 0.0
        for p in ref.prompts {
            #expect(m.tokenizer.encode(p.text) == p.ids, "ids of \(p.text.debugDescription)")
            let row = try m.model.forward([p.ids], adapters: adapters, logits: .lastToken).logits.values
            let lse = Softmax.logSumExp(row)
            let expected = adapters == nil ? p.base : p.adapted
            for (id, logit) in zip(ref.fixed_ids, expected.fixed_logits) {
                worst = max(worst, abs((Double(row[id]) - lse) - (logit - expected.logsumexp)))
            }
            for pair in expected.top20 { worst = max(worst, abs((Double(row[Int(pair[0])]) - lse) - (pair[1] - expected.logsumexp))) }
        }
        return worst
    }

    func check(folder: String, reference: String, family: String, label: String) throws {
        let m = try TinyMixtures.load("tiny_\(family)")
        let ref = try PEFTReference.load(reference)
        let adapters = try PEFTAdapterFiles.load(from: try introspectionFixture(folder), config: m.model.config)
        let routerParameter = family == "mixtral" ? "mlp.gate.weight" : "mlp.router.weight"
        #expect(ref.adapter.target_parameters == [routerParameter])
        #expect(ref.adapter.target_modules == ["q_proj", "v_proj"])
        #expect(Set(adapters.targets) == [.query, .value, .router])
        let base = try Self.worstLogprob(ref, adapters: nil, model: m)
        let adapted = try Self.worstLogprob(ref, adapters: adapters, model: m)
        var withoutRouter = adapters
        withoutRouter.targets.removeAll { $0 == .router }
        for l in withoutRouter.layers.indices { withoutRouter.layers[l][.router] = nil }
        let missing = try Self.worstLogprob(ref, adapters: withoutRouter, model: m)
        print("\(label): log-probs vs PEFT: base \(base), adapted \(adapted); without the router's adapter \(missing)")
        #expect(base <= 1e-4 && adapted <= 1e-4)
        #expect(missing > 1e-2, "the router's adapter should matter for the comparison to test it")
    }

    @Test("a PEFT adapter on the router gives PEFT's log-probs", arguments: families)
    func peftSavedRouterAdapter(_ family: String) throws {
        try check(folder: "peft_adapter_tiny_\(family)_router", reference: "peft_reference_tiny_\(family)_router.json",
                  family: family, label: "PEFT router adapter on tiny \(family) in Lazarus")
    }

    @Test("a Lazarus-trained router adapter loads in PEFT with Lazarus's log-probs", arguments: families)
    func lazarusTrainedRouterAdapter(_ family: String) throws {
        try check(folder: "lazarus_adapter_tiny_\(family)_router", reference: "lazarus_peft_reference_tiny_\(family)_router.json",
                  family: family, label: "Lazarus-trained router adapter on tiny \(family) in PEFT")
    }

    /// Saving what was loaded writes PEFT's keys and config entries back: the same tensors under the same names.
    @Test("saving a loaded router adapter writes PEFT's names back", arguments: families)
    func saveWritesPEFTsNames(_ family: String) throws {
        let m = try TinyMixtures.load("tiny_\(family)")
        let source = try introspectionFixture("peft_adapter_tiny_\(family)_router")
        let adapters = try PEFTAdapterFiles.load(from: source, config: m.model.config)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("router-peft-\(family)-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try PEFTAdapterFiles.save(adapters, to: folder, baseModel: "tiny_\(family)", architecture: m.model.config.architecture)
        let original = try SafetensorsFile(contentsOf: source.appendingPathComponent(PEFTAdapterFiles.weightsFileName))
        let written = try SafetensorsFile(contentsOf: folder.appendingPathComponent(PEFTAdapterFiles.weightsFileName))
        #expect(Set(written.tensorNames) == Set(original.tensorNames))
        #expect(written.tensorNames.contains { $0.hasSuffix(family == "mixtral" ? ".mlp.gate.lora_A.weight" : ".mlp.router.lora_A.weight") })
        for name in original.tensorNames { #expect(try written.floatTensor(named: name) == original.floatTensor(named: name), "\(name)") }
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent(PEFTAdapterFiles.configFileName))) as? [String: Any]
        #expect(config?["target_parameters"] as? [String] == [family == "mixtral" ? "mlp.gate.weight" : "mlp.router.weight"])
        #expect((config?["target_modules"] as? [String])?.sorted() == ["q_proj", "v_proj"])
    }

    /// PEFT saves `target_modules: null` for an adapter on the router alone: it loads as the router's adapter only.
    @Test func aRouterOnlyAdapterWithNullTargetModulesLoads() throws {
        let m = try TinyMixtures.load("tiny_gpt_oss")
        let source = try introspectionFixture("peft_adapter_tiny_gpt_oss_router")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("router-only-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var config = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: source.appendingPathComponent(PEFTAdapterFiles.configFileName))) as? [String: Any])
        config["target_modules"] = NSNull()
        try JSONSerialization.data(withJSONObject: config).write(to: folder.appendingPathComponent(PEFTAdapterFiles.configFileName))
        let file = try SafetensorsFile(contentsOf: source.appendingPathComponent(PEFTAdapterFiles.weightsFileName))
        var writer = SafetensorsWriter()
        for name in file.tensorNames where name.contains(".mlp.router.") {
            writer.add(name: name, shape: try #require(file.shape(of: name)), values: try file.floatTensor(named: name))
        }
        try writer.write(to: folder.appendingPathComponent(PEFTAdapterFiles.weightsFileName))
        let adapters = try PEFTAdapterFiles.load(from: folder, config: m.model.config)
        #expect(adapters.targets == [.router])
        #expect(adapters.layers.allSatisfy { $0.keys.sorted { $0.rawValue < $1.rawValue } == [.router] })
    }

    @Test func aRouterParameterOnADenseModelIsRefusedInOneLine() throws {
        let m = try TinyFamilies.load("tiny_qwen2")
        let source = try introspectionFixture("peft_adapter_tiny_gpt_oss_router")
        #expect { try PEFTAdapterFiles.load(from: source, config: m.model.config) } throws: { error in
            let line = String(describing: error)
            return line.contains("target_parameters") && line.contains("dense") && !line.contains("\n")
        }
    }
}
