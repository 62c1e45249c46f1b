// probe_classifier, the flagship's companion: is the arithmetic task linearly decodable from the residual
// stream, layer by layer (probe, with a shuffled-label control), and how does that compare with what the
// logit lens reads at the same layers? Also classifies the nine reference prompts (the original experiment's) with each layer's probe.
import Foundation
import ModelFiles
import Introspection
import Kernels
import Transformer
import Datasets

public struct ReferenceProbePrompt: Codable, Sendable, Equatable {
    public var input: String
    public var task: String
}

public enum ProbeClassifier: Experiment {
    public static let name = "probe_classifier"
    public static let summary = "Linear probes for the arithmetic task at every layer, with shuffled-label controls, against the logit lens."

    public struct Parameters: Codable, Sendable, Equatable {
        public var numSamples: Int
        public var seed: Int
        public var probeEpochs: Int
        public var probeLr: Double
        public var probeBatchSize: Int
        public var probeLayersPct: [Double]
        public var testPrompts: [ReferenceProbePrompt]
        public var promptStyle: PromptStyle

        enum CodingKeys: String, CodingKey {
            case numSamples = "num_samples", seed, probeEpochs = "probe_epochs", probeLr = "probe_lr"
            case probeBatchSize = "probe_batch_size", probeLayersPct = "probe_layers_pct", testPrompts = "test_prompts"
            case promptStyle = "prompt_style"
        }
    }

    public static let defaultParameters = Parameters(
        numSamples: 2000, seed: 42, probeEpochs: 100, probeLr: 0.01, probeBatchSize: 32,
        probeLayersPct: [0.25, 0.35, 0.45, 0.55, 0.65, 0.75, 0.85, 0.95],
        testPrompts: CoTVocabAlignment.referencePrompts.map { ReferenceProbePrompt(input: $0.input, task: $0.task) },
        promptStyle: .aligned)

    static let tasks = ArithmeticOperation.allCases.map(\.rawValue)

    /// Distinct problems, the SAME number per operation so that chance is 1/3: a third of `count`, but at most the
    /// smallest operation's universe (multiplication in 2…12 has 121 problems, so 2000 asked give 3 × 121; before,
    /// 121 / 667 / 667 made "chance" 47% for a probe that always says add).
    static func problems(count: Int, seed: UInt64) -> [ArithmeticProblem] {
        var rng = SeededRandom(seed: seed)
        var out: [ArithmeticProblem] = []
        let per = min((count + 2) / 3, ArithmeticOperation.allCases.map { $0.universe.count }.min() ?? 0)
        for op in ArithmeticOperation.allCases {
            var all = op.universe
            rng.shuffle(&all)
            out += all.prefix(per)
        }
        return out
    }

    struct PromptClassification: Codable, Equatable {
        var prompt: String
        var task: String
        var predictions: [String: String]   // layer name → predicted task
    }

    struct Results: Codable {
        var schema: String
        var experiment: String
        var model: String
        var parameters: Parameters
        var samples: [String: Int]
        var nTrain: Int
        var nTest: Int
        var labels: [String]
        var layers: [LayerRow]
        var probeLayers: [String]
        var testPrompts: [PromptClassification]
        var summary: [String]
        var timings: [String: Double]
        enum CodingKeys: String, CodingKey {
            case schema, experiment, model, parameters, samples, labels, layers, summary, timings
            case nTrain = "n_train", nTest = "n_test", probeLayers = "probe_layers", testPrompts = "test_prompts"
        }
    }

    public static func validate(_ p: Parameters, source: String) throws {
        func bad(_ key: String, _ why: String) -> ExperimentError { .badValue(file: source, key: "parameters.\(key)", reason: why) }
        guard p.numSamples >= 30 else { throw bad("num_samples", "must be at least 30") }
        guard p.probeEpochs > 0 else { throw bad("probe_epochs", "must be positive") }
        guard p.probeLr.isFinite, p.probeLr > 0 else { throw bad("probe_lr", "must be a positive number") }
        guard p.probeBatchSize > 0 else { throw bad("probe_batch_size", "must be positive") }
        for t in p.testPrompts where !tasks.contains(t.task) {
            throw bad("test_prompts", "task '\(t.task)' is not one of \(tasks.joined(separator: ", "))")
        }
    }

