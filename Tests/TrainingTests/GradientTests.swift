// The backward pass against central finite differences: cross-entropy alone, then every LoRA
// parameter of a whole tiny GQA model with all seven projections adapted, over a packed batch of
// sequences of different lengths with masked positions.
import Kernels
import Transformer
import Testing
import Optimization
import Training
import LazarusTestSupport

@Suite struct GradientTests {
    @Test func crossEntropyBackwardMatchesFiniteDifferences() {
        var rng = SeededRandom(seed: 3)
        let logits = Matrix(rows: 3, cols: 7, values: (0..<21).map { _ in rng.uniform(-3, 3) })
        let targets = [2, 6, 0]
        let (loss, dLogits) = CrossEntropy.lossAndGradient(logits: logits, targets: targets)
        let summed = CrossEntropy.loss(logits: logits, targets: targets)
        #expect(abs(loss - summed.sum / 3) < 1e-6)
        let numeric = numericalGradient(logits.values, at: Array(0..<21), step: 1e-2) { x in
            CrossEntropy.loss(logits: Matrix(rows: 3, cols: 7, values: x), targets: targets).sum / 3
        }
        #expect(relativeError(dLogits.values.map(Double.init), numeric) < 1e-3)
    }

    @Test func crossEntropyIsStableForHugeLogits() {
        let logits = Matrix(rows: 1, cols: 3, values: [1e4, 0, -1e4])
        let (loss, d) = CrossEntropy.lossAndGradient(logits: logits, targets: [1])
        #expect(abs(loss - 1e4) < 1e-2)
        #expect(d.values.allSatisfy { $0.isFinite })
    }

    @Test func wholeModelLoRAGradientsMatchFiniteDifferences() throws {
        let config = TransformerModel.tinyTestConfig // GQA: 4 query heads share 2 key-value heads
        let model = TransformerModel.random(config: config, seed: 11)
        let settings = LoRASettings(rank: 2, alpha: 6, targets: Projection.linearModules)
        let layout = LoRAParameterLayout(config: config, settings: settings)
        // B random as well as A, so that both receive a gradient.
        var rng = SeededRandom(seed: 5)
        let parameters = (0..<layout.count).map { _ in rng.uniform(-0.3, 0.3) }
        let batch = [
            TrainingExample(tokens: [1, 5, 9, 2, 33, 7, 7], lossMask: [false, false, false, true, true, false, true]),
            TrainingExample(tokens: [4, 40, 4]),
            TrainingExample(tokens: [12, 3, 8, 21, 30, 45, 2, 19, 6], lossMask: [false, true, true, true, false, true, true, true, true]),
        ]
        let analytic = try LoRAGradients.lossAndGradients(model: model, adapters: layout.adapters(from: parameters), batch: batch)
        #expect(analytic.targetCount == 3 + 2 + 7)
        let gradient = layout.flatten(analytic.gradients).map(Double.init)
        let numeric = try numericalGradient(parameters, at: Array(0..<layout.count), step: 3e-3) { x in
            let r = try LoRAGradients.lossSum(model: model, adapters: layout.adapters(from: x), batch: batch)
            return r.sum / Double(r.count)
        }
        // Step 3e-3: at 1e-2 the truncation error of v_proj A already reaches 1e-2; here every type stays
        // under 1.5e-3, and a wrong sign or a missing term gives errors of order 1.
        expectGradientsMatch(gradient, numeric, layout: layout, "Llama", smallest: 1e-4)
    }

    @Test func zeroBLeavesLogitsUnchanged() throws {
        let model = TransformerModel.random(config: TransformerModel.tinyTestConfig, seed: 2)
        let adapters = LoRAInitialisation.adapters(config: model.config, settings: LoRASettings(rank: 4, alpha: 8, targets: Projection.linearModules), seed: 9)
        let seqs = [[3, 1, 4, 1, 5], [9, 2, 6]]
        let base = try model.forward(seqs, logits: .allPositions)
        let adapted = try model.forward(seqs, adapters: adapters, logits: .allPositions)
        #expect(base.logits == adapted.logits)
    }

    @Test func peftInitialisationBounds() {
        let config = TransformerModel.tinyTestConfig
        let settings = LoRASettings(rank: 8, alpha: 16, targets: [.query, .down])
        let adapters = LoRAInitialisation.adapters(config: config, settings: settings, seed: 1)
        for layer in adapters.layers {
            for (p, ad) in layer {
                let bound = 1 / Float(p.shape(config)[1]).squareRoot()
                #expect(ad.a.values.allSatisfy { abs($0) <= bound })
                #expect(ad.a.values.map(abs).max()! > 0.9 * bound)  // spread over the whole interval
                #expect(ad.b.values.allSatisfy { $0 == 0 })
                #expect(ad.scale == 2)
            }
        }
        // Seeded: the same seed gives the same A, another seed another.
        let again = LoRAInitialisation.adapters(config: config, settings: settings, seed: 1)
        let other = LoRAInitialisation.adapters(config: config, settings: settings, seed: 2)
        #expect(again.layers[1][.down]!.a == adapters.layers[1][.down]!.a)
        #expect(other.layers[1][.down]!.a != adapters.layers[1][.down]!.a)
    }
}
