// `lazarus train lora`: parses the options, loads the model and data, runs LoRATrainer, and shows
// progress on stderr when it is a terminal (quiet in a pipe). Ctrl-C saves a checkpoint and exits.
// No training logic here: that is the Training target.
import ArgumentParser
import Dispatch
import Foundation
import Transformer
import Training
import Optimization

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Fine-tune a model.", subcommands: [LoRACommand.self])
}

struct LoRACommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lora",
        abstract: "LoRA supervised fine-tuning; writes a PEFT adapter folder and metrics.jsonl.",
        discussion: """
            DIR holds train.jsonl and valid.jsonl with {"text": ...} or {"prompt": ..., "completion": ...} records.
            Ctrl-C stops after the current step and saves a checkpoint that --resume continues from.
            """)

    @OptionGroup var model: ModelOption
    @Option(help: "Folder with train.jsonl and valid.jsonl.") var data: String
    @Option(help: "LoRA rank r.") var rank = 16
    @Option(help: "LoRA alpha (the update is scaled by alpha/r).") var alpha: Float = 32
    @Option(help: "Projections to adapt: q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj or 'all'; on a mixture-of-experts model the attention projections and 'router'.")
    var targets = "q_proj,k_proj,v_proj,o_proj"
    @Option(help: "Optimiser steps.") var steps = 500
    @Option(name: .customLong("batch-size"), help: "Sequences per step.") var batchSize = 4
    @Option(name: .customLong("learning-rate"), help: "Peak learning rate.") var learningRate: Float = 2e-4
    @Option(help: "Seed of the initialisation and the batch order.") var seed: UInt64 = 42
    @Flag(name: .customLong("mask-prompt"), help: "Count the loss on completions only.") var maskPrompt = false
    @Option(name: .customLong("adapter-path"), help: "Folder for the adapters, checkpoints and metrics.jsonl.") var adapterPath = "adapters"
    @Flag(help: "Continue from the checkpoint in --adapter-path.") var resume = false
    @Flag(help: "Replace the checkpoint in --adapter-path (its adapters, optimizer state and metrics).") var overwrite = false
    @Option(name: .customLong("eval-every"), help: "Validation loss every N steps.") var evalEvery: Int?
    @Option(name: .customLong("save-every"), help: "Checkpoint every N steps.") var saveEvery: Int?
    @Option(name: .customLong("report-every"), help: "A metrics.jsonl line every N steps.") var reportEvery = 10
    @Option(name: .customLong("warmup-steps"), help: "Linear warm-up steps.") var warmupSteps = 0
    @Flag(help: "Cosine decay of the learning rate after warm-up.") var cosine = false
    @Option(name: .customLong("weight-decay"), help: "AdamW decoupled weight decay.") var weightDecay: Float = 0
    @Option(name: .customLong("grad-clip"), help: "Clip the global gradient norm to this value.") var gradClip: Float?
    @Option(name: .customLong("max-seq-length"), help: "Cut longer examples to this many tokens.") var maxSeqLength = 2048
    @Option(name: .customLong("val-batches"), help: "Validation batches per evaluation (default: all).") var valBatches: Int?
    @Option(help: "f32: every weight Float32; native-experts: a mixture-of-experts model's frozen experts kept as the file's blocks (QLoRA-style), the rest Float32. native (quantised attention) cannot train.")
    var weights: WeightStorage = .f32

    var settings: LoRASettings {
        get throws { LoRASettings(rank: rank, alpha: alpha, targets: try LoRASettings.parseTargets(targets)) }
    }

    func options(baseModel: String) -> TrainingOptions {
        TrainingOptions(steps: steps, batchSize: batchSize, learningRate: learningRate, warmupSteps: warmupSteps, cosineDecay: cosine,
                        weightDecay: weightDecay, gradientClipNorm: gradClip, seed: seed, evalEvery: evalEvery, saveEvery: saveEvery,
                        reportEvery: reportEvery, maskPrompt: maskPrompt, maxSequenceLength: maxSeqLength,
                        validationBatches: valBatches, baseModel: baseModel)
    }

    func validate() throws {
        do {
            try settings.validate()
            try options(baseModel: model.model).validate()
        } catch let error as TrainingError {
            throw ValidationError(error.description)
        }
    }

    func run() throws {
        let terminal = isatty(STDERR_FILENO) == 1
        func status(_ line: String) { if terminal { FileHandle.standardError.write(Data(line.utf8)) } }
        status("loading \(model.model)…\n")
        let loaded = try model.load(weights: weights)
        let (train, valid) = try TrainingData.load(folder: URL(fileURLWithPath: data), tokenizer: loaded.tokenizer, maskPrompt: maskPrompt)
        if evalEvery != nil && valid.isEmpty {
            FileHandle.standardError.write(Data("lazarus: note: \(data)/valid.jsonl is missing or empty; no validation loss\n".utf8))
        }
        let folder = URL(fileURLWithPath: adapterPath)
        let trainer = LoRATrainer(model: loaded.model, settings: try settings, options: options(baseModel: loaded.source.path), outputFolder: folder)

        // The first Ctrl-C asks the trainer to save and stop between steps; a second one quits at once.
        signal(SIGINT, SIG_IGN)
        let interrupt = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        interrupt.setEventHandler {
            if trainer.cancellation.isCancelled { Foundation.exit(130) }
            trainer.cancellation.cancel()
            FileHandle.standardError.write(Data("\nlazarus: stopping after this step and saving (Ctrl-C again to quit without saving)\n".utf8))
        }
        interrupt.resume()

        var lastValid: Double?
        let outcome = try trainer.run(train: train, valid: valid, resume: resume, overwrite: overwrite) { p in
            switch p.event {
            case .validation: lastValid = p.validLoss
            case .checkpoint: return
            case .step: break
            }
            let valid = lastValid.map { String(format: "  val %.3f", $0) } ?? ""
            let loss = p.trainLoss.map { String(format: "%.3f", $0) } ?? "?"
            let speed = String(format: "%.0f", p.tokensPerSecond)
            status("\rstep \(p.step)/\(p.totalSteps)  loss \(loss)\(valid)  \(speed) tok/s  \(Self.duration(p.secondsRemaining)) left   ")
        }
        status("\n")
        let verb = outcome.cancelled ? "stopped at" : "finished"
        let last = outcome.trainLosses.last.map { String(format: ", last loss %.4f", $0.loss) } ?? ""
        print("\(verb) step \(outcome.finalStep)/\(steps)\(last); adapters in \(folder.path)")
        if outcome.cancelled { throw ExitCode(130) }  // interrupted, though the checkpoint is saved
    }

    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "?" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? "\(s / 3600)h\(String(format: "%02d", s % 3600 / 60))m" : s >= 60 ? "\(s / 60)m\(String(format: "%02d", s % 60))s" : "\(s)s"
    }
}
