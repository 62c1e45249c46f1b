// LoRA adapters PEFT saved for the attention projections of the tiny Mixtral and GPT-OSS models
// (tools/make_tiny_moe.py), loaded by Lazarus: PEFT's module names for these families are the dense
// families' (model.layers.N.self_attn.{q,k,v,o}_proj), and the adapted last-position log-probabilities
// agree with PEFT's.
import Foundation
import Kernels
import LazarusTestSupport
import Testing
import Training
import Transformer

@Suite struct MixtureOfExpertsPEFTTests {
    struct Reference: Decodable {
        struct Prompt: Decodable { var ids: [Int]; var last_logprobs: [Double] }
        struct Peft: Decodable { var folder: String; var r: Int; var lora_alpha: Double; var target_modules: [String]; var last_logprobs: [[Double]] }
        struct Model: Decodable { var name: String; var prompts: [Prompt]; var peft: Peft }
        var models: [Model]
    }

    @Test("a PEFT adapter gives PEFT's log-probs", arguments: TinyMixtures.names)
    func peftAdapter(_ name: String) throws {
        let data = try Data(contentsOf: TinyMixtures.root.appendingPathComponent("tiny_moe_reference.json"))
        let e = try #require(try JSONDecoder().decode(Reference.self, from: data).models.first { $0.name == name })
        let m = try TinyMixtures.load(name)
        let adapters = try PEFTAdapterFiles.load(from: TinyMixtures.folder(e.peft.folder), config: m.model.config)
        #expect(adapters.rank == e.peft.r && Double(adapters.alpha) == e.peft.lora_alpha)
        #expect(adapters.targets.map(\.rawValue).sorted() == e.peft.target_modules.sorted())
        var worst = 0.0, moved = 0.0
        for (p, expected) in zip(e.prompts, e.peft.last_logprobs) {
            let r = try m.model.forward([p.ids], adapters: adapters, options: ForwardOptions())
            let row = r.logits.values.map(Double.init)
            let lse = Softmax.logSumExp(r.logits.values)
            for (i, v) in row.enumerated() {
                worst = max(worst, abs(v - lse - expected[i]))
                moved = max(moved, abs(expected[i] - p.last_logprobs[i]))
            }
        }
        print("\(name): PEFT adapter in Lazarus vs PEFT: \(worst) (the adapter moves log-probs by up to \(moved))")
        #expect(moved > 0.05, "the adapter should change the log-probs for the comparison to mean anything")
        #expect(worst < 1e-4)
    }
}
