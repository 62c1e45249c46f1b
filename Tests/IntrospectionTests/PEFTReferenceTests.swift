// LoRA adapters across Lazarus and Hugging Face PEFT, both ways (tools/peft_reference.py wrote the logits):
// an adapter PEFT saved, loaded by Lazarus; and an adapter Lazarus trained and saved, loaded by PEFT
// (tools/make_lazarus_adapter.sh). Either way the adapted final logits agree within 1e-3 (docs/SPEC.md §3, §6),
// on the default model (Llama) and on the tiny Gemma 3 and Qwen2 folders (every projection adapted).
import Foundation
import Kernels
import Transformer
import Testing
import Training
import LazarusTestSupport

struct PEFTReference: Decodable {
    struct Final: Decodable {
        var logsumexp: Double
        var top20: [[Double]]
        var fixed_logits: [Double]
    }
    struct Adapter: Decodable {
        var dir: String
        var r: Int
        var lora_alpha: Double
        var target_modules: [String]
        /// Parameters PEFT adapts directly (the MoE routers); absent in the older fixtures.
        var target_parameters: [String]?
    }
    struct Prompt: Decodable {
        var text: String
        var ids: [Int]
        var base: Final
        var adapted: Final
    }
    var adapter: Adapter
    var fixed_ids: [Int]
    var prompts: [Prompt]

    static func load(_ name: String) throws -> PEFTReference {
        try JSONDecoder().decode(PEFTReference.self, from: Data(contentsOf: try introspectionFixture(name)))
    }
}

/// Lazarus's own record of its adapted final position, from `lazarus introspect logit-lens --adapter … --json`
/// (tools/make_lazarus_adapter.sh): the top log-probabilities it printed when it had just trained the adapter.
struct LazarusAdapterRecord: Decodable {
    struct Reading: Decodable {
        struct Top: Decodable { var id: Int; var logprob: Double }
        var prompt: String
        var token_ids: [Int]
        var final_top: [Top]
    }
    var prompts: [Reading]
}

