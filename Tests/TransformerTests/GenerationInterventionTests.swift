// Greedy generation with interventions against a reference loop without a KV cache (each step one full
// forward over prompt + generated tokens with the same edits): an edit at a prompt position acts in the
// prefill only, one without a position acts on every generated token too.
import Kernels
import LazarusTestSupport
import Testing
import Transformer

@Suite struct GenerationInterventionTests {
    let model = TransformerModel.random(config: TransformerModel.tinyAllFeaturesConfig, seed: 31)
    let prompts = [[3, 9, 14, 2, 7], [5, 1, 40]]

    func reference(_ interventions: [Intervention], maxTokens: Int) throws -> [[Int]] {
        try prompts.indices.map { b in
            var tokens = prompts[b], out: [Int] = []
            // One sequence at a time: the edits name batch entry b, which is entry 0 here.
            let mine = interventions.filter { $0.sequence == nil || $0.sequence == b }.map { iv -> Intervention in
                var copy = iv
                copy.sequence = nil
                return copy
            }
            for _ in 0..<maxTokens {
                let r = try model.forward([tokens], options: ForwardOptions(logits: .lastToken, interventions: mine))
                let next = TopK.argmax(r.logits, 0)
                out.append(next)
                tokens.append(next)
            }
            return out
        }
    }

    @Test func editsAtAPromptPositionAndAtEveryPositionMatchAFullForwardLoop() throws {
        let d = model.config.hiddenSize
        let steer = randomValues(d, seed: 5, range: -3...3)
        let cases: [[Intervention]] = [
            [],
            [Intervention(.residual(layer: 1), .add(steer))],
            [Intervention(.residual(layer: 0), .replace(randomValues(d, seed: 6, range: -2...2)), sequence: 0, position: 4),
             Intervention(.residual(layer: 0), .replace(randomValues(d, seed: 7, range: -2...2)), sequence: 1, position: 2)],
            [Intervention(.residual(layer: 2), .projectOut(randomValues(d, seed: 8)))],
        ]
        var outputs: [[[Int]]] = []
        for edits in cases {
            let generated = try model.generateGreedy(prompts: prompts, options: GenerationOptions(maxTokens: 6, interventions: edits))
            #expect(generated == (try reference(edits, maxTokens: 6)), "\(edits.count) edits")
            outputs.append(generated)
        }
        #expect(outputs[1] != outputs[0] && outputs[2] != outputs[0], "the edits must change what is generated, or the test shows nothing")
    }
}
