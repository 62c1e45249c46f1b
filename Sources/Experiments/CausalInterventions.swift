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

    public struct Parameters: Codable, Sendable, Equatable {
        // The flagship's training keys: equal values find its cached adapters.
        public var numSamples: Int
        public var seed: Int
        public var maxSteps: Int
        public var batchSize: Int
        public var learningRate: Double
        public var lora: LoRAParameters
        public var validSamples: Int
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
            case numSamples = "num_samples", seed, maxSteps = "max_steps", batchSize = "batch_size", learningRate = "learning_rate", lora
            case validSamples = "valid_samples", evalSamples = "eval_samples", flagshipFolder = "flagship_folder", stages, pairs
            case patchLayers = "patch_layers", steeringLayersPct = "steering_layers_pct", steeringAlphas = "steering_alphas"
            case maxNewTokens = "max_new_tokens", lens
        }
    }

    public static let defaultParameters: Parameters = {
        let f = CoTVocabAlignment.defaultParameters
        return Parameters(numSamples: f.numSamples, seed: f.seed, maxSteps: f.maxSteps, batchSize: f.batchSize, learningRate: f.learningRate,
                          lora: f.lora, validSamples: f.validSamples, evalSamples: f.evalSamples, flagshipFolder: "../cot_vocab_alignment",
                          stages: ["cot_sft"], pairs: 40, patchLayers: "all", steeringLayersPct: [0.25, 0.5, 0.75],
                          steeringAlphas: [0, 0.25, 0.5, 1, 2, 4], maxNewTokens: 8, lens: "logit")
    }()

    static let stageNames = ["baseline", "direct_sft", "cot_sft"]

    public static func run(parameters p: Parameters, config: ExperimentConfig, context: ExperimentContext) throws -> [URL] {
        try validate(p, source: config.source)
        let wallStart = Date()
        let data = ArithmeticDataset.make(trainSamples: p.numSamples, validSamples: p.validSamples, testSamples: p.evalSamples, seed: UInt64(p.seed))
        try TaskData.writeTrainingFolders(data, to: context.dataFolder)
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
            // The flagship's key for its first training seed with the data seed equal to it, default ranges and full-text loss.
            let trainKey = TrainStageKey(model: ModelIdentity(loaded), stage: stage, numSamples: p.numSamples, seed: stage == "baseline" ? 0 : p.seed,
                                         maxSteps: p.maxSteps, batchSize: p.batchSize, learningRate: p.learningRate, lora: p.lora,
                                         validSamples: p.validSamples, dataSeed: p.seed, matchedRanges: false, maskPrompt: false)
            var adapters: LoRAAdapters? = nil
            if stage != "baseline" {
                let checkpoint = flagship.appendingPathComponent("checkpoints/\(stage)-\(ConfigHash.of(trainKey))")
                adapters = try StageTraining.trainOrLoad(loaded, data: context.dataFolder.appendingPathComponent(stage == "cot_sft" ? "cot" : "direct"),
                                                         checkpoint: checkpoint,
                                                         settings: .init(steps: p.maxSteps, batchSize: p.batchSize, learningRate: p.learningRate,
                                                                         lora: p.lora, seed: p.seed),
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
        guard p.pairs >= 2 else { throw bad("pairs", "must be at least 2") }
        guard p.maxNewTokens >= 1 else { throw bad("max_new_tokens", "must be at least 1") }
        guard !p.stages.isEmpty else { throw bad("stages", "name at least one of \(stageNames.joined(separator: ", "))") }
        for s in p.stages where !stageNames.contains(s) { throw bad("stages", "'\(s)' is not one of \(stageNames.joined(separator: ", "))") }
        for pct in p.steeringLayersPct where !(0..<1).contains(pct) { throw bad("steering_layers_pct", "\(pct) is not in [0, 1)") }
        for a in p.steeringAlphas where !(a.isFinite && a >= 0) { throw bad("steering_alphas", "\(a) must be a finite number ≥ 0") }
        for t in p.lora.targets where Projection(rawValue: t) == nil {
            throw bad("lora.targets", "'\(t)' is not one of \(Projection.allCases.map(\.rawValue).joined(separator: ", "))")
        }
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
