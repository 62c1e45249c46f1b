// A short LoRA run on the default model with chain-of-thought arithmetic texts must clearly lower the loss,
// on the training batches and on held-out texts the run never saw.
import Datasets
import Foundation
import Transformer
import Testing
import Training

@Suite struct DefaultModelTrainingTests {
    @Test func thirtyStepsOnCoTArithmeticLowerTheLoss() throws {
        let m = try ModelLoader.load("default")
        let encode = { (t: String) in TrainingExample(tokens: m.tokenizer.encode(t) + [m.tokenizer.eosTokenId!]) }
        // The flagship's chain-of-thought texts, with held-out validation problems.
        let data = ArithmeticDataset.make(trainSamples: 120, validSamples: 24, testSamples: 0, seed: 1)
        let train = data.train.map { encode($0.chainOfThoughtText) }
        let valid = data.valid.map { encode($0.chainOfThoughtText) }
        let options = TrainingOptions(steps: 30, batchSize: 4, learningRate: 2e-4, seed: 42)
        let trainer = LoRATrainer(model: m.model, settings: LoRASettings(), options: options, outputFolder: nil)
        let before = try trainer.validationLoss(valid, adapters: LoRAInitialisation.adapters(config: m.model.config, settings: LoRASettings(), seed: 42))
        let outcome = try trainer.run(train: train, valid: valid)
        let after = try trainer.validationLoss(valid, adapters: outcome.adapters)
        let losses = outcome.trainLosses.map(\.loss)
        let first = losses.prefix(5).reduce(0, +) / 5, last = losses.suffix(5).reduce(0, +) / 5
        print("default model, 30 LoRA steps: train loss \(first) → \(last), held-out loss \(before) → \(after)")
        #expect(losses.count == 30)
        #expect(last < 0.7 * first, "train loss \(first) → \(last)")
        #expect(after < 0.7 * before, "held-out loss \(before) → \(after)")
    }

    /// Native (quantised) weights cannot be trained on: the trainer says so and how to load instead.
    @Test func nativeWeightsAreRefusedWithTheFix() throws {
        let m = try ModelLoader.load("default", weights: .native)
        let trainer = LoRATrainer(model: m.model, settings: LoRASettings(), options: TrainingOptions(steps: 1, batchSize: 1), outputFolder: nil)
        let example = TrainingExample(tokens: m.tokenizer.encode("7 * 8 = 56"))
        #expect {
            try trainer.run(train: [example], valid: [])
        } throws: { error in
            guard case let TrainingError.invalidSetting(why) = error else { return false }
            return why.contains("f32")
        }
    }
}
