// The LoRA supervised fine-tuning settings every experiment that trains (or reuses) the flagship's stages
// shares: the data, the seeds, the optimiser, the LoRA shape, and the one function that turns them into the
// key its adapters are cached under. Flat in config.yaml (`parameters.num_samples`, not nested), so the
// flagship's config keeps its keys. Not an experiment's own settings (each keeps those beside this group).
import Datasets
import Foundation
import Training
import Transformer

public struct SFTTrainingParameters: Codable, Sendable, Equatable {
    public var numSamples: Int
    /// The data seed (every run's data when `vary_data_seed` is false) and the probes' split seed.
    public var seed: Int
    public var maxSteps: Int
    public var batchSize: Int
    public var learningRate: Double
    public var lora: LoRAParameters
    public var validSamples: Int
    /// Training seeds (LoRA initialisation and batch order): one run of each trained stage per seed.
    public var seeds: [Int]
    /// When true each training seed also draws its own data (data seed = that seed); else every run uses `seed`.
    public var varyDataSeed: Bool
    /// All operations draw operands from one set of pairs (ArithmeticOperation.matchedRange), so operands carry no label.
    public var matchedRanges: Bool
    /// Loss on the completion after "a op b =" only.
    public var maskPrompt: Bool

    enum CodingKeys: String, CodingKey {
        case numSamples = "num_samples", seed, maxSteps = "max_steps", batchSize = "batch_size", learningRate = "learning_rate", lora
        case validSamples = "valid_samples", seeds, varyDataSeed = "vary_data_seed", matchedRanges = "matched_ranges", maskPrompt = "mask_prompt"
    }

    /// The flagship's (the original experiment's) settings, with its three training seeds.
    public static let flagship = SFTTrainingParameters(
        numSamples: 3000, seed: 42, maxSteps: 500, batchSize: 4, learningRate: 0.0002,
        lora: LoRAParameters(rank: 16, alpha: 32, targets: ["q_proj", "k_proj", "v_proj", "o_proj"]), validSamples: 60,
        seeds: [42, 43, 44], varyDataSeed: false, matchedRanges: false, maskPrompt: false)

    /// The seed the data of a training seed's run is drawn from.
    public func dataSeed(forTrainingSeed trainingSeed: Int) -> Int { varyDataSeed ? trainingSeed : seed }

    /// A training seed's data (validation and held-out sets disjoint from training, split by unordered operand pair).
    public func dataset(trainingSeed: Int, testSamples: Int) -> ArithmeticDataset {
        ArithmeticDataset.make(trainSamples: numSamples, validSamples: validSamples, testSamples: testSamples,
                               seed: UInt64(dataSeed(forTrainingSeed: trainingSeed)), matchedRanges: matchedRanges)
    }

    /// Where a training seed's data files go under an experiment's data folder (one folder per data seed when they vary).
    public func dataFolder(_ base: URL, trainingSeed: Int) -> URL {
        varyDataSeed ? base.appendingPathComponent("seed-\(dataSeed(forTrainingSeed: trainingSeed))") : base
    }

    /// The training file folder of a format ("direct" or "cot") as TaskData writes it: `_masked` with mask_prompt.
    public func trainingFolder(_ dataFolder: URL, format: String) -> URL {
        dataFolder.appendingPathComponent(maskPrompt ? format + "_masked" : format)
    }

    /// The key a stage's adapters are cached under. The baseline trains nothing: its key keeps the data settings
    /// and leaves the training seed (0) and the prompt mask (false) out, so one baseline serves every seed.
    public func stageKey(model: ModelIdentity, stage: String, trainingSeed: Int) -> TrainStageKey {
        let trained = stage != "baseline"
        return TrainStageKey(model: model, stage: stage, numSamples: numSamples, seed: trained ? trainingSeed : 0,
                             maxSteps: maxSteps, batchSize: batchSize, learningRate: learningRate, lora: lora,
                             validSamples: validSamples, dataSeed: dataSeed(forTrainingSeed: trainingSeed), matchedRanges: matchedRanges,
                             maskPrompt: trained ? maskPrompt : false)
    }

    /// The trainer's settings for one training seed.
    func settings(trainingSeed: Int) -> StageTraining.Settings {
        StageTraining.Settings(steps: maxSteps, batchSize: batchSize, learningRate: learningRate, lora: lora, seed: trainingSeed, maskPrompt: maskPrompt)
    }

