// The paper's qualitative result (Belrose et al. 2023, fig. 2) on the default model: on held-out general
// text, a tuned lens is closer to the model's final distribution than the logit lens at every layer but
// the last, where both are the model's output. A short fit (3 steps of 2 × 32 tokens of the committed
// fortunes sample) is enough to show it; the full fit is in docs/results/tuned_lens/.
import Foundation
import Introspection
import LazarusTestSupport
import Testing
import Transformer

@Suite struct DefaultModelTunedLensTests {
    @Test func tunedLensIsCloserToTheFinalDistributionThanTheLogitLensAtEveryLayerButTheLast() throws {
        let m = try DefaultModel.get()
        let text = try String(contentsOf: try introspectionFixture("corpus/fortunes_literature_sample.txt"), encoding: .utf8)
        var o = TunedLensTrainingOptions()
        o.steps = 3
        o.batchSequences = 2
        o.sequenceLength = 32
        let corpus = try TunedLensCorpus(text: text, tokenizer: m.tokenizer, sequenceLength: o.sequenceLength)
        let bos = m.tokenizer.addsBosToken ? m.tokenizer.bosTokenId : nil
        let (lens, losses) = try TunedLensTraining.train(model: m.model, corpus: corpus, bos: bos, options: o)
        #expect(losses.last! < losses.first!, "training losses \(losses)")
        let kl = try TunedLensTraining.evaluate(model: m.model, lens: lens, sequences: corpus.heldOut, bos: bos)
        #expect(kl.count == m.model.config.layerCount + 1)
        // Measured with these settings: the smallest gap is at L28 (2.03 → 1.99 nats, 2.1%); elsewhere 12–50%.
        // Asserting 1% keeps half of the smallest gap as margin.
        for l in kl.dropLast() {
            #expect(l.tuned < 0.99 * l.logit, "\(l.layer): tuned-lens KL \(l.tuned) vs logit-lens KL \(l.logit)")
        }
        let last = try #require(kl.last)
        #expect(last.tuned == last.logit && last.logit < 1e-4, "the last layer is the model's output: \(last)")
    }
}
