// The logit lens on a small random model and on the tiny model of every family: at the last layer it is the
// model's own distribution, and the task metrics count what they say they count.
import Introspection
import Kernels
import LazarusTestSupport
import Transformer
import Testing

@Suite struct LogitLensTests {
    let model = TransformerModel.random(config: TransformerModel.tinyTestConfig, seed: 11)
    let prompts = [[1, 2, 3, 4], [7, 7], [20, 21, 22, 23, 24, 25], [5]]

    /// The largest |lens − softmax(final logits)| at the last layer, after checking that the collector's
    /// final logits are the forward pass's own whatever the batching.
    func lastLayerLensDifference(_ model: TransformerModel, _ prompts: [[Int]]) throws -> Float {
        let states = try HiddenStateCollector.collect(model: model, prompts: prompts, batchSize: 3)
        let lens = LogitLens.probabilities(model: model, hidden: states.state(layer: model.config.layerCount - 1)!)
        var own = states.finalLogits
        Softmax.rows(&own)
        let direct = try model.forward(prompts, logits: .lastToken)
        for i in 0..<direct.logits.count { #expect(abs(direct.logits.values[i] - states.finalLogits.values[i]) < 1e-5) }
        return zip(lens.values, own.values).map { abs($0 - $1) }.max()!
    }

    @Test func lastLayerLensIsTheModelsNextTokenDistribution() throws {
        #expect(try lastLayerLensDifference(model, prompts) < 1e-5)
    }

    /// Every family's readout (Gemma's `1 + w` final norm, tied or untied unembedding, the soft-cap of
    /// tiny_gemma3_scaled) is the lens's; prompts up to 12 tokens cross the 8-token windows.
    @Test(arguments: TinyFamilies.names + ["tiny_gemma3_scaled"])
    func lastLayerLensIsTheModelsDistributionInEveryFamily(name: String) throws {
        let loaded = try TinyFamilies.load(name)
        let texts = ["7 * 8 =", "The capital of France is Paris", "Hello, world!", "12 + 30 = 42 and 5 * 6 = 30"]
        let ids = texts.map { loaded.tokenizer.encode($0) }
        #expect(ids.map(\.count).max()! > 8)
        let worst = try lastLayerLensDifference(loaded.model, ids)
        print("\(name): last-layer lens vs the model's distribution: \(worst)")
        #expect(worst < 1e-5)
    }

    @Test func metricsCountWhatTheySay() throws {
        let states = try HiddenStateCollector.collect(model: model, prompts: prompts)
        let layer = model.config.layerCount - 1
        let probs = LogitLens.probabilities(model: model, hidden: states.state(layer: layer)!)
        // Two "tasks", each named by one token id; labels chosen so we know the answers.
        let top = (0..<probs.rows).map { TopK.argmax(probs, $0) }
        let second = (0..<probs.rows).map { TopK.row(probs, $0, k: 2)[1].index }
        // Task 0 is each prompt's top token, task 1 its second: prompts labelled 0 are lens-correct and top-1.
        var words0: [LensTargetWord] = [], words1: [LensTargetWord] = []
        for r in 0..<probs.rows {
            words0.append(LensTargetWord(word: "t\(r)", tokenIds: [top[r]]))
            words1.append(LensTargetWord(word: "s\(r)", tokenIds: [second[r]]))
        }
        // Score one prompt at a time so each has its own vocabulary.
        for r in 0..<probs.rows {
            let single = PromptHiddenStates(layerIndices: [layer], states: [Elementwise.gatherRows(states.state(layer: layer)!, [r])],
                                            finalLogits: Elementwise.gatherRows(states.finalLogits, [r]))
            let vocab = TaskVocabulary(taskNames: ["a", "b"], words: [[words0[r]], [words1[r]]])
            let asA = LensMetrics.measure(model: model, states: single, labels: [0], vocabulary: vocab)[0]
            let asB = LensMetrics.measure(model: model, states: single, labels: [1], vocabulary: vocab)[0]
            #expect(asA.lensTaskAccuracy == 1 && asA.top1Rate == 1)
            #expect(asB.lensTaskAccuracy == 0 && asB.top1Rate == 0)
            #expect(abs(asA.meanTaskProb - Double(probs[r, top[r]])) < 1e-6)
            #expect(abs(asB.meanTaskProb - Double(probs[r, second[r]])) < 1e-6)
        }
    }
}

@Suite struct LensClassificationTests {
    /// Task 0's word outscores task 1's on every prompt (a frequent token): raw accuracy is the share of task 0,
    /// centring (means 5.5 and 2.5) recovers every prompt. By hand: centred rows (-0.5, -1.5), (0.5, -0.5),
    /// (-0.5, 0.5), (0.5, 1.5).
    @Test func centringRemovesAWordThatAlwaysWins() {
        let logits: [[Float]] = [[5, 1], [6, 2], [5, 3], [6, 4]]
        let r = LensMetrics.classify(logits, labels: [0, 0, 1, 1], tasks: 2)
        #expect(r.correct == [true, true, false, false])
        #expect(r.correctCentred == [true, true, true, true])
        #expect(r.confusion == [[2, 0], [2, 0]])
    }

    @Test func tiesAreNotWinsAndNonFiniteLogitsStayUncentred() {
        let r = LensMetrics.classify([[1, 1], [-.infinity, 0]], labels: [0, 1], tasks: 2)
        #expect(r.correct == [false, true])
        #expect(r.confusion == [[1, 0], [0, 1]])
        // Task 0's mean is -inf, so it stays uncentred; task 1 is centred by 0.5: row 0 becomes (1, 0.5).
        #expect(r.correctCentred == [true, true])
    }
}
