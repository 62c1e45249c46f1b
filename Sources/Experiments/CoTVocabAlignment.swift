// cot_vocab_alignment, the flagship: does chain-of-thought training ("7 * 8 = multiply: 56") make the task
// readable through the vocabulary at intermediate layers, compared with direct training ("7 * 8 = 56")?
// Stages: baseline (no adapter), direct_sft and cot_sft (each LoRA-trained from the base weights); for each,
// answer accuracy, the three logit-lens metrics and probe accuracy at every layer.
import Foundation
import Introspection
import Transformer
import Training
import Datasets

/// A reference prompt and where it stands against the run's data.
public struct ReferenceProvenance: Codable, Sendable, Equatable {
    public var prompt: String
    public var provenance: ProblemProvenance
}

/// The sizes of one run's data and how much of it training saw.
public struct DataCounts: Codable, Sendable, Equatable {
    public var train: Int, valid: Int, test: Int
    /// Steps × batch size.
    public var examplesSeen: Int
    public var epochs: Double
    /// Distinct problems per operation in the training file, and among the examples the batches visited.
    public var distinctTrainingProblems: [String: Int]
    public var distinctSeenProblems: [String: Int]
    enum CodingKeys: String, CodingKey {
        case train, valid, test, examplesSeen = "examples_seen", epochs
        case distinctTrainingProblems = "distinct_training_problems", distinctSeenProblems = "distinct_seen_problems"
    }
}

/// One training seed's three stages.
public struct SeedRun: Codable, Sendable, Equatable {
    public var seed: Int
    public var dataSeed: Int
    public var stages: [StageResult]
    public var data: DataCounts
    public var referenceProvenance: [ReferenceProvenance]
    /// The base model's held-out accuracy with few-shot examples and with the chat template (answers only).
    public var baselines: [String: Proportion]?
    enum CodingKeys: String, CodingKey { case seed, dataSeed = "data_seed", stages, data, referenceProvenance = "reference_provenance", baselines }
}

public struct ReferencePrompt: Codable, Sendable, Equatable {
    public var input: String
    public var expected: String
    public var task: String
}

public enum CoTVocabAlignment: Experiment {
    public static let name = "cot_vocab_alignment"
    public static let summary = "Does chain-of-thought training create vocabulary-aligned task classifiers at intermediate layers?"

    /// The shared training group (SFTTrainingParameters: data, seeds, optimiser, LoRA, matched_ranges, mask_prompt)
    /// and the flagship's own settings, flat in config.yaml; `p.maxSteps` reads through to the group.
    @dynamicMemberLookup
    public struct Parameters: Codable, Sendable, Equatable {
        public var training: SFTTrainingParameters
        public var checkLayersPct: [Double]
        public var testPrompts: [ReferencePrompt]
        public var evalSamples: Int
        public var promptStyle: PromptStyle
        public var maxNewTokens: Int
        /// Outer folds of the probes' cross-validation (grouped by unordered operand pair, stratified by operation).
        public var probeFolds: Int
        /// The L2 penalties inner cross-validation chooses from, per layer and outer fold (RidgeProbeCV's λ).
        public var probeL2Grid: [Double]
        /// Probe-set problems per operation, drawn from each operation's whole universe (capped at the smallest).
        public var probeSamplesPerOperation: Int
        /// `logit`, or `tuned:DIR` to read the tuned lens beside the logit lens at every position.
        public var lens: String

        enum CodingKeys: String, CodingKey {
            case checkLayersPct = "check_layers_pct", testPrompts = "test_prompts"
            case evalSamples = "eval_samples", promptStyle = "prompt_style"
            case maxNewTokens = "max_new_tokens", probeFolds = "probe_folds", probeL2Grid = "probe_l2_grid"
            case probeSamplesPerOperation = "probe_samples_per_operation", lens
        }

