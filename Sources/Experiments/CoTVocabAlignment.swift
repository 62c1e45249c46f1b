// cot_vocab_alignment, the flagship: does chain-of-thought training ("7 * 8 = multiply: 56") make the task
// readable through the vocabulary at intermediate layers, compared with direct training ("7 * 8 = 56")?
// Stages: baseline (no adapter), direct_sft and cot_sft (each LoRA-trained from the base weights); for each,
// answer accuracy, the three logit-lens metrics and probe accuracy at every layer.
import Foundation
import Introspection
import Transformer
import Training
import Datasets

public struct ReferencePrompt: Codable, Sendable, Equatable {
    public var input: String
    public var expected: String
    public var task: String
}

public enum CoTVocabAlignment: Experiment {
    public static let name = "cot_vocab_alignment"
    public static let summary = "Does chain-of-thought training create vocabulary-aligned task classifiers at intermediate layers?"

    public struct Parameters: Codable, Sendable, Equatable {
        public var numSamples: Int
        public var seed: Int
        public var maxSteps: Int
        public var batchSize: Int
        public var learningRate: Double
        public var lora: LoRAParameters
        public var checkLayersPct: [Double]
        public var testPrompts: [ReferencePrompt]
        public var evalSamples: Int
        public var validSamples: Int
        public var promptStyle: PromptStyle
        public var maxNewTokens: Int
        public var probeEpochs: Int
        public var probeLr: Double
        public var probeBatchSize: Int

        enum CodingKeys: String, CodingKey {
            case numSamples = "num_samples", seed, maxSteps = "max_steps", batchSize = "batch_size"
            case learningRate = "learning_rate", lora, checkLayersPct = "check_layers_pct", testPrompts = "test_prompts"
            case evalSamples = "eval_samples", validSamples = "valid_samples", promptStyle = "prompt_style"
            case maxNewTokens = "max_new_tokens", probeEpochs = "probe_epochs", probeLr = "probe_lr", probeBatchSize = "probe_batch_size"
        }
    }

    /// The original experiment's nine test prompts (from its config.yaml).
    public static let referencePrompts: [ReferencePrompt] = [
        .init(input: "7 * 8 = ", expected: "56", task: "multiply"), .init(input: "12 * 5 = ", expected: "60", task: "multiply"),
        .init(input: "9 * 9 = ", expected: "81", task: "multiply"), .init(input: "23 + 45 = ", expected: "68", task: "add"),
        .init(input: "17 + 38 = ", expected: "55", task: "add"), .init(input: "55 + 27 = ", expected: "82", task: "add"),
        .init(input: "89 - 34 = ", expected: "55", task: "subtract"), .init(input: "65 - 28 = ", expected: "37", task: "subtract"),
        .init(input: "100 - 43 = ", expected: "57", task: "subtract"),
    ]

    public static let defaultParameters = Parameters(
        numSamples: 3000, seed: 42, maxSteps: 500, batchSize: 4, learningRate: 0.0002,
        lora: LoRAParameters(rank: 16, alpha: 32, targets: ["q_proj", "k_proj", "v_proj", "o_proj"]),
        checkLayersPct: [0.25, 0.5, 0.55, 0.75, 0.85, 0.95], testPrompts: referencePrompts,
        evalSamples: 300, validSamples: 60, promptStyle: .aligned, maxNewTokens: 20,
        probeEpochs: 100, probeLr: 0.01, probeBatchSize: 32)

    static let tasks = ArithmeticOperation.allCases.map(\.rawValue)

    /// The prompt a reference prompt becomes under the chosen style (the original experiment's prompts end with a space).
    static func styled(_ input: String, _ style: PromptStyle) -> String {
        let trimmed = input.trimmingCharacters(in: .whitespaces)
        return style == .original ? trimmed + " " : trimmed
    }

