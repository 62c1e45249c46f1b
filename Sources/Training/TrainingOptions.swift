// The knobs of a LoRA training run, what the trainer reports while it runs, and what it returns.
// Plain values: the CLI and the experiments config both build a TrainingOptions.
import Foundation
import Transformer

public struct TrainingOptions: Sendable, Codable, Equatable {
    public var steps = 500
    public var batchSize = 4
    public var learningRate: Float = 2e-4
    public var warmupSteps = 0
    public var cosineDecay = false
    public var weightDecay: Float = 0
    public var gradientClipNorm: Float? = nil
    public var seed: UInt64 = 42
    /// Validation loss every N steps (and after the last step); nil: never.
    public var evalEvery: Int? = nil
    /// A checkpoint every K steps (the last step always saves); nil: only at the end.
    public var saveEvery: Int? = nil
    /// A train-loss line in metrics.jsonl every N steps (and at the last step).
    public var reportEvery = 10
    /// Recorded in the data loader's choice; the trainer reads the masks the examples carry.
    public var maskPrompt = false
    /// Longer examples are cut to this many tokens (mlx-lm's max_seq_length default is 2048).
    public var maxSequenceLength: Int? = 2048
    /// At most this many validation batches per evaluation (nil: the whole validation set).
    public var validationBatches: Int? = nil
    /// Written into adapter_config.json as base_model_name_or_path.
    public var baseModel = ""

    public init(steps: Int = 500, batchSize: Int = 4, learningRate: Float = 2e-4, warmupSteps: Int = 0, cosineDecay: Bool = false,
                weightDecay: Float = 0, gradientClipNorm: Float? = nil, seed: UInt64 = 42, evalEvery: Int? = nil, saveEvery: Int? = nil,
                reportEvery: Int = 10, maskPrompt: Bool = false, maxSequenceLength: Int? = 2048, validationBatches: Int? = nil,
                baseModel: String = "") {
        self.steps = steps
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.warmupSteps = warmupSteps
        self.cosineDecay = cosineDecay
        self.weightDecay = weightDecay
        self.gradientClipNorm = gradientClipNorm
        self.seed = seed
        self.evalEvery = evalEvery
        self.saveEvery = saveEvery
        self.reportEvery = reportEvery
        self.maskPrompt = maskPrompt
        self.maxSequenceLength = maxSequenceLength
        self.validationBatches = validationBatches
        self.baseModel = baseModel
    }

    public func validate() throws {
        func bad(_ why: String) -> TrainingError { .invalidSetting(why) }
        guard steps > 0 else { throw bad("--steps must be positive, got \(steps)") }
        guard batchSize > 0 else { throw bad("--batch-size must be positive, got \(batchSize)") }
        guard learningRate.isFinite, learningRate > 0 else { throw bad("--learning-rate must be a positive number, got \(learningRate)") }
        guard warmupSteps >= 0 else { throw bad("warm-up steps must not be negative") }
        guard weightDecay.isFinite, weightDecay >= 0 else { throw bad("weight decay must be a non-negative number") }
        if let c = gradientClipNorm { guard c.isFinite, c > 0 else { throw bad("the gradient clip norm must be a positive number") } }
        for (name, v) in [("--eval-every", evalEvery), ("--save-every", saveEvery), ("max sequence length", maxSequenceLength),
                          ("validation batches", validationBatches), ("report interval", reportEvery)] {
            if let v, v <= 0 { throw bad("\(name) must be positive, got \(v)") }
        }
        if let m = maxSequenceLength, m < 2 { throw bad("the max sequence length must be at least 2") }
    }
}

public struct LossPoint: Sendable, Codable, Equatable {
    public var step: Int
    public var loss: Double
    public init(step: Int, loss: Double) {
        self.step = step
        self.loss = loss
    }
}

/// Sent to the progress callback after every step and every validation.
public struct TrainingProgress: Sendable {
    public enum Event: Sendable { case step, validation, checkpoint }
    public var event: Event
    /// Steps completed.
    public var step: Int
    public var totalSteps: Int
    /// Loss of this step's batch (`.step`), or the mean since the last report.
    public var trainLoss: Double?
    public var validLoss: Double?
    public var learningRate: Float
    public var tokensPerSecond: Double
    public var secondsRemaining: Double
}

public struct TrainingOutcome: Sendable {
    public var adapters: LoRAAdapters
    /// The loss of every step's batch (resumed runs include the steps before the resume).
    public var trainLosses: [LossPoint]
    public var validLosses: [LossPoint]
    /// Over the steps this call ran (not the resumed ones).
    public var secondsPerStep: Double
    public var tokensPerSecond: Double
    public var stepsRun: Int
    /// The step the adapters are at (== options.steps unless cancelled).
    public var finalStep: Int
    public var cancelled: Bool
    /// With a lens objective: the unweighted lens loss of every step this call ran.
    public var lensLosses: [LossPoint] = []
}

/// Set from a signal handler or another thread; the trainer checks it between steps and saves before returning.
public final class CancellationFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    public init() {}
    public func cancel() { lock.lock(); value = true; lock.unlock() }
    public var isCancelled: Bool { lock.lock(); defer { lock.unlock() }; return value }
}