        public init(from decoder: any Decoder) throws {
            training = try SFTTrainingParameters(from: decoder)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            checkLayersPct = try c.decode([Double].self, forKey: .checkLayersPct)
            testPrompts = try c.decode([ReferencePrompt].self, forKey: .testPrompts)
            evalSamples = try c.decode(Int.self, forKey: .evalSamples)
            promptStyle = try c.decode(PromptStyle.self, forKey: .promptStyle)
            maxNewTokens = try c.decode(Int.self, forKey: .maxNewTokens)
            probeFolds = try c.decode(Int.self, forKey: .probeFolds)
            probeL2Grid = try c.decode([Double].self, forKey: .probeL2Grid)
            probeSamplesPerOperation = try c.decode(Int.self, forKey: .probeSamplesPerOperation)
            lens = try c.decode(String.self, forKey: .lens)
        }

        public func encode(to encoder: any Encoder) throws {
            try training.encode(to: encoder)
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(checkLayersPct, forKey: .checkLayersPct)
            try c.encode(testPrompts, forKey: .testPrompts)
            try c.encode(evalSamples, forKey: .evalSamples)
            try c.encode(promptStyle, forKey: .promptStyle)
            try c.encode(maxNewTokens, forKey: .maxNewTokens)
            try c.encode(probeFolds, forKey: .probeFolds)
            try c.encode(probeL2Grid, forKey: .probeL2Grid)
            try c.encode(probeSamplesPerOperation, forKey: .probeSamplesPerOperation)
            try c.encode(lens, forKey: .lens)
        }

        public init(training: SFTTrainingParameters, checkLayersPct: [Double], testPrompts: [ReferencePrompt], evalSamples: Int,
                    promptStyle: PromptStyle, maxNewTokens: Int, probeFolds: Int, probeL2Grid: [Double], probeSamplesPerOperation: Int,
                    lens: String) {
            self.training = training
            (self.checkLayersPct, self.testPrompts, self.evalSamples, self.promptStyle) = (checkLayersPct, testPrompts, evalSamples, promptStyle)
            (self.maxNewTokens, self.probeFolds, self.probeL2Grid) = (maxNewTokens, probeFolds, probeL2Grid)
            (self.probeSamplesPerOperation, self.lens) = (probeSamplesPerOperation, lens)
        }

        public subscript<T>(dynamicMember key: WritableKeyPath<SFTTrainingParameters, T>) -> T {
            get { training[keyPath: key] }
            set { training[keyPath: key] = newValue }
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
        training: .flagship, checkLayersPct: [0.25, 0.5, 0.55, 0.75, 0.85, 0.95], testPrompts: referencePrompts,
        evalSamples: 300, promptStyle: .aligned, maxNewTokens: 20,
        probeFolds: 5, probeL2Grid: [1e-3, 1e-2, 1e-1, 1, 10, 100], probeSamplesPerOperation: 120, lens: "logit")

    static let tasks = ArithmeticOperation.allCases.map(\.rawValue)

    /// The prompt a reference prompt becomes under the chosen style (the original experiment's prompts end with a space).
    static func styled(_ input: String, _ style: PromptStyle) -> String {
        let trimmed = input.trimmingCharacters(in: .whitespaces)
        return style == .original ? trimmed + " " : trimmed
    }

    public static func run(parameters p: Parameters, config: ExperimentConfig, context: ExperimentContext) throws -> [URL] {
        try validate(p, source: config.source)
        let wallStart = Date()
        context.log("loading model \(config.model)")
        let loaded = try ModelLoader.load(config.model)
        let targets = try LensPositions.targetTokens(tasks: tasks, tokenizer: loaded.tokenizer, style: p.promptStyle)
        let lens: LensChoice
        do { lens = try LensChoice.parse(p.lens, config: loaded.model.config) } catch {
            throw ExperimentError.badValue(file: config.source, key: "parameters.lens", reason: "\(error)")
        }
        var runs: [SeedRun] = []
        for trainSeed in p.seeds {
            runs.append(try runSeed(trainSeed, p, loaded: loaded, targets: targets, lens: lens, context: context))
        }
        let report = CoTReport(parameters: p, model: config.model, config: ModelShape(loaded.model.config), runs: runs, targets: targets,
                               wallSeconds: Date().timeIntervalSince(wallStart))
        var written: [URL] = []
        // Compact: three seeds' per-layer readings at three positions and forms are ~3.5 MB indented, ~1.2 MB not.
        written.append(try context.writeJSON(report.results, to: "results.json", compact: true))
        for (name, svg) in report.plots() { written.append(try context.write(svg, to: name)) }
        written.append(try context.write(report.markdown(), to: "report.md"))
        return written
    }