    public static func run(parameters p: Parameters, config: ExperimentConfig, context: ExperimentContext) throws -> [URL] {
        try validate(p, source: config.source)
        let start = Date()
        let problems = Self.problems(count: p.numSamples, seed: UInt64(p.seed))
        let records = problems.map { ProbeRecord(prompt: $0.prompt(style: p.promptStyle), task: $0.operation.rawValue, result: $0.result) }
        try AtomicWrite.write(try JSONLines.encode(records), to: context.dataFolder.appendingPathComponent("probe.jsonl"))
        context.log("data: \(records.count) distinct problems (\(tasks.map { t in "\(records.filter { $0.task == t }.count) \(t)" }.joined(separator: ", ")))")

        let loaded = try ModelLoader.load(config.model)
        let options = ProbeOptions(epochs: p.probeEpochs, learningRate: p.probeLr, batchSize: p.probeBatchSize, seed: UInt64(p.seed))
        let key = ["model": ModelIdentity(loaded).path, "params": ConfigHash.of(p)]
        // One batched pass over the records feeds the lens, the probe sweep and the reference-prompt classifiers.
        let labels = records.map { tasks.firstIndex(of: $0.task)! }
        let states = try HiddenStateCollector.collect(model: loaded.model, prompts: records.map { loaded.tokenizer.encode($0.prompt) })
        let layers = try context.stage("probe-sweep", key: key) {
            try TaskEvaluation.layers(loaded, states: states, labels: labels, tasks: tasks, probeOptions: options)
        }

        // Classify the reference prompts with probes trained on the training split at the chosen layers.
        let probeLayerIndices = Array(Set(p.probeLayersPct.map { LayerSelection.index(fraction: $0, layerCount: loaded.model.config.layerCount) })).sorted()
        let split = ProbeSweep.split(labels: labels, options: options)
        let testStyled = p.testPrompts.map { CoTVocabAlignment.styled($0.input, p.promptStyle) }
        let testStates = try HiddenStateCollector.collect(model: loaded.model, prompts: testStyled.map { loaded.tokenizer.encode($0) })
        var classifications = p.testPrompts.enumerated().map { PromptClassification(prompt: testStyled[$0.offset], task: $0.element.task, predictions: [:]) }
        for index in probeLayerIndices {
            guard let features = states.state(layer: index), let testFeatures = testStates.state(layer: index) else { continue }
            let probe = LinearProbe.train(features: features, labels: labels, rows: split.train, classes: tasks.count, options: options)
            let predicted = probe.predict(testFeatures, rows: Array(0..<testFeatures.rows))
            for (i, k) in predicted.enumerated() { classifications[i].predictions["L\(index)"] = tasks[k] }
        }

        let summary = Self.summarise(layers, probeLayers: probeLayerIndices, classifications: classifications)
        let results = Results(
            schema: "lazarus.probe_classifier.v1", experiment: name, model: config.model, parameters: p,
            samples: Dictionary(uniqueKeysWithValues: tasks.map { t in (t, records.filter { $0.task == t }.count) }),
            nTrain: split.train.count, nTest: split.test.count, labels: tasks, layers: layers,
            probeLayers: probeLayerIndices.map { "L\($0)" }, testPrompts: classifications, summary: summary,
            timings: ["wall_s": Date().timeIntervalSince(start)])
        var written: [URL] = []
        written.append(try context.writeJSON(results, to: "results.json"))
        var chart = SVGLineChart(title: "Linear probe vs logit lens, by depth", xLabel: "layer (embed = -1)", yLabel: "accuracy",
                                 series: [ChartSeries(name: "probe", points: layers.map { (Double($0.index), $0.probeAccuracy) }),
                                          ChartSeries(name: "shuffled-label control", points: layers.map { (Double($0.index), $0.probeControlAccuracy) }),
                                          ChartSeries(name: "logit-lens task accuracy", points: layers.map { (Double($0.index), $0.lensTaskAccuracy) })],
                                 yRange: 0...1)
        for l in layers { chart.xTickLabels[Double(l.index)] = l.name }
        written.append(try context.write(chart.render(), to: "probe_accuracy_by_depth.svg"))
        written.append(try context.write(markdown(results), to: "report.md"))
        return written
    }