    /// Everything the trainer would refuse, refused before the first stage, naming the config key.
    public func validate(source: String) throws {
        func bad(_ key: String, _ why: String) -> ExperimentError { .badValue(file: source, key: "parameters.\(key)", reason: why) }
        guard !seeds.isEmpty else { throw bad("seeds", "must list at least one training seed, e.g. [42, 43, 44]") }
        guard Set(seeds).count == seeds.count else { throw bad("seeds", "lists a seed twice: \(seeds)") }
        guard numSamples > 0 else { throw bad("num_samples", "must be positive, got \(numSamples)") }
        guard maxSteps > 0 else { throw bad("max_steps", "must be positive, got \(maxSteps)") }
        guard batchSize > 0 else { throw bad("batch_size", "must be positive, got \(batchSize)") }
        guard learningRate.isFinite, learningRate > 0 else { throw bad("learning_rate", "must be a positive number, got \(learningRate)") }
        guard validSamples >= 0 else { throw bad("valid_samples", "must be 0 or more, got \(validSamples)") }
        guard lora.rank > 0 else { throw bad("lora.rank", "must be positive, got \(lora.rank)") }
        guard lora.alpha.isFinite, lora.alpha > 0 else { throw bad("lora.alpha", "must be a positive number, got \(lora.alpha)") }
        guard !lora.targets.isEmpty else { throw bad("lora.targets", "must name at least one projection") }
        guard Set(lora.targets).count == lora.targets.count else { throw bad("lora.targets", "lists a projection twice: \(lora.targets)") }
        for t in lora.targets where Projection(rawValue: t) == nil {
            throw bad("lora.targets", "'\(t)' is not one of \(Projection.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }
}

/// An experiment's parameters as config.yaml holds them: a shared group's keys (the training group, or the whole
/// flagship's parameters) and the experiment's own side by side in one flat mapping. Each half decodes the keys it
/// knows from the same mapping, so an own key must not reuse a shared key's name. `p.maxSteps` and `p.pairs` both
/// read through.
@dynamicMemberLookup
public struct FlatParameters<Shared: Codable & Sendable & Equatable, Own: Codable & Sendable & Equatable>: Codable, Sendable, Equatable {
    public var shared: Shared
    public var own: Own

    public init(shared: Shared, own: Own) {
        self.shared = shared
        self.own = own
    }

    public init(from decoder: any Decoder) throws {
        shared = try Shared(from: decoder)
        own = try Own(from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        try shared.encode(to: encoder)
        try own.encode(to: encoder)
    }

    public subscript<T>(dynamicMember key: WritableKeyPath<Shared, T>) -> T {
        get { shared[keyPath: key] }
        set { shared[keyPath: key] = newValue }
    }

    public subscript<T>(dynamicMember key: WritableKeyPath<Own, T>) -> T {
        get { own[keyPath: key] }
        set { own[keyPath: key] = newValue }
    }
}

/// The parameters of an experiment that trains (or reuses) the flagship's stages: the training group and its own.
public typealias TrainedExperimentParameters<Own: Codable & Sendable & Equatable> = FlatParameters<SFTTrainingParameters, Own>

extension FlatParameters where Shared == SFTTrainingParameters {
    public init(training: SFTTrainingParameters, own: Own) { self.init(shared: training, own: own) }
    public var training: SFTTrainingParameters {
        get { shared }
        set { shared = newValue }
    }
}

/// What identifies the weights a stage starts from (path, size and the shapes).
public struct ModelIdentity: Codable, Equatable, Sendable {
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

    /// A fixed identity (tests pin the key's hash with one).
    public init(path: String, bytes: Int, layers: Int, vocabulary: Int) {
        (self.path, self.bytes, self.layers, self.vocabulary) = (path, bytes, layers, vocabulary)
    }
}

/// The cache key of a trained stage's adapters. Its fields, their names and `version` are what the flagship's
/// cached adapters are found by: changing any of them for existing settings retrains every cached stage
/// (a test pins its hash for the flagship's defaults).
public struct TrainStageKey: Codable, Sendable {
    var model: ModelIdentity
    var stage: String
    var numSamples: Int, seed: Int, maxSteps: Int, batchSize: Int, learningRate: Double
    var lora: LoRAParameters
    var validSamples: Int
    var dataSeed: Int
    var matchedRanges: Bool
    var maskPrompt: Bool
    /// 2: balanced held-out sets (the same number of problems per operation). 3: split by unordered operand pair.
    var version = 3
}

extension SFTTrainingParameters {
    /// The cache key's hash for a stage and training seed, as checkpoint folders are named (`cot_sft-<hash>`).
    public func stageKeyHash(model: ModelIdentity, stage: String, trainingSeed: Int) -> String {
        ConfigHash.of(stageKey(model: model, stage: stage, trainingSeed: trainingSeed))
    }
}
