// The tuned lens: identity translators are the logit lens bit for bit; the translator gradient against
// central finite differences (through the soft-capped readout); training lowers held-out KL on a tiny
// model; a saved lens loads to the same outputs; and, on the default model, the paper's result on held-out
// general text: the tuned lens is closer to the final distribution than the logit lens at every layer but the last.
import Foundation
import Introspection
import Kernels
import LazarusTestSupport
import Optimization
import Testing
import Transformer

@Suite struct TunedLensTests {
    static func randomSequences(_ count: Int, length: Int, vocabulary: Int, seed: UInt64) -> [[Int]] {
        var g = SeededRandom(seed: seed)
        return (0..<count).map { _ in (0..<length).map { _ in g.below(vocabulary) } }
    }

    @Test func identityTranslatorsAreTheLogitLensExactly() throws {
        let model = TransformerModel.random(config: TransformerModel.tinyAllFeaturesConfig, seed: 5)
        let r = try model.forward(Self.randomSequences(2, length: 6, vocabulary: 48, seed: 1), capture: .allPositions, logits: .none)
        let lens = TunedLens.identity(for: model.config)
        #expect(lens.layers == Array(-1..<(model.config.layerCount - 1)))
        for layer in -1..<model.config.layerCount {
            let h = r.hidden[layer + 1]
            #expect(lens.logits(model: model, hidden: h, layer: layer) == model.readout(h), "layer \(layer)")
            #expect(LensChoice.tuned(lens, folder: "-").prepare(h, layer: layer) == LensChoice.logit.prepare(h, layer: layer))
        }
    }

    @Test func translatorGradientMatchesFiniteDifferences() throws {
        // The all-features model has a soft-capped readout, so the cap's derivative is inside the check.
        let model = TransformerModel.random(config: TransformerModel.tinyAllFeaturesConfig, seed: 9)
        let d = model.config.hiddenSize
        let r = try model.forward(Self.randomSequences(2, length: 5, vocabulary: 48, seed: 2), capture: .allPositions, logits: .allPositions)
        var logP = r.logits
        Softmax.logRows(&logP)
        let h = r.hidden[1]
        var eye = [Float](repeating: 0, count: d * d)
        for i in 0..<d { eye[i * d + i] = 1 }
        let perturbation = randomValues(d * d + d, seed: 3, range: -0.2...0.2)
        let x = zip(eye + [Float](repeating: 0, count: d), perturbation).map { $0 + $1 }
        func split(_ x: [Float]) -> (Matrix, [Float]) { (Matrix(rows: d, cols: d, values: Array(x[..<(d * d)])), Array(x[(d * d)...])) }
        let (a, b) = split(x)
        let analytic = TunedLens.lossAndGradient(model: model, weight: a, bias: b, hidden: h, targetLogProbabilities: logP)
        #expect(analytic.loss > 1e-3, "the loss must not be at its minimum, or every gradient is zero")
        var g = SeededRandom(seed: 4)
        let indices = (0..<48).map { _ in g.below(d * d) } + Array((d * d)..<(d * d + d))
        let numeric = try numericalGradient(x, at: indices, step: 1e-2) { x in
            let (a, b) = split(x)
            return TunedLens.lossAndGradient(model: model, weight: a, bias: b, hidden: h, targetLogProbabilities: logP).loss
        }
        let flat = analytic.dWeight.values + analytic.dBias
        let error = relativeError(indices.map { Double(flat[$0]) }, numeric)
        #expect(error < 2e-3, "relative error \(error)")
    }

    @Test func trainingLowersHeldOutKLAndASavedLensGivesTheSameOutputs() throws {
        let model = TransformerModel.random(config: TransformerModel.tinyTestConfig, seed: 11)
        let corpus = TunedLensCorpus(training: Self.randomSequences(24, length: 12, vocabulary: 48, seed: 6),
                                     heldOut: Self.randomSequences(6, length: 12, vocabulary: 48, seed: 7))
        var o = TunedLensTrainingOptions()
        o.steps = 30
        o.learningRate = 1e-2
        let (lens, losses) = try TunedLensTraining.train(model: model, corpus: corpus, bos: nil, options: o)
        #expect(losses.count == 30)
        let first: Double = losses.prefix(5).reduce(0, +), last: Double = losses.suffix(5).reduce(0, +)
        #expect(last < 0.5 * first, "training losses \(losses)")
        let kl = try TunedLensTraining.evaluate(model: model, lens: lens, sequences: corpus.heldOut, bos: nil)
        #expect(kl.count == model.config.layerCount + 1)
        for l in kl.dropLast() { #expect(l.tuned < l.logit, "\(l.layer): tuned \(l.tuned) vs logit \(l.logit)") }
        #expect(kl.last!.tuned == kl.last!.logit, "the last layer has no translator")

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tuned-lens-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try TunedLensFiles.save(lens, to: folder, model: "tiny", training: nil)
        let loaded = try TunedLensFiles.load(from: folder)
        #expect(loaded.lens == lens)
        #expect(loaded.config.layers.first == "embed")
        let h = try model.forward([corpus.heldOut[0]], capture: .allPositions, logits: .none).hidden[2]
        #expect(loaded.lens.logits(model: model, hidden: h, layer: 1) == lens.logits(model: model, hidden: h, layer: 1))
        #expect(loaded.lens.logits(model: model, hidden: h, layer: 1) != model.readout(h), "a trained translator is not the identity")
    }

    @Test func aLensAppliesToCollectedStatesLayerByLayer() throws {
        let model = TransformerModel.random(config: TransformerModel.tinyTestConfig, seed: 12)
        let states = try HiddenStateCollector.collect(model: model, prompts: Self.randomSequences(3, length: 5, vocabulary: 48, seed: 8))
        var lens = TunedLens.identity(for: model.config)
        lens.biases[1] = randomValues(model.config.hiddenSize, seed: 9)
        #expect(LensChoice.logit.apply(to: states).states == states.states)
        let tuned = LensChoice.tuned(lens, folder: "-").apply(to: states)
        for (i, layer) in states.layerIndices.enumerated() {
            #expect(tuned.states[i] == lens.translate(states.states[i], layer: layer))
            #expect((tuned.states[i] == states.states[i]) == (layer != 0), "only L0's translator moves its states")
        }
        #expect(tuned.finalLogits == states.finalLogits)
    }

    @Test func aLensForAnotherModelIsRefused() throws {
        let lens = TunedLens.identity(hiddenSize: 16, layerCount: 3)
        #expect(throws: TunedLensError.self) { try lens.validate(against: TransformerModel.tinyTestConfig, source: "x") }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tuned-lens-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try TunedLensFiles.save(lens, to: folder, model: "m", training: nil)
        #expect(throws: TunedLensError.self) { try LensChoice.parse("tuned:\(folder.path)", config: TransformerModel.tinyTestConfig) }
        #expect(throws: IntrospectionError.self) { try LensChoice.parse("tuned", config: TransformerModel.tinyTestConfig) }
        #expect(try LensChoice.parse("logit", config: TransformerModel.tinyTestConfig) == .logit)
        // A config whose width disagrees with the tensors: the tensor's shape is named, nothing is read past it.
        let json = folder.appendingPathComponent(TunedLensFiles.configFileName)
        let text = try String(contentsOf: json, encoding: .utf8).replacingOccurrences(of: "\"hidden_size\" : 16", with: "\"hidden_size\" : 17")
        try Data(text.utf8).write(to: json)
        #expect(throws: TunedLensError.self) { try TunedLensFiles.load(from: folder) }
    }
}