    /// What a report is rendered from: the parts of a v2 results.json that hold measurements (the report's
    /// conclusions are recomputed from them, so a test can check each conclusion against fixed numbers).
    struct ReportInput: Decodable {
        var model: String
        var modelConfig: [String: Double]
        var parameters: Parameters
        var targetTokens: TargetTokens
        var perSeed: [PerSeedInput]
        var timings: [String: Double]
        enum CodingKeys: String, CodingKey {
            case model, modelConfig = "model_config", parameters, targetTokens = "target_tokens", perSeed = "per_seed", timings
        }
        struct PerSeedInput: Decodable {
            var seed: Int, dataSeed: Int, data: DataCounts, referenceProvenance: [ReferenceProvenance], stages: [String: StageResult]
            var baselines: [String: Proportion]?
            enum CodingKeys: String, CodingKey { case seed, dataSeed = "data_seed", data, referenceProvenance = "reference_provenance", stages, baselines }
        }
    }

    /// The report (Markdown) and its conclusions, rendered again from a v2 results.json.
    public static func renderReport(fromResults data: Data) throws -> (markdown: String, conclusions: [String]) {
        let input = try JSONDecoder().decode(ReportInput.self, from: data)
        let runs = input.perSeed.map { s in
            SeedRun(seed: s.seed, dataSeed: s.dataSeed, stages: CoTReport.stageNames.compactMap { s.stages[$0] }, data: s.data,
                    referenceProvenance: s.referenceProvenance, baselines: s.baselines)
        }
        let report = CoTReport(parameters: input.parameters, model: input.model, config: ModelShape(input.modelConfig), runs: runs,
                               targets: input.targetTokens, wallSeconds: input.timings["wall_s"] ?? 0)
        return (report.markdown(), report.conclusions)
    }

