// The tuned lens against the reference implementation (the PyPI package tuned-lens 0.2.0, through
// tools/make_tuned_lens_reference.py): seeded translators on the tiny Llama, the package's log-probabilities
// at every position of every translated layer. Pins the translator convention (the package's h + W h + b is
// Lazarus's A h + b with A = I + W), the layer indexing (embed … L{n-2}) and the readout.
import Foundation
import Introspection
import Kernels
import Testing
import Transformer

@Suite struct TunedLensReferenceTests {
    struct Reference: Decodable {
        struct Layer: Decodable {
            var layer: String
            var logprobs: [[Double]]
        }
        var inputIds: [Int]
        var layers: [Layer]
        enum CodingKeys: String, CodingKey { case inputIds = "input_ids", layers }
    }

    @Test func matchesTheTunedLensPackage() throws {
        let folder = try introspectionFixture("tuned_lens_reference")
        let reference = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: folder.appendingPathComponent("reference.json")))
        let modelFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("TransformerTests/Fixtures/tiny_llama_hf")
        let model = try ModelLoader.load(modelFolder.path).model
        let lens = try TunedLensFiles.load(from: folder).lens
        try lens.validate(against: model.config, source: folder.path)
        #expect(reference.layers.map(\.layer) == lens.layers.map(LayerSelection.name))
        let hidden = try model.forward([reference.inputIds], capture: .allPositions, logits: .none).hidden
        var worst = 0.0
        for (i, layer) in lens.layers.enumerated() {
            var logProbs = lens.logits(model: model, hidden: hidden[layer + 1], layer: layer)
            Softmax.logRows(&logProbs)
            let expected = reference.layers[i].logprobs
            #expect(expected.count == logProbs.rows)
            for r in 0..<logProbs.rows {
                for v in 0..<logProbs.cols { worst = max(worst, abs(Double(logProbs[r, v]) - expected[r][v])) }
            }
            // The logit lens is a different reading: the translators are not the identity here.
            let plain = model.readout(hidden[layer + 1])
            #expect(plain != lens.logits(model: model, hidden: hidden[layer + 1], layer: layer))
        }
        #expect(worst < 1e-4, "largest log-probability difference \(worst)")
    }
}