    static func summarise(_ layers: [LayerRow], probeLayers: [Int], classifications: [PromptClassification]) -> [String] {
        func pct(_ v: Double) -> String { String(format: "%.1f%%", v * 100) }
        var out: [String] = []
        if let embed = layers.first(where: { $0.index == -1 }) {
            out.append("At the embedding output the probe reaches \(pct(embed.probeAccuracy)) (control \(pct(embed.probeControlAccuracy))): the floor, since the last token \" =\" is the same for every task.")
        }
        if let first = layers.first(where: { $0.index >= 0 && $0.probeAccuracy >= 0.9 && $0.probeSelectivity >= 0.3 }) {
            out.append("The task is linearly decodable from \(first.name) on: probe \(pct(first.probeAccuracy)), control \(pct(first.probeControlAccuracy)), selectivity \(String(format: "%.2f", first.probeSelectivity)).")
        } else {
            out.append("No layer reaches 90% probe accuracy with selectivity of at least 0.3 (best: \(pct(layers.map(\.probeAccuracy).max() ?? 0))).")
        }
        if let bestLens = layers.filter({ $0.index >= 0 }).max(by: { $0.lensTaskAccuracy < $1.lensTaskAccuracy }) {
            out.append("Through the vocabulary (logit lens) the best task accuracy is \(pct(bestLens.lensTaskAccuracy)) at \(bestLens.name), with mean task-word probability \(String(format: "%.3f%%", bestLens.meanTaskProb * 100)).")
        }
        let correct = classifications.reduce(0) { acc, c in acc + c.predictions.values.filter { $0 == c.task }.count }
        let total = classifications.reduce(0) { $0 + $1.predictions.count }
        if total > 0 { out.append("The probes at the original experiment's layers classify its reference prompts correctly in \(correct) of \(total) cases.") }
        return out
    }

    static func markdown(_ r: Results) -> String {
        func pct(_ v: Double) -> String { v.isNaN ? "–" : String(format: "%.1f%%", v * 100) }
        var md = "# probe_classifier — results\n\nModel: `\(r.model)`. \(r.samples.values.reduce(0, +)) distinct problems ("
        md += r.labels.map { "\(r.samples[$0] ?? 0) \($0)" }.joined(separator: ", ") + "), stratified split \(r.nTrain)/\(r.nTest), seed \(r.parameters.seed).\n\n"
        md += "## Findings\n\n" + r.summary.map { "- \($0)" }.joined(separator: "\n") + "\n\n"
        md += "## Every layer\n\n| Layer | Probe | Control | Selectivity | Lens task accuracy | Mean task prob |\n|---|---|---|---|---|---|\n"
        for l in r.layers {
            md += "| \(l.name) | \(pct(l.probeAccuracy)) | \(pct(l.probeControlAccuracy)) | \(String(format: "%.2f", l.probeSelectivity)) | \(pct(l.lensTaskAccuracy)) | \(String(format: "%.3f%%", l.meanTaskProb * 100)) |\n"
        }
        md += "\n## Reference prompts, classified by the probe at each of the original experiment's layers\n\n| Prompt | Task | " + r.probeLayers.joined(separator: " | ") + " |\n|---|---|" + r.probeLayers.map { _ in "---|" }.joined() + "\n"
        for c in r.testPrompts {
            md += "| `\(c.prompt)` | \(c.task) | " + r.probeLayers.map { l in c.predictions[l].map { $0 == c.task ? "✓ \($0)" : "✗ \($0)" } ?? "–" }.joined(separator: " | ") + " |\n"
        }
        md += "\n![probe accuracy by depth](probe_accuracy_by_depth.svg)\n"
        return md
    }
}
