// vocab_objective (the original experiment's hypothesis 3): does an explicit training objective make the
// operation readable through the vocabulary at an intermediate layer? LoRA fine-tuning on the CoT format with
// L = L_answer + λ · CE(lens_k(h_k), operation word) at the last prompt position ('='), λ swept, per training
// seed. λ = 0 is the flagship's cot_sft stage (its cached adapters are reused). Per λ: the lens at every layer
// (does the alignment stay at k or spread?), held-out accuracy, agreement of the lens-read classifier with a
// probe at k, the lens on prompts in a direct-format context, and a tuned lens beside the logit lens.
// Not the report's wording (VocabObjectiveReport.swift) and not the lens term's mathematics (Training/LensObjective).
import Datasets
import Foundation
import Introspection
import Kernels
import Training
import Transformer

public enum VocabObjective: Experiment {
    public static let name = "vocab_objective"
    public static let summary = "Hypothesis 3: does a lens objective at one layer make the operation vocabulary-readable there, and does it spread?"

    public typealias Parameters = TrainedExperimentParameters<Settings>

    public struct Settings: Codable, Sendable, Equatable {
        /// The layer k of the lens term: an index (15, L15) or a fraction of depth (0.5 → int(0.5 × layers)).
        public var lensLayer: String
        /// λ values; 0 (plain CoT fine-tuning, the flagship's cot_sft) is the reference every other is compared with.
        public var lambdas: [Double]
        public var evalSamples: Int
        public var promptStyle: PromptStyle
        public var maxNewTokens: Int
        public var probeEpochs: Int
        public var probeLr: Double
        public var probeBatchSize: Int
        /// logit or tuned:DIR: with a tuned lens every reading is reported through both lenses (the objective itself
        /// always reads through the logit lens, the vocabulary the hypothesis is about).
        public var lens: String
        /// The flagship's experiment folder, relative to this one: λ = 0 is its cot_sft stage, cached there.
        public var flagshipFolder: String

        enum CodingKeys: String, CodingKey {
            case lensLayer = "lens_layer", lambdas, evalSamples = "eval_samples", promptStyle = "prompt_style", maxNewTokens = "max_new_tokens"
            case probeEpochs = "probe_epochs", probeLr = "probe_lr", probeBatchSize = "probe_batch_size", lens, flagshipFolder = "flagship_folder"
        }
    }

    public static let defaultParameters: Parameters = {
        let f = CoTVocabAlignment.defaultParameters
        return Parameters(training: f.training,
                          own: Settings(lensLayer: "0.5", lambdas: [0, 0.1, 1], evalSamples: f.evalSamples, promptStyle: f.promptStyle,
                                        maxNewTokens: f.maxNewTokens, probeEpochs: 100, probeLr: 0.01,
                                        probeBatchSize: 32, lens: "logit", flagshipFolder: "../cot_vocab_alignment"))
    }()

    static let tasks = ArithmeticOperation.allCases.map(\.rawValue)

    /// k from the config's spelling: one block output (embed has no adapter before it to train).
    static func lensLayer(_ p: Parameters, layerCount: Int, source: String) throws -> Int {
        let bad = ExperimentError.badValue(file: source, key: "parameters.lens_layer",
                                           reason: "'\(p.lensLayer)' must name one block output L0…L\(layerCount - 1): an index (15, L15) or a fraction of depth (0.5)")
        guard let layers = try? LayerSelection.parse(p.lensLayer, layerCount: layerCount), layers.count == 1, let k = layers.first,
              (0..<layerCount).contains(k) else { throw bad }
        return k
    }

    public static func run(parameters p: Parameters, config: ExperimentConfig, context: ExperimentContext) throws -> [URL] {
        try validate(p, source: config.source)
        let wallStart = Date()
        context.log("loading model \(config.model)")
        let loaded = try ModelLoader.load(config.model)
        let k = try lensLayer(p, layerCount: loaded.model.config.layerCount, source: config.source)
        let lens = try LensChoice.parse(p.lens, config: loaded.model.config)
        let targets = try LensPositions.targetTokens(tasks: tasks, tokenizer: loaded.tokenizer, style: p.promptStyle)
        context.log("lens objective at L\(k) (\(p.lensLayer)), λ \(p.lambdas.map { "\($0)" }.joined(separator: ", ")), seeds \(p.seeds.map(String.init).joined(separator: ", "))")
        var stages: [VocabStageResult] = []
        for seed in p.seeds {
            for lambda in p.lambdas {
                stages.append(try runStage(seed: seed, lambda: lambda, layer: k, p, loaded: loaded, lens: lens, targets: targets, context: context))
            }
        }
        let report = VocabObjectiveReport(parameters: p, model: config.model, layerCount: loaded.model.config.layerCount, lensLayer: k,
                                          lensName: lens.name, targets: targets, stages: stages, wallSeconds: Date().timeIntervalSince(wallStart))
        var written: [URL] = []
        written.append(try context.writeJSON(report.results, to: "results.json"))
        for (name, svg) in report.plots() { written.append(try context.write(svg, to: name)) }
        written.append(try context.write(report.markdown(), to: "report.md"))
        return written
    }

    /// Where the lens term reads in a training sequence: the position before the operation word's token (the '=' of
    /// "a op b = opname: r", whose state predicts the word), and that token.
    public static func lensTarget(_ example: TrainingExample, wordTokens: Set<Int>) -> LensTarget? {
        guard let t = example.tokens.indices.dropFirst().first(where: { wordTokens.contains(example.tokens[$0]) }) else { return nil }
        return LensTarget(position: t - 1, token: example.tokens[t])
    }

