// `lazarus lens train`: fits a tuned lens (docs/SPEC.md §5) on general text and writes it to a folder;
// `--lens tuned:DIR` then reads states through it. No training logic here: that is Introspection.
import ArgumentParser
import Foundation
import Introspection

struct LensCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lens", abstract: "Train lenses that read the residual stream.", subcommands: [LensTrainCommand.self])
}

struct LensTrainCommand: ParsableCommand {
    /// Debian's `fortunes` package: about 2.6 MB of English quotations and prose, installed offline.
    static let defaultCorpus = "/usr/share/games/fortunes/literature"

    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a tuned lens: one affine translator per layer, KL to the model's own final distribution.",
        discussion: "The corpus is plain text (passages split at blank lines or '%' lines); the default, \(defaultCorpus), "
            + "comes with Debian's 'fortunes' package. The last 10% of its tokens are held out; the held-out KL of the logit lens "
            + "and of the tuned lens at every layer is printed and kept in DIR/tuned_lens.json.")

    @OptionGroup var model: ModelOption
    @OptionGroup var adapter: AdapterOption
    @Option(help: ArgumentHelp("Plain-text training corpus.", valueName: "file")) var corpus = LensTrainCommand.defaultCorpus
    @Option(help: ArgumentHelp("Folder for tuned_lens.safetensors and tuned_lens.json.", valueName: "dir")) var output: String
    @Option(help: "Optimiser steps.") var steps = 50
    @Option(name: .customLong("batch-size"), help: "Sequences per step.") var batchSize = 4
    @Option(name: .customLong("sequence-length"), help: "Tokens per sequence.") var sequenceLength = 32
    @Option(name: .customLong("learning-rate"), help: "AdamW learning rate.") var learningRate: Float = 1e-3
    @Option(help: "Seed of the batch order.") var seed: UInt64 = 42
    @OptionGroup var format: JSONFlag

    func validate() throws {
        guard steps >= 1, batchSize >= 1 else { throw ValidationError("--steps and --batch-size must be at least 1") }
        guard sequenceLength >= 2 else { throw ValidationError("--sequence-length must be at least 2") }
        guard learningRate > 0, learningRate.isFinite else { throw ValidationError("--learning-rate must be positive") }
    }

    func run() throws {
        let terminal = isatty(STDERR_FILENO) == 1
        let loaded = try model.load()
        let adapters = try adapter.load(for: loaded)
        var o = TunedLensTrainingOptions()
        o.steps = steps
        o.batchSequences = batchSize
        o.sequenceLength = sequenceLength
        o.learningRate = learningRate
        o.seed = seed
        let config = try TunedLensTraining.trainAndSave(
            model: loaded.model, tokenizer: loaded.tokenizer, adapters: adapters, corpus: URL(fileURLWithPath: corpus), options: o,
            modelName: model.model, to: URL(fileURLWithPath: output)) { step, loss in
                if terminal { FileHandle.standardError.write(Data("\rstep \(step)/\(steps)  mean KL \(String(format: "%.4f", loss))   ".utf8)) }
            }
        if terminal { FileHandle.standardError.write(Data("\n".utf8)) }
        if format.json { try JSONOutput.print(config); return }
        guard let summary = config.training else { return }
        print("corpus \(summary.corpus): \(summary.corpusBytes) bytes, \(summary.trainingSequences) training and \(summary.heldOutSequences) held-out sequences of \(summary.sequenceLength) tokens")
        print("held-out KL to the final distribution (nats/token):")
        print("layer   logit     tuned")
        for l in summary.heldOutKL {
            print(l.layer.padding(toLength: 8, withPad: " ", startingAt: 0) + String(format: "%-9.4f %.4f", l.logit, l.tuned))
        }
        print(String(format: "%.1f s; wrote %@", summary.seconds, output))
    }
}