    public static func run(parameters p: Parameters, config: ExperimentConfig, context: ExperimentContext) throws -> [URL] {
        try validate(p, source: config.source)
        let wallStart = Date()
        // Data: deterministic from the seed, written atomically.
        let data = ArithmeticDataset.make(trainSamples: p.numSamples, validSamples: p.validSamples, testSamples: p.evalSamples,
                                          seed: UInt64(p.seed))
        try TaskData.writeTrainingFolders(data, to: context.dataFolder)
        context.log("data: \(data.train.count) training problems, \(data.valid.count) validation, \(data.test.count) held-out test (disjoint)")
        if let note = heldOutCapNote(requested: p.evalSamples, drawn: data.test.count) { context.log("data: \(note)") }

        context.log("loading model \(config.model)")
        let loaded = try ModelLoader.load(config.model)
        let modelKey = ModelIdentity(loaded)
        let referencePrompts = p.testPrompts.map { TaskPrompt(prompt: styled($0.input, p.promptStyle), task: $0.task, expected: Int($0.expected) ?? Int.min) }
        let heldout = data.test.map { TaskPrompt(prompt: $0.prompt(style: p.promptStyle), task: $0.operation.rawValue, expected: $0.result) }
        let probeOptions = ProbeOptions(epochs: p.probeEpochs, learningRate: p.probeLr, batchSize: p.probeBatchSize, seed: UInt64(p.seed))

        var stages: [StageResult] = []
        for stage in ["baseline", "direct_sft", "cot_sft"] {
            let trainKey = TrainStageKey(model: modelKey, stage: stage, numSamples: p.numSamples, seed: p.seed, maxSteps: p.maxSteps,
                                         batchSize: p.batchSize, learningRate: p.learningRate, lora: p.lora, validSamples: p.validSamples)
            var adapters: LoRAAdapters? = nil
            var training: TrainingSummary? = nil
            if stage != "baseline" {
                let format = stage == "cot_sft" ? "cot" : "direct"
                let trained = try StageTraining.trainOrLoad(loaded, data: context.dataFolder.appendingPathComponent(format),
                                                            checkpoint: context.checkpointFolder(stage, key: trainKey),
                                                            settings: StageTraining.Settings(steps: p.maxSteps, batchSize: p.batchSize,
                                                                                             learningRate: p.learningRate, lora: p.lora, seed: p.seed),
                                                            stage: stage, context: context)
                adapters = trained.adapters
                training = trained.summary
            }
            // The baseline reads the base weights only: its key leaves out every training setting.
            let evalKey = EvalStageKey(model: modelKey, seed: p.seed, train: stage == "baseline" ? nil : trainKey, promptStyle: p.promptStyle,
                                       evalSamples: p.evalSamples, maxNewTokens: p.maxNewTokens, testPrompts: p.testPrompts, probe: probeOptions)
            let result = try context.stage("\(stage)-evaluation", key: evalKey) { () -> StageResult in
                let start = Date()
                let reference = try TaskEvaluation.accuracy(loaded, adapters: adapters, prompts: referencePrompts, maxTokens: p.maxNewTokens)
                let held = try TaskEvaluation.accuracy(loaded, adapters: adapters, prompts: heldout, maxTokens: p.maxNewTokens) {
                    context.progress("\(stage): generation", $0)
                }
                context.log(String(format: "%@: held-out accuracy %.1f%% (n=%d), reference prompts %d/%d", stage,
                                   held.overall.value * 100, held.overall.n, reference.overall.successes, reference.overall.n))
                let layers = try TaskEvaluation.layers(loaded, adapters: adapters, prompts: heldout, tasks: tasks, probeOptions: probeOptions)
                return StageResult(name: stage, accuracyReferencePrompts: reference.overall, accuracyHeldout: held.overall, accuracyByTask: held.byTask,
                                   referencePromptOutcomes: reference.outcomes, heldoutExamples: Array(held.outcomes.prefix(12)), layers: layers,
                                   training: training, evaluationSeconds: Date().timeIntervalSince(start))
            }
            var withTraining = result
            withTraining.training = training ?? result.training
            stages.append(withTraining)
        }

        let report = CoTReport(parameters: p, model: config.model, config: loaded.model.config, stages: stages,
                               dataCounts: ["train": data.train.count, "valid": data.valid.count, "test": data.test.count],
                               wallSeconds: Date().timeIntervalSince(wallStart))
        var written: [URL] = []
        written.append(try context.writeJSON(report.results, to: "results.json"))
        for (name, svg) in report.plots() { written.append(try context.write(svg, to: name)) }
        written.append(try context.write(report.markdown(), to: "report.md"))
        return written
    }