    /// One training seed and λ: the adapters (λ = 0: the flagship's cot_sft, else trained with the lens term), then
    /// every measurement on the held-out problems.
    static func runStage(seed: Int, lambda: Double, layer k: Int, _ p: Parameters, loaded: LoadedModel, lens: LensChoice,
                         targets: TargetTokens, context: ExperimentContext) throws -> VocabStageResult {
        let data = p.training.dataset(trainingSeed: seed, testSamples: p.evalSamples)
        let dataFolder = p.training.dataFolder(context.dataFolder, trainingSeed: seed)
        try TaskData.writeTrainingFolders(data, to: dataFolder)
        let trainKey = p.training.stageKey(model: ModelIdentity(loaded), stage: "cot_sft", trainingSeed: seed)
        let stage = "seed \(seed) λ=\(lambda)"
        let trainingFolder = p.training.trainingFolder(dataFolder, format: "cot")
        let trained: (adapters: LoRAAdapters, summary: TrainingSummary)
        let objectiveKey: VocabTrainKey?
        if lambda == 0 {
            // Plain CoT fine-tuning is the flagship's cot_sft: the same key finds its adapters where it caches them.
            let flagship = context.experimentFolder.appendingPathComponent(p.flagshipFolder).standardizedFileURL
            objectiveKey = nil
            trained = try StageTraining.trainOrLoad(loaded, data: trainingFolder, answerData: dataFolder.appendingPathComponent("cot_answer"),
                                                    checkpoint: flagship.appendingPathComponent("checkpoints/cot_sft-\(ConfigHash.of(trainKey))"),
                                                    settings: p.training.settings(trainingSeed: seed), stage: stage, context: context)
        } else {
            let key = VocabTrainKey(train: trainKey, layer: k, lambda: lambda)
            objectiveKey = key
            let words = Set(tasks.map { targets.forms[$0]!["spaced"]!.id })
            trained = try StageTraining.trainOrLoad(loaded, data: trainingFolder, answerData: dataFolder.appendingPathComponent("cot_answer"),
                                                    checkpoint: context.checkpointFolder("cot_lens_objective", key: key),
                                                    settings: p.training.settings(trainingSeed: seed), stage: stage,
                                                    lens: .init(objective: LensObjective(layer: k, weight: lambda), target: { lensTarget($0, wordTokens: words) }),
                                                    context: context)
        }
        let evalKey = VocabEvalKey(train: trainKey, objective: objectiveKey, layer: k, evalSamples: p.evalSamples, promptStyle: p.promptStyle,
                                   maxNewTokens: p.maxNewTokens, probe: probeOptions(p), lens: p.lens)
        var result = try context.stage("evaluation-seed\(seed)-lambda\(lambda)", key: evalKey) {
            try VocabMeasurement(loaded: loaded, adapters: trained.adapters, data: data, parameters: p, layer: k, lens: lens, targets: targets)
                .run(seed: seed, lambda: lambda, context: context)
        }
        result.training = trained.summary
        return result
    }

    static func probeOptions(_ p: Parameters) -> ProbeOptions {
        ProbeOptions(epochs: p.probeEpochs, learningRate: p.probeLr, batchSize: p.probeBatchSize, seed: UInt64(p.seed))
    }

    public static func validate(_ p: Parameters, source: String) throws {
        func bad(_ key: String, _ why: String) -> ExperimentError { .badValue(file: source, key: "parameters.\(key)", reason: why) }
        try p.training.validate(source: source)
        guard !p.lambdas.isEmpty, p.lambdas.contains(0) else { throw bad("lambdas", "must list 0 (the reference: plain CoT fine-tuning) and the λ values to compare, e.g. [0, 0.1, 1]") }
        guard Set(p.lambdas).count == p.lambdas.count else { throw bad("lambdas", "lists a value twice: \(p.lambdas)") }
        for l in p.lambdas where !(l.isFinite && l >= 0) { throw bad("lambdas", "\(l) must be a finite number ≥ 0") }
        try TaskEvaluation.validate(evalSamples: p.evalSamples, maxNewTokens: p.maxNewTokens, probe: probeOptions(p), source: source)
        let spelling = p.lensLayer.trimmingCharacters(in: .whitespaces)
        guard !spelling.isEmpty, !spelling.contains(","), spelling != "all", spelling != "embed" else {
            throw bad("lens_layer", "'\(p.lensLayer)' must name one block output: an index (15, L15) or a fraction of depth (0.5)")
        }
        guard p.lens == "logit" || p.lens.hasPrefix("tuned:") else { throw bad("lens", "'\(p.lens)': use 'logit' or 'tuned:DIR' (a folder written by 'lazarus lens train')") }
    }
}

/// A λ > 0 stage's adapters: the cot_sft training key plus the lens term.
struct VocabTrainKey: Codable {
    var train: TrainStageKey
    var layer: Int
    var lambda: Double
    var version = 1
}

struct VocabEvalKey: Codable {
    var train: TrainStageKey
    var objective: VocabTrainKey?
    var layer: Int
    var evalSamples: Int
    var promptStyle: PromptStyle
    var maxNewTokens: Int
    var probe: ProbeOptions
    var lens: String
    var version = 1
}
