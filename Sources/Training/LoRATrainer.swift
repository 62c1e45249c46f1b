// The LoRA training loop: seeded batches, loss and gradients, clipping, AdamW on the schedule,
// validation, metrics.jsonl, checkpoints, the NaN guard, cancellation and --resume.
// The mathematics of one step is LoRAGradients; the files are PEFTAdapterFiles and TrainingCheckpoint.
import Foundation
import Kernels
import Transformer
import ModelFiles
import Optimization

public final class LoRATrainer {
    public let model: TransformerModel
    public let settings: LoRASettings
    public let options: TrainingOptions
    public let outputFolder: URL?
    /// Checked between steps: set it (e.g. on Ctrl-C) and `run` saves a checkpoint and returns with `cancelled`.
    public let cancellation = CancellationFlag()
    /// The vocabulary objective's lens term, added to the answer loss of every step (examples carry their targets).
    public var lensObjective: LensObjective? = nil

    public init(model: TransformerModel, settings: LoRASettings, options: TrainingOptions, outputFolder: URL?) {
        self.model = model
        self.settings = settings
        self.options = options
        self.outputFolder = outputFolder
    }

    /// The batch sampler's seed: derived from the run's seed so it is not the initialisation's stream.
    public static func samplerSeed(_ seed: UInt64) -> UInt64 { seed ^ 0xDA7A_5EED_0B47_C4E5 }