@Suite struct PEFTReferenceTests {
    /// The largest |Lazarus − PEFT| over the recorded logits (fixed ids and PEFT's top 20) and logsumexp,
    /// for the base model and the adapted one; and how far the adapter moved the recorded logits.
    func compare(_ ref: PEFTReference, adapters: LoRAAdapters, model m: LoadedModel)
        throws -> (base: Double, adapted: Double, moved: Double) {
        var base = 0.0, adapted = 0.0, moved = 0.0
        func worst(_ row: [Float], _ final: PEFTReference.Final) -> Double {
            var d = abs(Softmax.logSumExp(row) - final.logsumexp)
            for (id, expected) in zip(ref.fixed_ids, final.fixed_logits) { d = max(d, abs(Double(row[id]) - expected)) }
            for pair in final.top20 { d = max(d, abs(Double(row[Int(pair[0])]) - pair[1])) }
            return d
        }
        for p in ref.prompts {
            #expect(m.tokenizer.encode(p.text) == p.ids, "ids of \(p.text.debugDescription)")
            let plain = try m.model.forward([p.ids], logits: .lastToken).logits.values
            let withAdapter = try m.model.forward([p.ids], adapters: adapters, logits: .lastToken).logits.values
            base = max(base, worst(plain, p.base))
            adapted = max(adapted, worst(withAdapter, p.adapted))
            #expect(TopK.row(Matrix(rows: 1, cols: withAdapter.count, values: withAdapter), 0, k: 5).map(\.index)
                    == p.adapted.top20.prefix(5).map { Int($0[0]) }, "\(p.text.debugDescription) adapted top 5")
            for (b, a) in zip(p.base.fixed_logits, p.adapted.fixed_logits) { moved = max(moved, abs(a - b)) }
        }
        return (base, adapted, moved)
    }

    /// Loads `folder` as Lazarus does, checks its settings against the reference, and compares the logits.
    func checkAdapter(_ folder: String, reference name: String, label: String, model m: LoadedModel) throws -> PEFTReference {
        let ref = try PEFTReference.load(name)
        let adapters = try PEFTAdapterFiles.load(from: try introspectionFixture(folder), config: m.model.config)
        try adapters.validate(against: m.model.config, source: folder)
        #expect(ref.adapter.dir == folder)
        #expect(adapters.rank == ref.adapter.r && Double(adapters.alpha) == ref.adapter.lora_alpha)
        #expect(adapters.targets.map(\.rawValue).sorted() == ref.adapter.target_modules)
        let d = try compare(ref, adapters: adapters, model: m)
        print("\(label): base \(d.base), adapted \(d.adapted) (the adapter moves logits by up to \(d.moved))")
        #expect(d.moved > 0.05, "the adapter should change the logits for the comparison to mean anything")
        #expect(d.base <= 1e-3 && d.adapted <= 1e-3)
        return ref
    }

    /// An adapter Lazarus trained: PEFT's logits through it, and what Lazarus printed right after training
    /// (`logprobsName`) against PEFT's log-probabilities (logit − logsumexp).
    func checkTrainedAdapter(_ folder: String, reference name: String, logprobs logprobsName: String, label: String,
                             model m: LoadedModel) throws {
        let ref = try checkAdapter(folder, reference: name, label: label, model: m)
        let record = try JSONDecoder().decode(LazarusAdapterRecord.self,
                                              from: Data(contentsOf: try introspectionFixture(logprobsName)))
        #expect(record.prompts.map(\.prompt) == ref.prompts.map(\.text))
        var worstRecorded = 0.0
        for (reading, p) in zip(record.prompts, ref.prompts) {
            #expect(reading.token_ids == p.ids)
            #expect(reading.final_top.prefix(5).map(\.id) == p.adapted.top20.prefix(5).map { Int($0[0]) }, "\(p.text.debugDescription) top 5")
            // Both lists are top 20s: a near tie at the 20th place may swap one token in or out.
            let peft = Dictionary(p.adapted.top20.map { (Int($0[0]), $0[1] - p.adapted.logsumexp) }) { a, _ in a }
            let shared = reading.final_top.filter { peft[$0.id] != nil }
            #expect(shared.count >= reading.final_top.count - 1 && reading.final_top.count == 20)
            for top in shared { worstRecorded = max(worstRecorded, abs(top.logprob - peft[top.id]!)) }
        }
        print("\(label): Lazarus's recorded adapted log-probabilities vs PEFT: \(worstRecorded)")
        #expect(worstRecorded <= 1e-3)
    }

    @Test func peftSavedAdapterGivesPEFTsLogits() throws {
        _ = try checkAdapter("peft_adapter_r4", reference: "peft_reference.json", label: "PEFT adapter r4 in Lazarus vs PEFT",
                             model: try DefaultModel.get())
    }

    @Test func lazarusTrainedAdapterLoadsInPEFT() throws {
        try checkTrainedAdapter("lazarus_adapter_r8", reference: "lazarus_peft_reference.json", logprobs: "lazarus_adapter_logprobs.json",
                                label: "Lazarus-trained adapter r8 in PEFT vs Lazarus", model: try DefaultModel.get())
    }

    /// The tiny Gemma 3 (pre+post norms, GeGLU, QK-norm, windows) and Qwen2 (q/k/v biases), all seven projections.
    @Test(arguments: ["gemma3", "qwen2"])
    func familyAdaptersBothWays(family: String) throws {
        let m = try TinyFamilies.load("tiny_\(family)")
        #expect(m.model.config.architecture.rawValue == family)
        _ = try checkAdapter("peft_adapter_tiny_\(family)", reference: "peft_reference_tiny_\(family).json",
                             label: "PEFT adapter on tiny \(family) in Lazarus vs PEFT", model: m)
        try checkTrainedAdapter("lazarus_adapter_tiny_\(family)", reference: "lazarus_peft_reference_tiny_\(family).json",
                                logprobs: "lazarus_adapter_logprobs_tiny_\(family).json",
                                label: "Lazarus-trained adapter on tiny \(family) in PEFT vs Lazarus", model: m)
    }
}