    /// Everything `run` and the trainer would refuse, refused before the first stage, naming the config key.
    public static func validate(_ p: Parameters, source: String) throws {
        func bad(_ key: String, _ why: String) -> ExperimentError { .badValue(file: source, key: "parameters.\(key)", reason: why) }
        guard p.numSamples > 0 else { throw bad("num_samples", "must be positive, got \(p.numSamples)") }
        guard p.maxSteps > 0 else { throw bad("max_steps", "must be positive, got \(p.maxSteps)") }
        guard p.batchSize > 0 else { throw bad("batch_size", "must be positive, got \(p.batchSize)") }
        guard p.learningRate.isFinite, p.learningRate > 0 else { throw bad("learning_rate", "must be a positive number, got \(p.learningRate)") }
        guard p.lora.rank > 0 else { throw bad("lora.rank", "must be positive, got \(p.lora.rank)") }
        guard p.lora.alpha.isFinite, p.lora.alpha > 0 else { throw bad("lora.alpha", "must be a positive number, got \(p.lora.alpha)") }
        guard !p.lora.targets.isEmpty else { throw bad("lora.targets", "must name at least one projection") }
        guard Set(p.lora.targets).count == p.lora.targets.count else { throw bad("lora.targets", "lists a projection twice: \(p.lora.targets)") }
        guard p.evalSamples >= 6 else { throw bad("eval_samples", "must be at least 6 (two per task for the probe split)") }
        guard p.validSamples >= 0 else { throw bad("valid_samples", "must be 0 or more, got \(p.validSamples)") }
        guard p.maxNewTokens > 0 else { throw bad("max_new_tokens", "must be positive, got \(p.maxNewTokens)") }
        guard p.probeEpochs > 0 else { throw bad("probe_epochs", "must be positive, got \(p.probeEpochs)") }
        guard p.probeLr.isFinite, p.probeLr > 0 else { throw bad("probe_lr", "must be a positive number, got \(p.probeLr)") }
        guard p.probeBatchSize > 0 else { throw bad("probe_batch_size", "must be positive, got \(p.probeBatchSize)") }
        for t in p.lora.targets where Projection(rawValue: t) == nil {
            throw bad("lora.targets", "'\(t)' is not one of \(Projection.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        for pct in p.checkLayersPct where !(0..<1).contains(pct) { throw bad("check_layers_pct", "\(pct) is not in [0, 1)") }
        for tp in p.testPrompts {
            guard tasks.contains(tp.task) else { throw bad("test_prompts", "task '\(tp.task)' is not one of \(tasks.joined(separator: ", "))") }
            guard Int(tp.expected) != nil else { throw bad("test_prompts", "expected '\(tp.expected)' is not an integer") }
        }
    }
}

/// The sentence the log and the report carry when the held-out set is smaller than `eval_samples` asked.
func heldOutCapNote(requested: Int, drawn: Int) -> String? {
    guard drawn < requested else { return nil }
    let smallest = ArithmeticOperation.allCases.min { $0.universe.count < $1.universe.count }
    let detail = smallest.map { ", and \($0.rawValue) has only \($0.universe.count)" } ?? ""
    let perOperation = drawn / max(1, ArithmeticOperation.allCases.count)
    return "eval_samples \(requested) capped to \(drawn) held-out problems (\(perOperation) per operation: each holds out at most 40% of its problems\(detail))"
}

/// What identifies the weights a stage starts from (path, size and the shapes).
struct ModelIdentity: Codable, Equatable {
    var path: String
    var bytes: Int
    var layers: Int
    var vocabulary: Int
    init(_ loaded: LoadedModel) {
        path = loaded.source.standardizedFileURL.path
        bytes = ((try? FileManager.default.attributesOfItem(atPath: loaded.source.path)[.size]) as? Int) ?? 0
        layers = loaded.model.config.layerCount
        vocabulary = loaded.model.config.vocabularySize
    }
}

struct TrainStageKey: Codable {
    var model: ModelIdentity
    var stage: String
    var numSamples: Int, seed: Int, maxSteps: Int, batchSize: Int, learningRate: Double
    var lora: LoRAParameters
    var validSamples: Int
    /// 2: balanced held-out sets (the same number of problems per operation).
    var version = 2
}

/// What an evaluation depends on: the model, the held-out set (seed and eval_samples draw it; it is disjoint
/// from training whatever num_samples is), the training stage's key for a trained stage, nil for the baseline.
struct EvalStageKey: Codable {
    var model: ModelIdentity
    var seed: Int
    var train: TrainStageKey?
    var promptStyle: PromptStyle
    var evalSamples: Int
    var maxNewTokens: Int
    var testPrompts: [ReferencePrompt]
    var probe: ProbeOptions
    /// 3: the baseline's key no longer holds the training settings.
    var version = 3
}
