// The logit lens on the default model against transformers (lens_reference.json, tools/make_llama_reference.py):
// target-word probabilities and log-probabilities at embed, L0 … L29, the token ids used, the arg-max, and the
// docs/SPEC.md §5 metrics; and the lens at the last layer against the model's own next-token distribution.
import Foundation
import Introspection
import Kernels
import Transformer
import Testing
import LazarusTestSupport

struct LensReference: Decodable {
    struct Target: Decodable {
        var forms: [String]
        var first_token_ids: [Int]
    }
    struct Prompt: Decodable {
        var text: String
        var ids: [Int]
        var task: String
        /// logprobs[word][layer] = [lp(first token of each form)]
        var logprobs: [String: [[Double]]]
        /// top1[layer] = [arg-max id, its logprob]
        var top1: [[Double]]
    }
    struct Metrics: Decodable {
        var mean_task_prob: [Double]
        var lens_task_accuracy: [Double]
        var top1_rate: [Double]
    }
    var layers: [String]
    var targets: [String: Target]
    var prompts: [Prompt]
    var metrics: Metrics

    static func load() throws -> LensReference {
        try JSONDecoder().decode(LensReference.self, from: Data(contentsOf: try introspectionFixture("lens_reference.json")))
    }

    /// The words in a fixed order (JSON objects have none).
    var words: [String] { targets.keys.sorted() }
}

@Suite struct LensReferenceTests {
    @Test func targetWordsUseTheFixturesTokenIds() throws {
        let m = try DefaultModel.get()
        let ref = try LensReference.load()
        for (word, target) in ref.targets {
            let lens = try LensTargetWord(word: word, tokenizer: m.tokenizer)
            #expect(lens.forms == target.forms, "\(word) forms")
            #expect(lens.tokenIds == target.first_token_ids, "\(word) token ids")
        }
        for p in ref.prompts { #expect(m.tokenizer.encode(p.text) == p.ids, "ids of \(p.text.debugDescription)") }
    }

    @Test func sweepProbabilitiesMatchTransformersAtEveryLayer() throws {
        let m = try DefaultModel.get()
        let ref = try LensReference.load()
        #expect(ref.layers == m.model.layerNames)
        let layers = Array(-1..<m.model.config.layerCount)
        let report = try LogitLensSweep.run(model: m.model, tokenizer: m.tokenizer, prompts: ref.prompts.map(\.text),
                                            targets: ref.words, layers: layers, topK: 1, modelName: "default")
        var worstProb = 0.0, worstTop1Prob = 0.0
        for (p, reading) in zip(ref.prompts, report.prompts) {
            #expect(reading.tokenIds == p.ids)
            #expect(reading.layers.map(\.name) == ref.layers)
            for (l, layer) in reading.layers.enumerated() {
                for word in ref.words {
                    let target = try #require(layer.targets[word])
                    #expect(target.tokenIds == ref.targets[word]!.first_token_ids)
                    let expected = try #require(p.logprobs[word]?[l]).map { exp($0) }.max()!
                    worstProb = max(worstProb, abs(target.prob - expected))
                }
                let top = try #require(layer.top.first)
                #expect(top.id == Int(p.top1[l][0]), "\(p.text.debugDescription) \(layer.name) arg-max")
                worstTop1Prob = max(worstTop1Prob, abs(top.prob - exp(p.top1[l][1])))
            }
        }
        print("lens vs transformers: largest target-word probability difference \(worstProb), arg-max probability \(worstTop1Prob)")
        #expect(worstProb <= 1e-3 && worstTop1Prob <= 1e-3)
    }

    /// Most of these probabilities are below 1e-10, where an absolute tolerance says nothing: compared as
    /// log-probabilities, which the final-logit tolerance of 1e-3 (ReferenceModelTests) bounds by about twice that.
    @Test func targetLogProbabilitiesMatchTransformersAtEveryLayer() throws {
        let m = try DefaultModel.get()
        let ref = try LensReference.load()
        let states = try HiddenStateCollector.collect(model: m.model, prompts: ref.prompts.map(\.ids))
        var worst = 0.0, worstLayer = ""
        for (i, layer) in states.layerIndices.enumerated() {
            var logProbs = m.model.readout(states.states[i])
            Softmax.logRows(&logProbs)
            for (r, p) in ref.prompts.enumerated() {
                for word in ref.words {
                    for (id, expected) in zip(ref.targets[word]!.first_token_ids, p.logprobs[word]![i]) {
                        let d = abs(Double(logProbs[r, id]) - expected)
                        if d > worst { (worst, worstLayer) = (d, LayerSelection.name(layer)) }
                    }
                }
                let d = abs(Double(logProbs[r, Int(p.top1[i][0])]) - p.top1[i][1])
                if d > worst { (worst, worstLayer) = (d, LayerSelection.name(layer)) }
            }
        }
        print("lens vs transformers: largest log-probability difference \(worst) (at \(worstLayer))")
        #expect(worst <= 2e-3, "largest log-probability difference \(worst) at \(worstLayer)")
    }

    @Test func metricsMatchTransformers() throws {
        let m = try DefaultModel.get()
        let ref = try LensReference.load()
        let words = ref.words
        let vocabulary = TaskVocabulary(taskNames: words, words: try words.map { [try LensTargetWord(word: $0, tokenizer: m.tokenizer)] })
        let labels = try ref.prompts.map { p in try #require(words.firstIndex(of: p.task)) }
        let states = try HiddenStateCollector.collect(model: m.model, prompts: ref.prompts.map(\.ids))
        let metrics = LensMetrics.measure(model: m.model, states: states, labels: labels, vocabulary: vocabulary)
        #expect(metrics.map(\.name) == ref.layers)
        var worstRelative = 0.0
        for (l, got) in metrics.enumerated() {
            let expected = ref.metrics.mean_task_prob[l]
            #expect(abs(got.meanTaskProb - expected) <= 1e-3, "\(got.name) mean_task_prob")
            // Relative, as the log-probability tolerance allows; below float32's normal range only the absolute check.
            if expected > 1e-37 { worstRelative = max(worstRelative, abs(got.meanTaskProb / expected - 1)) }
            #expect(got.lensTaskAccuracy == ref.metrics.lens_task_accuracy[l], "\(got.name) lens_task_accuracy")
            #expect(got.top1Rate == ref.metrics.top1_rate[l], "\(got.name) top1_rate")
        }
        print("lens metrics vs transformers: mean_task_prob largest relative difference \(worstRelative)")
        #expect(worstRelative <= 5e-3)
    }

    @Test func lastLayerLensIsTheModelsOwnDistribution() throws {
        let m = try DefaultModel.get()
        let ref = try LensReference.load()
        let last = m.model.config.layerCount - 1
        let states = try HiddenStateCollector.collect(model: m.model, prompts: ref.prompts.map(\.ids))
        let lens = LogitLens.probabilities(model: m.model, hidden: try #require(states.state(layer: last)))
        var worst: Float = 0
        for (r, p) in ref.prompts.enumerated() {
            // Each prompt alone, no batching or padding: the model's own next-token distribution.
            var own = try m.model.forward([p.ids], logits: .lastToken).logits
            Softmax.rows(&own)
            for v in 0..<own.cols { worst = max(worst, abs(lens[r, v] - own[0, v])) }
        }
        print("lens at L\(last) vs the model's next-token distribution: largest probability difference \(worst)")
        #expect(worst <= 1e-5)
    }
}
