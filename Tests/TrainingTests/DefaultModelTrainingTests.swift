// A short LoRA run on the default model with chain-of-thought arithmetic texts must clearly lower the loss,
// on the training batches and on held-out texts the run never saw.
import Foundation
import Kernels
import Llama
import Testing
import Training

@Suite struct DefaultModelTrainingTests {
    static func texts(count: Int, seed: UInt64) -> [String] {
        var rng = SeededRandom(seed: seed)
        let ops: [(String, String, (Int, Int) -> Int)] = [("*", "multiply", (*)), ("+", "add", (+)), ("-", "subtract", (-))]
        return (0..<count).map { i in
            let (symbol, name, f) = ops[i % 3]
            let a = symbol == "*" ? 2 + rng.below(11) : 1 + rng.below(50)
            let b = symbol == "*" ? 2 + rng.below(11) : 1 + rng.below(symbol == "-" ? a : 50)
            return "\(a) \(symbol) \(b) = \(name): \(f(a, b))"
        }
    }

    @Test func thirtyStepsOnCoTArithmeticLowerTheLoss() throws {
        let m = try ModelLoader.load("default")
        let encode = { (t: String) in TrainingExample(tokens: m.tokenizer.encode(t) + [m.tokenizer.eosTokenId!]) }
        let train = Self.texts(count: 120, seed: 1).map(encode)
        let valid = Self.texts(count: 24, seed: 2).map(encode)
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
}
