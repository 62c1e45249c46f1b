// The flagship's routing probe, for mixture-of-experts models only: on the residual probe's balanced probe set
// (FlagshipProbes.draw) at the prompt's end and at the operator, per MoE layer, (1) the same nested-CV ridge probe
// as the residual stream's, on the router's logits [E features], beside one on shuffled labels, and (2) the mutual
// information between the top-1 expert and the task, with its bias correction and a shuffled-label baseline.
// Why the top-1 expert and not the chosen set: the set has C(E, k) values (6 for the tiny models, 35,960 for
// GPT-OSS-20B's top-4 of 32), far too many cells for a few hundred prompts; the top expert has E values and the
// largest routing weight. A dense model gets none of this (its results.json is unchanged).
import Foundation
import Introspection
import Kernels
import Transformer
import Datasets

/// A cross-validated probe's accuracy, without the per-item record (ProbeCVResult holds that).
public struct RoutingProbeAccuracy: Codable, Sendable, Equatable {
    public var accuracy: Double
    public var low: Double
    public var high: Double
    public var n: Int
    public var chosenL2: [Double]
    enum CodingKeys: String, CodingKey { case accuracy, low, high, n, chosenL2 = "chosen_l2" }
    init(_ r: ProbeCVResult) { (accuracy, low, high, n, chosenL2) = (r.accuracy, r.low, r.high, r.n, r.chosenL2) }
}

/// One MoE layer at one position.
public struct RoutingLayerReading: Codable, Sendable, Equatable {
    /// k of block Lk: its router reads the residual stream after block k's attention, before its MLP.
    public var index: Int
    public var name: String
    /// The ridge probe on the router logits, and the same on shuffled labels (its chance level).
    public var probe: RoutingProbeAccuracy
    public var shuffledProbe: RoutingProbeAccuracy
    /// I(top-1 expert; task).
    public var topExpertInformation: MutualInformationEstimate
    /// The share of prompts whose top expert is each expert.
    public var topExpertShare: [Double]
    enum CodingKeys: String, CodingKey {
        case index, name, probe, shuffledProbe = "shuffled_probe", topExpertInformation = "top_expert_information"
        case topExpertShare = "top_expert_share"
    }
}

public struct RoutingPositionReading: Codable, Sendable, Equatable {
    public var position: String
    public var layers: [RoutingLayerReading]
}

/// A stage's routing readings (results.json `routing` of a stage).
public struct RoutingReading: Codable, Sendable, Equatable {
    public var experts: Int
    public var expertsPerToken: Int
    /// What the mutual information is of: "top1" (the highest-weight expert).
    public var choice: String
    public var n: Int
    public var positions: [RoutingPositionReading]
    public var seconds: Double
    enum CodingKeys: String, CodingKey { case experts, expertsPerToken = "experts_per_token", choice, n, positions, seconds }
}

enum FlagshipRouting {
    static let positions = ["prompt_end", "operator"]
    /// In a MoE model's evaluation key (EvalStageKey.routing): raise it when these readings change.
    static let version = 1
    static let permutations = 1000

    /// Nil for a dense model.
    static func measure(_ loaded: LoadedModel, adapters: LoRAAdapters?, style: PromptStyle, tasks: [String], perOperation: Int,
                        matchedRanges: Bool, options: ProbeCVOptions) throws -> RoutingReading? {
        let c = loaded.model.config
        guard c.block.moe != nil, let shape = c.mixture else { return nil }
        let start = Date()
        let (problems, groups) = FlagshipProbes.draw(perOperation: perOperation, matchedRanges: matchedRanges, seed: options.seed)
        let labels = problems.map { tasks.firstIndex(of: $0.operation.rawValue)! }
        var shuffled = labels
        var rng = SeededRandom(seed: options.seed ^ 0x5EED_C0DE)
        rng.shuffle(&shuffled)
        var readings: [RoutingPositionReading] = []
        for position in positions {
            let prompts = problems.map { loaded.tokenizer.encode(LensPositions.prefix($0, position: position, style: style)) }
            let routing = try RoutingCollector.collect(model: loaded.model, prompts: prompts, adapters: adapters)
            let layers = routing.layers.enumerated().map { i, layer -> RoutingLayerReading in
                let cv = RidgeProbeCV.run(features: routing.logits[i], labelSets: [labels, shuffled], classes: tasks.count,
                                          strata: labels, groups: groups, options: options)
                let top = routing.experts[i].map { $0[0] }
                var share = [Double](repeating: 0, count: shape.experts)
                for e in top { share[e] += 1 / Double(top.count) }
                let information = MutualInformation.estimate(top, labels, permutations: permutations,
                                                             seed: options.seed ^ UInt64(layer + 1) &* 0x9E37_79B9)
                return RoutingLayerReading(index: layer, name: "L\(layer)", probe: RoutingProbeAccuracy(cv[0]),
                                           shuffledProbe: RoutingProbeAccuracy(cv[1]), topExpertInformation: information, topExpertShare: share)
            }
            readings.append(RoutingPositionReading(position: position, layers: layers))
        }
        return RoutingReading(experts: shape.experts, expertsPerToken: shape.perToken, choice: "top1", n: problems.count,
                              positions: readings, seconds: Date().timeIntervalSince(start))
    }
}
