// The default model (SmolLM2-135M-Instruct, GGUF Q4_1) against Hugging Face transformers in float32 on the
// same file (tools/make_llama_reference.py wrote the fixture): final logits within 1e-3, the residual
// stream at every layer, and greedy continuations token for token.
import Foundation
import Kernels
import Transformer
import Testing
import LazarusTestSupport

struct SmolLM2Reference: Decodable {
    struct Final: Decodable {
        var logsumexp: Double
        var top20: [[Double]]
        var fixed_logits: [Double]
    }
    struct Hidden: Decodable {
        struct Normed: Decodable { var l2_norm: Double; var first8: [Double] }
        var l2_norm: [Double]
        var first8: [[Double]]
        var final_normed: Normed
    }
    struct Prompt: Decodable {
        var text: String
        var ids: [Int]
        var final: Final
        var hidden_last: Hidden
    }
    struct Greedy: Decodable {
        var text: String
        var ids: [Int]
        var max_new_tokens: Int
        var new_ids: [Int]
    }
    var layers: [String]
    var fixed_ids: [Int]
    var prompts: [Prompt]
    var greedy: [Greedy]

    static func load() throws -> SmolLM2Reference {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/smollm2_reference.json", withExtension: nil))
        return try JSONDecoder().decode(SmolLM2Reference.self, from: Data(contentsOf: url))
    }
}


@Suite struct ReferenceModelTests {
    @Test func finalLogitsMatchTransformers() throws {
        let m = try DefaultModel.get()
        let ref = try SmolLM2Reference.load()
        var worst: Float = 0
        for p in ref.prompts {
            #expect(m.tokenizer.encode(p.text) == p.ids, "token ids of \(p.text.debugDescription)")
            let logits = try m.model.forward([p.ids], logits: .lastToken).logits
            let row = Array(logits.values[0..<logits.cols])
            for (id, expected) in zip(ref.fixed_ids, p.final.fixed_logits) {
                worst = max(worst, abs(row[id] - Float(expected)))
            }
            for pair in p.final.top20 { worst = max(worst, abs(row[Int(pair[0])] - Float(pair[1]))) }
            // The same ranking at the top.
            let top = TopK.row(logits, 0, k: 5).map(\.index)
            #expect(top == p.final.top20.prefix(5).map { Int($0[0]) }, "\(p.text.debugDescription)")
            let lse = Softmax.logSumExp(row)
            #expect(abs(lse - p.final.logsumexp) < 1e-3, "\(p.text.debugDescription) logsumexp \(lse) vs \(p.final.logsumexp)")
        }
        print("SmolLM2 vs transformers: largest final-logit difference \(worst)")
        #expect(worst < 1e-3, "largest logit difference \(worst)")
    }

    @Test func residualStreamMatchesAtEveryLayer() throws {
        let m = try DefaultModel.get()
        let ref = try SmolLM2Reference.load()
        #expect(ref.layers == m.model.layerNames)
        var worstNorm = 0.0, worstValue = 0.0   // relative to the layer's norm, for the report
        for p in ref.prompts {
            let r = try m.model.forward([p.ids], capture: .lastToken, logits: .lastToken)
            for (l, name) in ref.layers.enumerated() {
                let h = r.hidden[l].values
                let norm = sqrt(h.reduce(0) { $0 + Double($1) * Double($1) })
                worstNorm = max(worstNorm, abs(norm - p.hidden_last.l2_norm[l]) / p.hidden_last.l2_norm[l])
                for (j, v) in p.hidden_last.first8[l].enumerated() { worstValue = max(worstValue, abs(Double(h[j]) - v) / p.hidden_last.l2_norm[l]) }
                // Relative to the state's size: late layers carry norms in the hundreds.
                #expect(abs(norm - p.hidden_last.l2_norm[l]) <= 1e-4 * p.hidden_last.l2_norm[l] + 1e-4, "\(p.text.debugDescription) \(name) norm")
                for (j, v) in p.hidden_last.first8[l].enumerated() {
                    #expect(abs(Double(h[j]) - v) <= 1e-4 * p.hidden_last.l2_norm[l] + 1e-5, "\(p.text.debugDescription) \(name)[\(j)]")
                }
            }
            // The final norm applied to L29 is what transformers' last hidden state holds.
            let normed = RMSNorm.forward(r.hidden[ref.layers.count - 1], weight: m.model.weights.finalNorm, eps: m.model.config.rmsNormEps)
            for (j, v) in p.hidden_last.final_normed.first8.enumerated() { #expect(abs(Double(normed.values[j]) - v) < 1e-4) }
        }
        print("SmolLM2 residual stream vs transformers: largest relative norm difference \(worstNorm), largest value difference / norm \(worstValue)")
    }

    @Test func greedyContinuationsMatchTransformers() throws {
        let m = try DefaultModel.get()
        let ref = try SmolLM2Reference.load()
        for g in ref.greedy {
            let out = try m.model.generateGreedy(prompts: [g.ids], options: GenerationOptions(maxTokens: g.max_new_tokens, stopTokens: [2]))[0]
            #expect(out == g.new_ids, "\(g.text.debugDescription): \(m.tokenizer.decode(out).debugDescription)")
        }
        // All four at once, in one batch with the KV cache, give the same tokens.
        let batched = try m.model.generateGreedy(prompts: ref.greedy.map(\.ids),
                                                 options: GenerationOptions(maxTokens: ref.greedy.map(\.max_new_tokens).max()!, stopTokens: [2]))
        for (g, out) in zip(ref.greedy, batched) { #expect(Array(out.prefix(g.new_ids.count)) == g.new_ids) }
    }
}
