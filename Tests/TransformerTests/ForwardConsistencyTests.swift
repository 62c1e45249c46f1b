// Properties of the forward pass that need no reference file: batching, caching and capture agree with
// running each sequence alone, and the last captured layer read out gives the model's own logits.
import Kernels
import Transformer
import Testing

@Suite struct ForwardConsistencyTests {
    let model = TransformerModel.random(config: TransformerModel.tinyTestConfig, seed: 7)
    let sequences = [[1, 5, 9, 2, 33, 7, 7], [4, 4, 40], [12, 3, 8, 21, 30]]

    @Test func packedBatchEqualsEachSequenceAlone() throws {
        let batched = try model.forward(sequences, logits: .allPositions)
        for (b, seq) in sequences.enumerated() {
            let alone = try model.forward([seq], logits: .allPositions)
            for t in 0..<seq.count {
                for v in 0..<model.config.vocabularySize {
                    #expect(abs(batched.logits[batched.rowOffsets[b] + t, v] - alone.logits[t, v]) < 1e-5)
                }
            }
        }
    }

    @Test func lastTokenLogitsAreTheLastRowOfAllPositions() throws {
        let all = try model.forward(sequences, logits: .allPositions)
        let last = try model.forward(sequences, logits: .lastToken)
        for b in 0..<sequences.count {
            let row = all.rowOffsets[b] + sequences[b].count - 1
            for v in 0..<model.config.vocabularySize { #expect(abs(all.logits[row, v] - last.logits[b, v]) < 1e-6) }
        }
    }

    @Test func readoutOfLastLayerIsTheModelsOutput() throws {
        let r = try model.forward(sequences, capture: .lastToken, logits: .lastToken)
        #expect(r.hidden.count == model.config.layerCount + 1)
        let lens = model.readout(r.hidden[model.config.layerCount])
        for i in 0..<lens.count { #expect(abs(lens.values[i] - r.logits.values[i]) < 1e-5) }
    }

    @Test func kvCacheDecodingEqualsFullForward() throws {
        // Prefill the first k tokens, then feed the rest one at a time: logits must match the full pass.
        let seq = sequences[0]
        let full = try model.forward([seq], logits: .allPositions)
        var cache: KVCache? = KVCache(config: model.config, sequences: 1, capacity: seq.count)
        var step = try model.forward([Array(seq[0..<3])], adapters: nil, cache: &cache, capture: .none, logits: .lastToken, saveActivations: false)
        for t in 3..<seq.count {
            for v in 0..<model.config.vocabularySize { #expect(abs(step.logits[0, v] - full.logits[t - 1, v]) < 1e-4) }
            step = try model.forward([[seq[t]]], adapters: nil, cache: &cache, capture: .none, logits: .lastToken, saveActivations: false)
        }
        for v in 0..<model.config.vocabularySize { #expect(abs(step.logits[0, v] - full.logits[seq.count - 1, v]) < 1e-4) }
    }

    @Test func batchedGreedyGenerationEqualsOneAtATime() throws {
        let prompts = [[1, 2, 3], [9], [5, 6, 7, 8, 9, 10]]
        let together = try model.generateGreedy(prompts: prompts, options: GenerationOptions(maxTokens: 6))
        for (i, p) in prompts.enumerated() {
            let alone = try model.generateGreedy(prompts: [p], options: GenerationOptions(maxTokens: 6))[0]
            #expect(together[i] == alone)
        }
        // Greedy means each new token is the arg-max of a full forward over prompt + generated so far.
        let p = prompts[0]
        var context = p
        for id in together[0] {
            let r = try model.forward([context], logits: .lastToken)
            #expect(TopK.argmax(r.logits, 0) == id)
            context.append(id)
        }
    }

    @Test func stopTokenEndsASequence() throws {
        let first = try model.generateGreedy(prompts: [[1, 2, 3]], options: GenerationOptions(maxTokens: 5))[0]
        let stopped = try model.generateGreedy(prompts: [[1, 2, 3]], options: GenerationOptions(maxTokens: 5, stopTokens: [first[0]]))[0]
        #expect(stopped == [first[0]])
    }

    @Test func badTokenIsAnErrorNotACrash() {
        #expect(throws: ModelError.self) { try model.forward([[1, 999]]) }
        #expect(throws: ModelError.self) { try model.forward([[]]) }
    }

    @Test func qkPermutationRoundTrips() {
        let w = Matrix(rows: 16, cols: 3, values: (0..<48).map(Float.init))
        let there = QKPermutation.toLlamaCpp(w, heads: 2)
        #expect(there != w)
        #expect(QKPermutation.toHuggingFace(there, heads: 2) == w)
        // Head 0, Dh 8: llama.cpp row 1 (pair 0, second element) is Hugging Face row 4 (second half, index 0).
        #expect(there.row(1) == w.row(4))
    }
}
