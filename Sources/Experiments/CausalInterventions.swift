// causal_interventions: is the operation the flagship's trained stages carry in the residual stream used?
// On held-out multiply problems and their add twins (same operands): activation patching (the residual at
// layer l, position p taken from the twin), steering along the normalised W_U[" multiply"] − W_U[" add"],
// and erasure of the mean-difference (multiply − add) direction at a layer. The stages' adapters are the
// flagship's, trained once and cached under experiments/cot_vocab_alignment/checkpoints with the same key.
// Not the report's wording (CausalInterventionsReport.swift).
import Datasets
import Foundation
import Introspection
import Kernels
import Training
import Transformer

public enum CausalInterventions: Experiment {
    public static let name = "causal_interventions"
    public static let summary = "Patching, steering and erasure: does the network use the operation it carries?"

    /// The shared training group (its values find the flagship's cached adapters for the first training seed)
    /// beside this experiment's own settings, flat in config.yaml.
    public typealias Parameters = TrainedExperimentParameters<Settings>

    public struct Settings: Codable, Sendable, Equatable {
        public var evalSamples: Int
        /// The flagship's experiment folder, relative to this one (where its adapters are cached).
        public var flagshipFolder: String
        public var stages: [String]
        /// Held-out multiply problems, each with its add twin.
        public var pairs: Int
        /// Layers patched: all, indices or fractions (as --layers).
        public var patchLayers: String
        public var steeringLayersPct: [Double]
        /// Multiples of the mean residual-stream norm at the layer (so that a value means the same at every depth).
        public var steeringAlphas: [Double]
        public var maxNewTokens: Int
        /// logit or tuned:DIR: the lens that reads the operation word after erasure.
        public var lens: String

        enum CodingKeys: String, CodingKey {
            case evalSamples = "eval_samples", flagshipFolder = "flagship_folder", stages, pairs
            case patchLayers = "patch_layers", steeringLayersPct = "steering_layers_pct", steeringAlphas = "steering_alphas"
            case maxNewTokens = "max_new_tokens", lens
        }
    }

    public static let defaultParameters = Parameters(
        training: CoTVocabAlignment.defaultParameters.training,
        own: Settings(evalSamples: CoTVocabAlignment.defaultParameters.evalSamples, flagshipFolder: "../cot_vocab_alignment",
                      stages: ["cot_sft"], pairs: 40, patchLayers: "all", steeringLayersPct: [0.25, 0.5, 0.75],
                      steeringAlphas: [0, 0.25, 0.5, 1, 2, 4], maxNewTokens: 8, lens: "logit"))

    static let stageNames = ["baseline", "direct_sft", "cot_sft"]

    public static func run(parameters p: Parameters, config: ExperimentConfig, context: ExperimentContext) throws -> [URL] {
        try validate(p, source: config.source)
        let wallStart = Date()
        // One training seed (the first): the interventions read one set of adapters.
        let trainingSeed = p.seeds[0]
        let data = p.training.dataset(trainingSeed: trainingSeed, testSamples: p.evalSamples)
        let dataFolder = p.training.dataFolder(context.dataFolder, trainingSeed: trainingSeed)
        try TaskData.writeTrainingFolders(data, to: dataFolder)
        // 2 × 2 = 2 + 2: the one pair whose answers cannot tell the operations apart.
        let multiply = data.test.filter { $0.operation == .multiply && $0.a * $0.b != $0.a + $0.b }.prefix(p.pairs)
        let pairs = multiply.map { TwinPair(multiply: $0, add: ArithmeticProblem(operation: .add, a: $0.a, b: $0.b)) }
        context.log("pairs: \(pairs.count) held-out multiply problems with their add twins")
        context.log("loading model \(config.model)")
        let loaded = try ModelLoader.load(config.model)
        let lens = try LensChoice.parse(p.lens, config: loaded.model.config)
        let flagship = context.experimentFolder.appendingPathComponent(p.flagshipFolder).standardizedFileURL
        var results: [CausalStageResult] = []
        for stage in p.stages {
            // The flagship's key for the first training seed: the same settings find its cached adapters.
            let trainKey = p.training.stageKey(model: ModelIdentity(loaded), stage: stage, trainingSeed: trainingSeed)
            var adapters: LoRAAdapters? = nil
            if stage != "baseline" {
                let checkpoint = flagship.appendingPathComponent("checkpoints/\(stage)-\(ConfigHash.of(trainKey))")
                let format = stage == "cot_sft" ? "cot" : "direct"
                adapters = try StageTraining.trainOrLoad(loaded, data: p.training.trainingFolder(dataFolder, format: format),
                                                         checkpoint: checkpoint, settings: p.training.settings(trainingSeed: trainingSeed),
                                                         stage: stage, context: context).adapters
            }
            let key = CausalStageKey(train: trainKey, pairs: pairs, parameters: p)
            let result = try context.stage("\(stage)-interventions", key: key) {
                try CausalMeasurement(loaded: loaded, adapters: adapters, pairs: pairs, parameters: p, lens: lens, context: context).run(stage: stage)
            }
            results.append(result)
        }
        let report = CausalInterventionsReport(parameters: p, model: config.model, stages: results, wallSeconds: Date().timeIntervalSince(wallStart))
        var written: [URL] = []
        written.append(try context.writeJSON(report.results, to: "results.json"))
        for (name, svg) in report.plots() { written.append(try context.write(svg, to: name)) }
        written.append(try context.write(report.markdown(), to: "report.md"))
        return written
    }

    public static func validate(_ p: Parameters, source: String) throws {
        func bad(_ key: String, _ why: String) -> ExperimentError { .badValue(file: source, key: "parameters.\(key)", reason: why) }
        try p.training.validate(source: source)
        guard p.pairs >= 2 else { throw bad("pairs", "must be at least 2") }
        guard p.maxNewTokens >= 1 else { throw bad("max_new_tokens", "must be at least 1") }
        guard !p.stages.isEmpty else { throw bad("stages", "name at least one of \(stageNames.joined(separator: ", "))") }
        for s in p.stages where !stageNames.contains(s) { throw bad("stages", "'\(s)' is not one of \(stageNames.joined(separator: ", "))") }
        for pct in p.steeringLayersPct where !(0..<1).contains(pct) { throw bad("steering_layers_pct", "\(pct) is not in [0, 1)") }
        for a in p.steeringAlphas where !(a.isFinite && a >= 0) { throw bad("steering_alphas", "\(a) must be a finite number ≥ 0") }
    }
}

/// A multiply problem and the add problem on the same operands.
public struct TwinPair: Codable, Sendable, Equatable {
    public var multiply: ArithmeticProblem
    public var add: ArithmeticProblem
}

struct CausalStageKey: Codable {
    var train: TrainStageKey
    var pairs: [TwinPair]
    var parameters: CausalInterventions.Parameters
    var version = 1
}