    /// The three stages for one training seed: data (from the data seed), baseline, direct_sft, cot_sft.
    static func runSeed(_ trainSeed: Int, _ p: Parameters, loaded: LoadedModel, targets: TargetTokens, lens lensChoice: LensChoice,
                        context: ExperimentContext) throws -> SeedRun {
        let dataSeed = p.varyDataSeed ? trainSeed : p.seed
        // Data: deterministic from the data seed, written atomically (one folder per data seed when they vary).
        let data = ArithmeticDataset.make(trainSamples: p.numSamples, validSamples: p.validSamples, testSamples: p.evalSamples,
                                          seed: UInt64(dataSeed), matchedRanges: p.matchedRanges)
        let dataFolder = p.varyDataSeed ? context.dataFolder.appendingPathComponent("seed-\(dataSeed)") : context.dataFolder
        try TaskData.writeTrainingFolders(data, to: dataFolder)
        context.log("seed \(trainSeed) (data seed \(dataSeed)): \(data.train.count) training problems, \(data.valid.count) validation, \(data.test.count) held-out test (split by unordered operand pair)")
        if let note = heldOutCapNote(requested: p.evalSamples, drawn: data.test.count) { context.log("data: \(note)") }
        let modelKey = ModelIdentity(loaded)
        let referencePrompts = p.testPrompts.map { TaskPrompt(prompt: styled($0.input, p.promptStyle), task: $0.task, expected: Int($0.expected) ?? Int.min) }
        let heldout = data.test.map { TaskPrompt(prompt: $0.prompt(style: p.promptStyle), task: $0.operation.rawValue, expected: $0.result) }
        let probeOptions = ProbeCVOptions(folds: p.probeFolds, l2Grid: p.probeL2Grid, seed: UInt64(p.seed))
        let seen = p.maxSteps * min(p.batchSize, max(1, data.train.count))
        let seenProblems = seenExamples(count: data.train.count, steps: p.maxSteps, batchSize: p.batchSize, seed: trainSeed).map { data.train[$0] }

        var stages: [StageResult] = []
        for stage in ["baseline", "direct_sft", "cot_sft"] {
            // The baseline does not depend on the training seed: one key per data set, so its evaluation is reused.
            let trainKey = p.training.stageKey(model: modelKey, stage: stage, trainingSeed: trainSeed)
            var adapters: LoRAAdapters? = nil
            var training: TrainingSummary? = nil
            if stage != "baseline" {
                let format = stage == "cot_sft" ? "cot" : "direct"
                let trained = try StageTraining.trainOrLoad(loaded, data: dataFolder.appendingPathComponent(p.maskPrompt ? format + "_masked" : format),
                                                            answerData: dataFolder.appendingPathComponent(format + "_answer"),
                                                            checkpoint: context.checkpointFolder(stage, key: trainKey),
                                                            settings: StageTraining.Settings(steps: p.maxSteps, batchSize: p.batchSize,
                                                                                             learningRate: p.learningRate, lora: p.lora, seed: trainSeed,
                                                                                             maskPrompt: p.maskPrompt),
                                                            stage: stage, context: context)
                adapters = trained.adapters
                training = trained.summary
            }
            // The baseline reads the base weights only: its key leaves out every training setting. The held-out set comes
            // from the data seed (each training seed's own when vary_data_seed is on).
            let evalKey = evaluationKey(p, model: modelKey, stage: stage, dataSeed: dataSeed, trainingSeed: trainSeed,
                                        mixtureOfExperts: loaded.model.config.block.moe != nil)
            let result = try context.stage("\(stage)-evaluation", key: evalKey) { () -> StageResult in
                let start = Date()
                let reference = try TaskEvaluation.accuracy(loaded, adapters: adapters, prompts: referencePrompts, maxTokens: p.maxNewTokens)
                let held = try TaskEvaluation.accuracy(loaded, adapters: adapters, prompts: heldout, maxTokens: p.maxNewTokens) {
                    context.progress("\(stage): generation", $0)
                }
                context.log(String(format: "%@ (seed %d): held-out accuracy %.1f%% (n=%d), reference prompts %d/%d", stage, trainSeed,
                                   held.overall.value * 100, held.overall.n, reference.overall.successes, reference.overall.n))
                let lens = try LensPositions.measure(loaded, adapters: adapters, problems: data.test, tasks: tasks, style: p.promptStyle,
                                                     chainOfThought: stage == "cot_sft", targets: targets, lens: lensChoice)
                let probes = try FlagshipProbes.measure(loaded, adapters: adapters, style: p.promptStyle, tasks: tasks,
                                                        perOperation: p.probeSamplesPerOperation, matchedRanges: p.matchedRanges,
                                                        training: data.train, options: probeOptions, controlSeed: UInt64(p.seed))
                context.log(String(format: "%@ (seed %d): probe sweep (%d prompts, %d layers, %d folds × %d penalties) %.1f s", stage, trainSeed,
                                   probes.info.n, probes.layers.count, probeOptions.folds, probeOptions.l2Grid.count, probes.info.seconds))
                let routing = try FlagshipRouting.measure(loaded, adapters: adapters, style: p.promptStyle, tasks: tasks,
                                                          perOperation: p.probeSamplesPerOperation, matchedRanges: p.matchedRanges,
                                                          options: probeOptions)
                if let routing { context.log(String(format: "%@ (seed %d): routing probe (%d prompts, %d MoE layers, 2 positions) %.1f s", stage, trainSeed, routing.n, routing.positions.first?.layers.count ?? 0, routing.seconds)) }
                let primary = lens.positions.first { $0.position == "prompt_end" }!.forms[targets.primaryForm]!
                return StageResult(name: stage, accuracyReferencePrompts: reference.overall, accuracyHeldout: held.overall, accuracyByTask: held.byTask,
                                   referencePromptOutcomes: reference.outcomes, heldoutExamples: Array(held.outcomes.prefix(12)),
                                   layers: LayerRow.combine(lens: primary, cv: probes.layers),
                                   training: training, evaluationSeconds: Date().timeIntervalSince(start),
                                   heldoutCorrect: PairedOutcomes.encode(held.outcomes.map(\.correct)),
                                   positions: lens.positions, nextToken: lens.nextToken, probeCV: probes.info, tunedLens: lens.tuned,
                                   routing: routing)
            }
            var withTraining = result
            withTraining.training = training ?? result.training
            stages.append(withTraining)
        }
        // Fairer baselines for an instruct model: three solved examples (one per operation, from training) before the
        // prompt, and the chat template when the tokenizer has ChatML's special tokens. Answers only: the lens and the
        // probes read the bare prompt, as in every stage.
        let baselineKey = BaselineVariantsKey(model: modelKey, dataSeed: dataSeed, matchedRanges: p.matchedRanges, evalSamples: p.evalSamples,
                                              promptStyle: p.promptStyle, maxNewTokens: p.maxNewTokens)
        let baselines = try context.stage("baseline-variants", key: baselineKey) { () -> [String: Proportion] in
            var out: [String: Proportion] = [:]
            let shots = ArithmeticOperation.allCases.compactMap { op in data.train.first { $0.operation == op }?.directText }.joined(separator: "\n") + "\n"
            let fewShot = heldout.map { TaskPrompt(prompt: shots + $0.prompt, task: $0.task, expected: $0.expected) }
            out["few_shot"] = try TaskEvaluation.accuracy(loaded, adapters: nil, prompts: fewShot, maxTokens: p.maxNewTokens).overall
            if loaded.tokenizer.encode("<|im_start|>").count == 1 {
                let chat = heldout.map { h in
                    TaskPrompt(prompt: "<|im_start|>user\n\(h.prompt.trimmingCharacters(in: .whitespaces))<|im_end|>\n<|im_start|>assistant\n", task: h.task, expected: h.expected)
                }
                out["chat_template"] = try TaskEvaluation.accuracy(loaded, adapters: nil, prompts: chat, maxTokens: p.maxNewTokens,
                                                                   scoring: AnswerScoring.extractLastInteger).overall
            }
            context.log("baseline variants: " + out.keys.sorted().map { "\($0) " + String(format: "%.1f%%", out[$0]!.value * 100) }.joined(separator: ", "))
            return out
        }
        let provenance = p.testPrompts.map { tp -> ReferenceProvenance in
            let problem = ArithmeticProblem(parsing: tp.input)
            return ReferenceProvenance(prompt: styled(tp.input, p.promptStyle),
                                       provenance: problem.map { data.provenance(of: $0, trainedOn: seenProblems) } ?? .outOfRange)
        }
        let counts = DataCounts(train: data.train.count, valid: data.valid.count, test: data.test.count, examplesSeen: seen,
                                epochs: Double(seen) / Double(max(1, data.train.count)),
                                distinctTrainingProblems: ArithmeticDataset.distinctProblems(data.train),
                                distinctSeenProblems: ArithmeticDataset.distinctProblems(seenProblems))
        return SeedRun(seed: trainSeed, dataSeed: dataSeed, stages: stages, data: counts, referenceProvenance: provenance, baselines: baselines)
    }