    /// Trains, saving into `outputFolder` (locked for the run). A folder that already holds a checkpoint is
    /// continued with `resume` or replaced with `overwrite`; with neither it is refused, never silently lost.
    public func run(train: [TrainingExample], valid: [TrainingExample], resume: Bool = false, overwrite: Bool = false,
                    progress: (TrainingProgress) -> Void = { _ in }) throws -> TrainingOutcome {
        try settings.validate()
        try options.validate()
        do { try model.config.checkLoRATargets(settings.targets) } catch ModelError.invalidConfig(_, _, let reason) {
            throw TrainingError.invalidSetting("LoRA targets: \(reason)")
        }
        // Frozen mixture-of-experts experts may stay quantised (QLoRA-style); everything trained through must be Float32.
        guard !model.weights.quantizesMoreThanExperts else {
            throw TrainingError.invalidSetting("the model's weights are quantised (loaded with native weights); LoRA training needs Float32 weights: load it with f32 weights, or with native-experts to keep only a mixture-of-experts model's frozen experts quantised")
        }
        guard !train.isEmpty else { throw TrainingError.invalidSetting("no training examples") }
        if let lens = lensObjective {
            try lens.validate(config: model.config)
            guard train.contains(where: { $0.lensTarget != nil }) else {
                throw TrainingError.invalidSetting("a lens objective is set but no training example has a lens target")
            }
        }
        guard !(resume && overwrite) else { throw TrainingError.invalidSetting("--resume and --overwrite contradict each other; give one") }
        let layout = LoRAParameterLayout(config: model.config, settings: settings)
        let trainSet = train.map(truncated)
        let validSet = valid.map(truncated)
        for (name, set) in [("training", trainSet), ("validation", validSet)] {
            if let i = set.firstIndex(where: { $0.tokens.count > model.config.contextLength }) {
                throw TrainingError.invalidSetting("\(name) example \(i + 1) has \(set[i].tokens.count) tokens, more than the model's context length of \(model.config.contextLength); lower --max-seq-length to \(model.config.contextLength)")
            }
        }
        // Everything above is checked before the lock, which creates the folder, and before --overwrite
        // removes anything: a refused run leaves the folder as it was, or absent.
        if resume, let folder = outputFolder, TrainingCheckpoint.savedStep(in: folder) == nil {
            throw TrainingCheckpoint.notFound(in: folder)
        }
        let lock = try outputFolder.map { try AdapterFolderLock(folder: $0) }
        defer { withExtendedLifetime(lock) {} }
        if let folder = outputFolder, !resume {
            if let step = TrainingCheckpoint.savedStep(in: folder) {
                guard overwrite else {
                    throw TrainingError.checkpoint(file: folder.path, reason: "holds a checkpoint of \(step.map { "\($0) steps" } ?? "an earlier run"); pass --resume to continue it or --overwrite to replace it")
                }
            }
            if overwrite { TrainingCheckpoint.removeSavedFiles(in: folder) }
        }
        let schedule = LearningRateSchedule(peak: options.learningRate, warmupSteps: options.warmupSteps,
                                            cosineDecay: options.cosineDecay, totalSteps: options.steps)
        let adamSettings = AdamWSettings(weightDecay: options.weightDecay)

        if let folder = outputFolder { TrainingCheckpoint.removeAbandonedTemporaries(in: folder) }
        var parameters: [Float]
        var optimizer: AdamWState
        var state: TrainerState
        if resume {
            guard let folder = outputFolder else { throw TrainingError.invalidSetting("--resume needs an adapter folder") }
            (parameters, optimizer, state) = try TrainingCheckpoint.load(folder: folder, layout: layout, baseModel: options.baseModel)
            guard state.sampler.order.count == trainSet.count else {
                throw TrainingError.checkpoint(file: folder.path, reason: "was trained on \(state.sampler.order.count) examples, the data now has \(trainSet.count); resume with the same data")
            }
        } else {
            parameters = LoRAInitialisation.initialParameters(layout: layout, seed: options.seed)
            optimizer = AdamWState(parameterCount: layout.count)
            state = TrainerState(step: 0, settings: settings, baseModel: options.baseModel.isEmpty ? nil : options.baseModel, parameterCount: layout.count,
                                 sampler: BatchSampler(exampleCount: trainSet.count, seed: Self.samplerSeed(options.seed)),
                                 trainLosses: [], validLosses: [], metrics: [])
        }

        func checkpoint() throws {
            guard let folder = outputFolder else { return }
            try TrainingCheckpoint.save(folder: folder, layout: layout, parameters: parameters, optimizer: optimizer,
                                        state: state, baseModel: options.baseModel, architecture: model.config.architecture)
            try AtomicWrite.write(Data(state.metrics.map { $0 + "\n" }.joined().utf8),
                                               to: folder.appendingPathComponent(TrainingCheckpoint.metricsFileName))
        }

        let firstStep = state.step
        let started = Date()
        var tokensSeen = 0
        var reportLoss = 0.0, reportTargets = 0, reportTokens = 0
        var reportLens = 0.0, reportLensSteps = 0
        var reportStarted = Date()
        var cancelled = false
        var lensLosses: [LossPoint] = []
        // Reused by every step: after the first, a step of the same shapes allocates nothing large.
        let workspace = ActivationWorkspace()
        var gradients: [Float] = []

        while state.step < options.steps {
            if cancellation.isCancelled { cancelled = true; break }
            let batch = state.sampler.next(batchSize: options.batchSize).map { trainSet[$0] }
            let result = try LoRAGradients.lossAndGradients(model: model, adapters: layout.adapters(from: parameters), batch: batch,
                                                            lens: lensObjective, workspace: workspace)
            layout.flatten(result.gradients, into: &gradients)
            if !result.loss.isFinite || !(result.lensLoss ?? 0).isFinite || !gradients.allSatisfy({ $0.isFinite }) {
                // `parameters` are still those of the last good step: keep them on disk.
                let failedStep = state.step + 1
                var kept: String? = nil
                if let folder = outputFolder {
                    try checkpoint()
                    kept = folder.path
                }
                throw TrainingError.nonFiniteLoss(step: failedStep, loss: result.loss.isFinite ? .nan : result.loss, keptCheckpointAt: kept)
            }
            if let clip = options.gradientClipNorm { GradientClipping.clip(&gradients, maxNorm: clip) }
            let rate = schedule.rate(step: state.step)
            AdamW.step(parameters: &parameters, gradients: gradients, state: &optimizer, learningRate: rate, settings: adamSettings)
            state.step += 1
            state.trainLosses.append(LossPoint(step: state.step, loss: result.loss))
            if let l = result.lensLoss {
                lensLosses.append(LossPoint(step: state.step, loss: l))
                reportLens += l
                reportLensSteps += 1
            }

            let tokens = batch.reduce(0) { $0 + $1.tokens.count }
            tokensSeen += tokens
            reportLoss += result.loss * Double(result.targetCount)
            reportTargets += result.targetCount
            reportTokens += tokens
            let elapsed = Date().timeIntervalSince(started)
            let stepsDone = state.step - firstStep
            let remaining = elapsed / Double(stepsDone) * Double(options.steps - state.step)
            let isLast = state.step == options.steps
            progress(TrainingProgress(event: .step, step: state.step, totalSteps: options.steps, trainLoss: result.loss, validLoss: nil,
                                      learningRate: rate, tokensPerSecond: Double(tokensSeen) / max(elapsed, 1e-9), secondsRemaining: remaining))

            var record: [String: Any]? = nil
            if state.step % options.reportEvery == 0 || isLast {
                let interval = Date().timeIntervalSince(reportStarted)
                record = ["step": state.step, "train_loss": reportTargets > 0 ? reportLoss / Double(reportTargets) : 0,
                          "tokens_per_s": Double(reportTokens) / max(interval, 1e-9), "learning_rate": Double(rate)]
                // The lens loss per step, averaged over the report's steps.
                if reportLensSteps > 0 { record?["lens_loss"] = reportLens / Double(reportLensSteps) }
                reportLens = 0; reportLensSteps = 0
                reportLoss = 0; reportTargets = 0; reportTokens = 0
                reportStarted = Date()
            }
            if let every = options.evalEvery, !validSet.isEmpty, state.step % every == 0 || isLast {
                let loss = try validationLoss(validSet, adapters: layout.adapters(from: parameters))
                state.validLosses.append(LossPoint(step: state.step, loss: loss))
                record = (record ?? ["step": state.step]).merging(["val_loss": loss]) { a, _ in a }
                progress(TrainingProgress(event: .validation, step: state.step, totalSteps: options.steps, trainLoss: nil, validLoss: loss,
                                          learningRate: rate, tokensPerSecond: Double(tokensSeen) / max(elapsed, 1e-9), secondsRemaining: remaining))
            }
            if let record {
                let line = try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys])
                state.metrics.append(String(decoding: line, as: UTF8.self))
            }
            if let every = options.saveEvery, state.step % every == 0, !isLast {
                try checkpoint()
                progress(TrainingProgress(event: .checkpoint, step: state.step, totalSteps: options.steps, trainLoss: nil, validLoss: nil,
                                          learningRate: rate, tokensPerSecond: Double(tokensSeen) / max(elapsed, 1e-9), secondsRemaining: remaining))
            }
        }
        try checkpoint()

        let stepsRun = state.step - firstStep
        let seconds = Date().timeIntervalSince(started)
        return TrainingOutcome(adapters: layout.adapters(from: parameters), trainLosses: state.trainLosses, validLosses: state.validLosses,
                               secondsPerStep: stepsRun > 0 ? seconds / Double(stepsRun) : 0,
                               tokensPerSecond: seconds > 0 ? Double(tokensSeen) / seconds : 0,
                               stepsRun: stepsRun, finalStep: state.step, cancelled: cancelled, lensLosses: lensLosses)
    }

    /// Token-weighted mean loss over the validation set in batches (the first `validationBatches` of them, in file order).
    public func validationLoss(_ examples: [TrainingExample], adapters: LoRAAdapters) throws -> Double {
        var sum = 0.0, count = 0
        var start = 0, batches = 0
        while start < examples.count, batches < (options.validationBatches ?? Int.max) {
            let batch = Array(examples[start..<min(examples.count, start + options.batchSize)])
            let r = try LoRAGradients.lossSum(model: model, adapters: adapters, batch: batch)
            sum += r.sum
            count += r.count
            start += options.batchSize
            batches += 1
        }
        return count > 0 ? sum / Double(count) : 0
    }

    /// Cut to maxSequenceLength tokens (mlx-lm truncates the same way).
    func truncated(_ e: TrainingExample) -> TrainingExample {
        guard let m = options.maxSequenceLength, e.tokens.count > m else { return e }
        var cut = TrainingExample(tokens: Array(e.tokens.prefix(m)), lossMask: Array(e.lossMask.prefix(m)))
        cut.lensTarget = e.lensTarget.flatMap { $0.position < m ? $0 : nil }
        return cut
    }
}
