// The real Gemma 3 270M GGUF (Q4_K_M, dequantised to float32) against transformers on the same file
// (tools/make_gemma_reference.py wrote Fixtures/gemma3_270m_reference.json): token ids from Lazarus's own
// tokenizer, last-position log-probabilities within 1e-3 (docs/SPEC.md §3), the residual stream's norm after
// every layer, and greedy continuations; one prompt (618 tokens) is longer than the 512-token window.
// Skipped where the GGUF is not installed (scripts/bootstrap.sh --gemma).
import Foundation
import Kernels
import Testing
import Transformer

struct Gemma3ModelReference: Decodable {
    struct Final: Decodable {
        var logsumexp: Double
        var top64: [[Double]]
        var fixed_logprobs: [Double]
    }
    struct Greedy: Decodable { var new_ids: [Int] }
    struct Prompt: Decodable {
        var text: String
        var ids: [Int]
        var final: Final
        var hidden_last_l2: [Double]
        var greedy: Greedy
    }
    var layers: [String]
    var fixed_ids: [Int]
    var prompts: [Prompt]
}

@Suite struct Gemma3ModelReferenceTests {
    @Test("Gemma 3 270M matches transformers: ids, log-probs, residual norms, greedy tokens",
          .enabled(if: TokenizerLoadingTests.gemmaURL != nil, "the Gemma 3 GGUF is not installed: run scripts/bootstrap.sh --gemma"))
    func gemma270M() throws {
        let url = try #require(TokenizerLoadingTests.gemmaURL)
        let fixture = try #require(Bundle.module.url(forResource: "Fixtures/gemma3_270m_reference", withExtension: "json"))
        let reference = try JSONDecoder().decode(Gemma3ModelReference.self, from: Data(contentsOf: fixture))
        let clock = ContinuousClock()
        var loaded: LoadedModel?
        let loadTime = try clock.measure { loaded = try ModelLoader.load(url.path) }
        let m = try #require(loaded)
        #expect(reference.layers == ["embed"] + (0..<m.model.config.layerCount).map { "L\($0)" })
        var worstLogprob = 0.0, worstNorm = 0.0
        for p in reference.prompts {
            #expect(m.tokenizer.encode(p.text) == p.ids, "ids of \(p.text.prefix(40).debugDescription)")
            let r = try m.model.forward([p.ids], capture: .lastToken, logits: .lastToken)
            let row = (0..<r.logits.cols).map { Double(r.logits[0, $0]) }
            let peak = row.max()!
            let lse = peak + log(row.reduce(0) { $0 + exp($1 - peak) })
            for (id, expected) in zip(reference.fixed_ids, p.final.fixed_logprobs) { worstLogprob = max(worstLogprob, abs(row[id] - lse - expected)) }
            for pair in p.final.top64 { worstLogprob = max(worstLogprob, abs(row[Int(pair[0])] - lse - pair[1])) }
            #expect(TopK.argmax(r.logits, 0) == Int(p.final.top64[0][0]), "\(p.text.prefix(40).debugDescription): arg-max")
            #expect(r.hidden.count == p.hidden_last_l2.count)
            for (layer, expected) in zip(r.hidden, p.hidden_last_l2) {
                let norm = layer.row(0).reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
                worstNorm = max(worstNorm, abs(norm - expected) / expected)
            }
            let greedy = try m.model.generateGreedy(prompts: [p.ids], options: GenerationOptions(maxTokens: p.greedy.new_ids.count))
            #expect(greedy[0] == p.greedy.new_ids, "\(p.text.prefix(40).debugDescription): greedy")
        }
        print("Gemma 3 270M vs transformers: log-prob \(worstLogprob), residual norm (relative) \(worstNorm); loaded in \(loadTime)")
        #expect(worstLogprob < 1e-3)
        #expect(worstNorm < 1e-3)
    }
}
