// The vocabulary objective's gradient: LoRAGradients with a lens objective (answer loss + λ · CE of the logit lens
// at layer k, read at one position per example) against central finite differences of the same loss computed
// apart (a capturing forward, the readout and cross-entropy, no backward); the lens term's own share (total minus
// the answer-only gradient) against the differences of λ · lensLoss alone; λ = 0 equal to plain fine-tuning; and
// the trainer lowering the lens loss when λ > 0.
import Kernels
import LazarusTestSupport
import Optimization
import Testing
import Training
import Transformer

@Suite struct LensObjectiveGradientTests {
    let config = TransformerModel.tinyAllFeaturesConfig
    let model: TransformerModel
    let layout: LoRAParameterLayout
    let parameters: [Float]
    let batch: [TrainingExample]

    init() {
        model = TransformerModel.random(config: config, seed: 21)
        layout = LoRAParameterLayout(config: config, settings: LoRASettings(rank: 2, alpha: 6, targets: Projection.linearModules))
        var rng = SeededRandom(seed: 8)
        parameters = (0..<layout.count).map { _ in rng.uniform(-0.3, 0.3) }
        var a = TrainingExample(tokens: [1, 5, 9, 2, 33, 7, 7, 12])
        a.lensTarget = LensTarget(position: 4, token: 3)
        var b = TrainingExample(tokens: [4, 40, 4, 19, 3])
        b.lensTarget = LensTarget(position: 2, token: 17)
        // An example without a target: it adds to the answer loss only.
        batch = [a, b, TrainingExample(tokens: [6, 6, 2, 8])]
    }

    /// The unweighted lens loss by another road: hidden states captured by the forward pass, read through the readout.
    func lensLoss(_ adapters: LoRAAdapters, layer k: Int) throws -> Double {
        let r = try model.forward(batch.map(\.tokens), adapters: adapters, options: ForwardOptions(capture: .allPositions, logits: .none))
        let read = batch.indices.compactMap { b in batch[b].lensTarget.map { (row: r.rowOffsets[b] + $0.position, token: $0.token) } }
        let h = Elementwise.gatherRows(r.hidden[k + 1], read.map(\.row))
        return CrossEntropy.lossAndGradient(logits: model.readout(h), targets: read.map(\.token)).loss
    }

    func answerLoss(_ adapters: LoRAAdapters) throws -> Double {
        let r = try LoRAGradients.lossSum(model: model, adapters: adapters, batch: batch)
        return r.sum / Double(r.count)
    }

    @Test(arguments: [1, 2]) func theLensTermMatchesFiniteDifferences(layer k: Int) throws {
        let lambda = 0.7
        let adapters = layout.adapters(from: parameters)
        let total = try LoRAGradients.lossAndGradients(model: model, adapters: adapters, batch: batch, lens: LensObjective(layer: k, weight: lambda))
        let answer = try LoRAGradients.lossAndGradients(model: model, adapters: adapters, batch: batch)
        #expect(abs(total.loss - answer.loss) < 1e-12, "the answer loss is the same with the lens term")
        #expect(abs(try #require(total.lensLoss) - (try lensLoss(adapters, layer: k))) < 1e-5)
        let g = layout.flatten(total.gradients).map(Double.init)
        let gAnswer = layout.flatten(answer.gradients).map(Double.init)
        // The step is 1e-3, as for the other checks on this model (QK-norm and the soft-cap curve it).
        let numericLens = try numericalGradient(parameters, step: 1e-3) { x in lambda * (try lensLoss(layout.adapters(from: x), layer: k)) }
        let numericTotal = try numericalGradient(parameters, step: 1e-3) { x in
            let a = layout.adapters(from: x)
            return try answerLoss(a) + lambda * (try lensLoss(a, layer: k))
        }
        let lensShare = zip(g, gAnswer).map { $0 - $1 }
        // Adapters above layer k cannot reach its residual stream: the lens term leaves them alone, exactly.
        let above = layout.slots.filter { $0.layer > k }.flatMap { s in
            Array(s.aOffset..<(s.aOffset + s.aShape[0] * s.aShape[1])) + Array(s.bOffset..<(s.bOffset + s.bShape[0] * s.bShape[1]))
        }
        #expect(above.allSatisfy { lensShare[$0] == 0 && abs(numericLens[$0]) < 1e-6 })
        let below = Array(Set(0..<layout.count).subtracting(above)).sorted()
        let lensError = relativeError(below.map { lensShare[$0] }, below.map { numericLens[$0] })
        let totalError = relativeError(g, numericTotal)
        print("lens objective FD at L\(k): lens term relative error \(lensError), total \(totalError), largest lens gradient \(below.map { abs(numericLens[$0]) }.max() ?? 0)")
        #expect(lensError < 5e-3, "lens term at L\(k): relative error \(lensError)")
        #expect(totalError < 5e-3, "answer + λ·lens at L\(k): relative error \(totalError)")
        #expect(below.map { abs(numericLens[$0]) }.max()! > 1e-4, "the lens term's gradient is large enough to test")
    }

    @Test func lambdaZeroIsPlainFineTuning() throws {
        let adapters = layout.adapters(from: parameters)
        let zero = try LoRAGradients.lossAndGradients(model: model, adapters: adapters, batch: batch, lens: LensObjective(layer: 1, weight: 0))
        let plain = try LoRAGradients.lossAndGradients(model: model, adapters: adapters, batch: batch)
        #expect(layout.flatten(zero.gradients) == layout.flatten(plain.gradients) && zero.loss == plain.loss)
    }

    @Test func trainingWithTheTermLowersTheLensLoss() throws {
        func train(_ lambda: Double) throws -> TrainingOutcome {
            let trainer = LoRATrainer(model: model, settings: LoRASettings(rank: 2, alpha: 6, targets: [.query, .value]),
                                      options: TrainingOptions(steps: 30, batchSize: 3, learningRate: 1e-2, seed: 5), outputFolder: nil)
            trainer.lensObjective = LensObjective(layer: 1, weight: lambda)
            return try trainer.run(train: batch, valid: [])
        }
        let with = try train(1), without = try train(0)
        let lensWith = try lensLoss(with.adapters, layer: 1), lensWithout = try lensLoss(without.adapters, layer: 1)
        #expect(with.lensLosses.count == 30)
        #expect(lensWith < lensWithout - 0.1, "λ=1: \(lensWith), λ=0: \(lensWithout)")
        #expect(lensWith < with.lensLosses[0].loss)
    }

    @Test func aLayerWithoutAdaptersBeforeItIsRefused() throws {
        let trainer = LoRATrainer(model: model, settings: LoRASettings(rank: 2, alpha: 6), options: TrainingOptions(steps: 1, batchSize: 1, learningRate: 1e-3, seed: 1),
                                  outputFolder: nil)
        trainer.lensObjective = LensObjective(layer: -1, weight: 1)
        #expect { try trainer.run(train: batch, valid: []) } throws: { "\($0)".contains("embed") }
    }
}
