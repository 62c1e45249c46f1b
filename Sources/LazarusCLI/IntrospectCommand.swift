// `lazarus introspect logit-lens | probe` (and hidden-states and routing, in their own files): where a model represents a task, read through the vocabulary
// (the logit lens) or by a linear probe, at every layer from one batched pass over the prompts.
import ArgumentParser
import Foundation
import Introspection
import Kernels
import Transformer

struct IntrospectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "introspect", abstract: "Logit lens, linear probes and the residual stream itself, per layer.",
                                                    subcommands: [LogitLensCommand.self, ProbeCommand.self, HiddenStatesCommand.self, RoutingCommand.self])
}

struct LogitLensCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logit-lens",
        abstract: "Per prompt and layer: the top tokens and each target word's probability through the unembedding.")
    @OptionGroup var model: ModelOption
    @Option(help: ArgumentHelp(promptsHelp)) var prompts: String
    @Option(help: "A target word (repeatable); measured by the first token of 'word' and ' word'.") var targets: [String] = []
    @OptionGroup var layers: LayerOption
    @OptionGroup var adapter: AdapterOption
    @OptionGroup var lens: LensOption
    @Option(help: "Top tokens per layer.") var topK = 5
    @OptionGroup var output: ReportOutput
    // f32 by default, so reports stay the exact path's; native fits a GPT-OSS-20B's sweep in 16 GiB (docs/moe.md).
    @Option(help: weightsHelp) var weights: WeightStorage = .f32

    func run() throws {
        let promptList = try PromptArgument.parse(prompts)
        let m = try model.load(weights: weights)
        let adapters = try adapter.load(for: m)
        let layerList = try layers.resolve(layerCount: m.model.config.layerCount)
        let lensChoice = try lens.load(for: m)
        let tokens = promptList.reduce(0) { $0 + m.tokenizer.encode($1).count }
        let report = try TerminalProgress().ticking("logit lens over \(promptList.count) prompts, \(tokens) tokens") {
            try LogitLensSweep.run(model: m.model, tokenizer: m.tokenizer, prompts: promptList, targets: targets,
                                   layers: layerList, topK: topK, adapters: adapters, lens: lensChoice, modelName: m.source.path)
        }
        if try output.emit(report) { return }
        printTable(report, tokenizerNote: targets.map { w in
            let ids = report.prompts.first?.layers.first?.targets[w]?.tokenIds ?? []
            return "\(w) → " + ids.map { "\($0) \(m.tokenizer.piece($0).debugDescription)" }.joined(separator: ", ")
        })
        output.printWrote()
    }

    /// Four decimals, or scientific notation below 0.001 so that small probabilities stay visible.
    func probabilityText(_ p: Double) -> String {
        p >= 0.001 || p == 0 ? String(format: "%.4f", p) : String(format: "%.1e", p)
    }

    func printTable(_ report: LensReport, tokenizerNote: [String]) {
        if !tokenizerNote.isEmpty { print("target tokens: " + tokenizerNote.joined(separator: "; ")) }
        for p in report.prompts {
            print("\nprompt \(p.prompt.debugDescription) (\(p.tokenIds.count) tokens)")
            var header = "layer ".padding(toLength: 7, withPad: " ", startingAt: 0)
            for t in targets { header += String(t.prefix(10)).padding(toLength: 11, withPad: " ", startingAt: 0) }
            print(header + "top tokens")
            for l in p.layers {
                var line = l.name.padding(toLength: 7, withPad: " ", startingAt: 0)
                for t in targets { line += probabilityText(l.targets[t]?.prob ?? 0).padding(toLength: 11, withPad: " ", startingAt: 0) }
                line += l.top.prefix(3).map { "\($0.token.debugDescription) \(String(format: "%.3f", $0.prob))" }.joined(separator: "  ")
                print(line)
            }
            print("model's next token: " + p.finalTop.prefix(3).map { "\($0.token.debugDescription) \(String(format: "%.3f", exp($0.logprob)))" }.joined(separator: "  "))
        }
    }
}

struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Per-layer linear-probe accuracy (logistic regression, stratified 80/20) with a shuffled-label control.")
    @OptionGroup var model: ModelOption
    @Option(help: "JSONL of {\"prompt\": …, LABEL: …} records.") var data: String
    @Option(help: "The label field of each record.") var label = "task"
    @OptionGroup var layers: LayerOption
    @OptionGroup var adapter: AdapterOption
    @Option(help: "Probe training epochs.") var epochs = 100
    @Option(help: "Probe learning rate (Adam).") var learningRate = 0.01
    @Option(help: "Split and initialisation seed.") var seed: UInt64 = 42
    @OptionGroup var output: ReportOutput

    struct Report: Encodable {
        var model: String
        var layers: [ProbeLayerResult]
        var labels: [String]
        var n_train: Int
        var n_test: Int
    }

    func run() throws {
        let set = try LabelledPrompts.load(URL(fileURLWithPath: data), labelField: label)
        let m = try model.load()
        let adapters = try adapter.load(for: m)
        let layerList = try layers.resolve(layerCount: m.model.config.layerCount)
        let classes = set.classes
        let labels = set.labels.map { classes.firstIndex(of: $0)! }
        let progress = TerminalProgress()
        var states = try progress.ticking("hidden states of \(set.prompts.count) prompts") {
            try HiddenStateCollector.collect(model: m.model, prompts: set.prompts.map { m.tokenizer.encode($0) }, adapters: adapters)
        }
        let keep = layerList.compactMap { states.layerIndices.firstIndex(of: $0) }
        states = PromptHiddenStates(layerIndices: keep.map { states.layerIndices[$0] }, states: keep.map { states.states[$0] },
                                    finalLogits: states.finalLogits)
        progress.update("probes", fraction: 0.5, detail: "\(layerList.count) layers", force: true)
        let options = ProbeOptions(epochs: epochs, learningRate: learningRate, seed: seed)
        let results = try ProbeSweep.run(states: states, labels: labels, classes: classes.count, options: options)
        progress.finish()
        let split = ProbeSweep.split(labels: labels, options: options)
        let report = Report(model: m.source.path, layers: results, labels: classes, n_train: split.train.count, n_test: split.test.count)
        if try output.emit(report) { return }
        print("\(set.prompts.count) prompts, labels \(classes.joined(separator: ", ")) (chance \(String(format: "%.3f", 1 / Double(max(1, classes.count))))); train \(report.n_train), test \(report.n_test)")
        print("layer  test_acc  control  selectivity")
        for r in results {
            print(r.name.padding(toLength: 7, withPad: " ", startingAt: 0)
                  + String(format: "%-10.3f%-9.3f%.3f", r.testAccuracy, r.controlAccuracy, r.selectivity))
        }
        output.printWrote()
    }
}

/// The help of every `--prompts`.
let promptsHelp = "Prompts separated by '|', or @FILE with one prompt per line; one that starts with '-' as --prompts=-1+2."

/// `"a|b|c"` or `@file`: parsed by the Introspection library.
enum PromptArgument {
    static func parse(_ text: String) throws -> [String] { try PromptList.parse(text) }
}