    /// The key a stage's evaluation is cached under. A mixture-of-experts model's adds the routing probe's version;
    /// a dense model's encodes as it did before the routing probe existed.
    public static func evaluationKey(_ p: Parameters, model: ModelIdentity, stage: String, dataSeed: Int, trainingSeed: Int,
                                     mixtureOfExperts: Bool) -> EvalStageKey {
        EvalStageKey(model: model, seed: dataSeed,
                     train: stage == "baseline" ? nil : p.training.stageKey(model: model, stage: stage, trainingSeed: trainingSeed),
                     promptStyle: p.promptStyle, evalSamples: p.evalSamples, maxNewTokens: p.maxNewTokens, testPrompts: p.testPrompts,
                     probe: ProbeCVOptions(folds: p.probeFolds, l2Grid: p.probeL2Grid, seed: UInt64(p.seed)),
                     probeSamplesPerOperation: p.probeSamplesPerOperation, matchedRanges: p.matchedRanges, lens: p.lens,
                     routing: mixtureOfExperts ? FlagshipRouting.version : nil)
    }

    /// Which training examples the trainer's batches visit in `steps` steps (its sampler, replayed).
    static func seenExamples(count: Int, steps: Int, batchSize: Int, seed: Int) -> [Int] {
        guard count > 0 else { return [] }
        var sampler = BatchSampler(exampleCount: count, seed: LoRATrainer.samplerSeed(UInt64(seed)))
        var out: [Int] = []
        for _ in 0..<steps { out += sampler.next(batchSize: batchSize) }
        return out
    }

