// A training stage of an experiment: LoRA from the base weights on one data folder, with its adapters,
// optimizer state and summary in a checkpoint folder named by the stage's config hash. A finished stage is
// loaded, an interrupted one resumes from its last checkpoint, a changed config trains anew.
import Foundation
import Transformer
import ModelFiles
import Training

public struct LoRAParameters: Codable, Sendable, Equatable {
    public var rank: Int
    public var alpha: Double
    public var targets: [String]

    /// The trainer's settings (targets were checked by the experiment's validation).
    var settings: LoRASettings {
        LoRASettings(rank: rank, alpha: Float(alpha), targets: targets.compactMap(Projection.init(rawValue:)))
    }
}

enum StageTraining {
    struct Settings {
        var steps: Int
        var batchSize: Int
        var learningRate: Double
        var lora: LoRAParameters
        var seed: Int
        /// Loss on the completion only (data in `{"prompt","completion"}` records).
        var maskPrompt = false
    }

    static let summaryFile = "training_summary.json"

    /// `answerData`: a folder whose valid.jsonl splits each validation problem before its answer; the loss on those
    /// completions (the answer tokens and the end token) is recorded for every format alike.
    /// The vocabulary objective: the lens term and, per training example, where it reads (nil: the example has no
    /// such position, an error — every example of a lens-objective run must carry the term).
    struct LensTerm {
        var objective: LensObjective
        var target: (TrainingExample) -> LensTarget?
    }

    static func trainOrLoad(_ loaded: LoadedModel, data: URL, answerData: URL? = nil, checkpoint: URL, settings s: Settings, stage: String,
                            lens: LensTerm? = nil, context: ExperimentContext) throws -> (adapters: LoRAAdapters, summary: TrainingSummary) {
        let summaryURL = checkpoint.appendingPathComponent(summaryFile)
        if context.fresh { try? FileManager.default.removeItem(at: checkpoint) }
        if let data = try? Data(contentsOf: summaryURL), let summary = try? JSONDecoder().decode(TrainingSummary.self, from: data) {
            let adapters = try PEFTAdapterFiles.load(from: checkpoint, config: loaded.model.config)
            context.log("\(stage): reusing trained adapters from \(checkpoint.lastPathComponent)")
            return (adapters, summary)
        }
        var examples = try TrainingData.load(folder: data, tokenizer: loaded.tokenizer, maskPrompt: s.maskPrompt)
        if let lens {
            for i in examples.train.indices {
                guard let t = lens.target(examples.train[i]) else {
                    throw ExperimentError.stageFailed(stage: stage, reason: "\(data.appendingPathComponent("train.jsonl").path) record \(i + 1) has no position for the lens objective (its operation word's token is not in it)")
                }
                examples.train[i].lensTarget = t
            }
        }
        let options = TrainingOptions(steps: s.steps, batchSize: s.batchSize, learningRate: Float(s.learningRate), seed: UInt64(s.seed),
                                      evalEvery: max(1, s.steps / 10), saveEvery: max(1, s.steps / 5),
                                      baseModel: loaded.source.path)
        let trainer = LoRATrainer(model: loaded.model, settings: s.lora.settings, options: options, outputFolder: checkpoint)
        trainer.lensObjective = lens?.objective
        let resume = FileManager.default.fileExists(atPath: checkpoint.appendingPathComponent(TrainingCheckpoint.optimizerFileName).path)
        context.log("\(stage): LoRA r\(s.lora.rank) α\(s.lora.alpha) on \(s.lora.targets.joined(separator: ",")), \(s.steps) steps, batch \(s.batchSize)"
                    + (resume ? " (resuming an interrupted run)" : ""))
        let start = Date()
        let outcome = try trainer.run(train: examples.train, valid: examples.valid, resume: resume) { p in
            let loss = p.trainLoss.map { String(format: " loss %.3f", $0) } ?? ""
            context.progress("\(stage) step \(p.step)/\(s.steps)\(loss)", Double(p.step) / Double(max(1, s.steps)))
            // A line in the log at every validation, so a run in a pipe or in log.txt shows its course too.
            if p.event == .validation, let valid = p.validLoss {
                context.log(String(format: "%@: step %d/%d, validation loss %.4f, %.0f tokens/s", stage, p.step, s.steps, valid, p.tokensPerSecond))
            }
        }
        var answerLoss: Double? = nil
        if let answerData {
            let bos = loaded.tokenizer.addsBosToken ? loaded.tokenizer.bosTokenId : nil
            let answers = try TrainingData.examples(fileURL: answerData.appendingPathComponent("valid.jsonl"), encode: loaded.tokenizer.encode,
                                                    bosTokenId: bos, eosTokenId: loaded.tokenizer.eosTokenId, maskPrompt: true)
            answerLoss = try trainer.validationLoss(answers, adapters: outcome.adapters)
        }
        // Steps of the whole run, the interrupted part included: the adapters are the result of all of them.
        let summary = TrainingSummary(steps: outcome.finalStep,
                                      trainLoss: outcome.trainLosses, validLoss: outcome.validLosses,
                                      tokensPerSecond: outcome.tokensPerSecond, seconds: Date().timeIntervalSince(start),
                                      answerValidLoss: answerLoss, examplesSeen: outcome.finalStep * min(s.batchSize, examples.train.count),
                                      trainingExamples: examples.train.count, maskPrompt: s.maskPrompt,
                                      lensLoss: lens == nil ? nil : outcome.lensLosses)
        // The trainer's final checkpoint already holds the adapters in PEFT form; the summary, written last, marks the stage done.
        try AtomicWrite.write(try JSONEncoder().encode(summary), to: summaryURL)
        if let last = summary.trainLoss.last {
            context.log(String(format: "%@: trained in %.0f s, final train loss %.3f", stage, summary.seconds, last.loss))
        }
        return (outcome.adapters, summary)
    }
}