    /// Everything `run` and the trainer would refuse, refused before the first stage, naming the config key.
    public static func validate(_ p: Parameters, source: String) throws {
        func bad(_ key: String, _ why: String) -> ExperimentError { .badValue(file: source, key: "parameters.\(key)", reason: why) }
        try p.training.validate(source: source)
        guard p.evalSamples >= 6 else { throw bad("eval_samples", "must be at least 6 (two per task for the probe split)") }
        guard p.maxNewTokens > 0 else { throw bad("max_new_tokens", "must be positive, got \(p.maxNewTokens)") }
        guard p.probeFolds >= 2 else { throw bad("probe_folds", "must be at least 2, got \(p.probeFolds)") }
        guard !p.probeL2Grid.isEmpty else { throw bad("probe_l2_grid", "must list at least one penalty, e.g. [0.001, 0.01, 0.1, 1, 10]") }
        for l in p.probeL2Grid where !(l.isFinite && l >= 0) { throw bad("probe_l2_grid", "holds \(l); every penalty must be 0 or more") }
        // Each outer fold's training part is cut into 3 inner folds: a class needs groups for 3 × folds parts.
        guard p.probeSamplesPerOperation >= 3 * p.probeFolds else {
            throw bad("probe_samples_per_operation", "must be at least 3 × probe_folds = \(3 * p.probeFolds), got \(p.probeSamplesPerOperation)")
        }
        guard p.lens == "logit" || (p.lens.hasPrefix("tuned:") && p.lens.count > "tuned:".count) else {
            throw bad("lens", "'\(p.lens)': use 'logit' or 'tuned:DIR' (a folder written by 'lazarus lens train')")
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

struct BaselineVariantsKey: Codable {
    var model: ModelIdentity
    var dataSeed: Int
    var matchedRanges: Bool
    var evalSamples: Int
    var promptStyle: PromptStyle
    var maxNewTokens: Int
    var version = 1
}

/// What an evaluation depends on: the model, the held-out set (seed and eval_samples draw it; it is disjoint
/// from training whatever num_samples is), the training stage's key for a trained stage, nil for the baseline.
public struct EvalStageKey: Codable, Sendable {
    var model: ModelIdentity
    var seed: Int
    var train: TrainStageKey?
    var promptStyle: PromptStyle
    var evalSamples: Int
    var maxNewTokens: Int
    var testPrompts: [ReferencePrompt]
    var probe: ProbeCVOptions
    var probeSamplesPerOperation: Int
    /// The probe set is drawn from the operations' universes, which matched ranges change.
    var matchedRanges: Bool
    /// The config's `lens` (a tuned lens's folder by path: retraining it in place needs a new folder or a fresh run).
    var lens: String
    /// Mixture-of-experts models only: the routing probe's version (FlagshipRouting). Nil for a dense model, and
    /// a nil optional is left out of the encoding, so a dense model's key (and its cached evaluation) is unchanged.
    var routing: Int? = nil
    /// 3: the baseline's key no longer holds the training settings. 4: lens at several positions and forms,
    /// the next-token yardstick, per-prompt outcomes. 5: cross-validated probes on a balanced probe set, the lens key.
    var version = 5
}
