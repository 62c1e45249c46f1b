// The flagship's probes: a balanced probe set drawn from every problem of each operation (not only the held-out
// ones: the 144 held-out prompts give 29 test prompts a split, and every layer sat at the ceiling), read at the
// prompt's end and at the first operand, and nested cross-validation (RidgeProbeCV) of the task, the Hewitt–Liang
// control task and shuffled labels at every layer, folds grouped by unordered operand pair.
// Not the lens (LensPositions) and not the statistics (Statistics).
import Foundation
import Introspection
import Kernels
import Transformer
import Datasets

/// What the probe set and its cross-validation were, for results.json (`probe_cv` of a stage).
public struct ProbeSetInfo: Codable, Sendable, Equatable {
    public var perOperation: Int
    public var n: Int
    /// Distinct unordered operand pairs (the groups folds keep whole).
    public var groups: Int
    /// Probe-set problems whose unordered pair the run's training data holds.
    public var inTraining: Int
    public var folds: Int
    public var innerFolds: Int
    public var l2Grid: [Double]
    /// Seconds for the probe states (two forward passes over the set) and every layer's nested CV.
    public var seconds: Double
    enum CodingKeys: String, CodingKey {
        case perOperation = "per_operation", n, groups, inTraining = "in_training", folds, innerFolds = "inner_folds", l2Grid = "l2_grid", seconds
    }
}

/// One layer's cross-validated probes.
struct ProbeLayerCV {
    var index: Int
    var task: ProbeCVResult
    var controlTask: ProbeCVResult
    var shuffled: ProbeCVResult
    var firstOperand: ProbeCVResult
}

enum FlagshipProbes {
    /// Per operation, `perOperation` problems (at most the smallest universe's size, so the set stays balanced)
    /// in a seeded order from the operation's whole universe; groups are unordered-pair ids.
    static func draw(perOperation requested: Int, matchedRanges: Bool, seed: UInt64) -> (problems: [ArithmeticProblem], groups: [Int]) {
        let universes = ArithmeticOperation.allCases.map { $0.universe(matchedRanges: matchedRanges) }
        let count = min(requested, universes.map(\.count).min() ?? 0)
        var rng = SeededRandom(seed: seed ^ 0x9B0B_E5E7)
        var problems: [ArithmeticProblem] = []
        for var all in universes {
            rng.shuffle(&all)
            problems += all.prefix(count)
        }
        var ids: [UnorderedPair: Int] = [:]
        let groups = problems.map { p in
            if let id = ids[p.unorderedPair] { return id }
            ids[p.unorderedPair] = ids.count
            return ids.count - 1
        }
        return (problems, groups)
    }

    /// Every layer's probes on the probe set for one stage, and what the set was.
    static func measure(_ loaded: LoadedModel, adapters: LoRAAdapters?, style: PromptStyle, tasks: [String], perOperation: Int,
                        matchedRanges: Bool, training: [ArithmeticProblem], options: ProbeCVOptions, controlSeed: UInt64) throws
        -> (layers: [ProbeLayerCV], info: ProbeSetInfo) {
        try options.validate()
        let start = Date()
        let (problems, groups) = draw(perOperation: perOperation, matchedRanges: matchedRanges, seed: options.seed)
        let labels = problems.map { tasks.firstIndex(of: $0.operation.rawValue)! }
        let controlTask = problems.map { $0.unorderedPair.controlLabel(classes: tasks.count, seed: controlSeed) }
        var shuffled = labels
        var rng = SeededRandom(seed: options.seed ^ 0x5EED_C0DE)
        rng.shuffle(&shuffled)
        let promptEnd = try HiddenStateCollector.collect(model: loaded.model, prompts: problems.map { loaded.tokenizer.encode($0.prompt(style: style)) },
                                                         adapters: adapters)
        let firstOperand = try HiddenStateCollector.collect(model: loaded.model, prompts: problems.map { loaded.tokenizer.encode("\($0.a)") },
                                                            adapters: adapters)
        let layers = promptEnd.layerIndices.enumerated().map { i, layer -> ProbeLayerCV in
            let r = RidgeProbeCV.run(features: promptEnd.states[i], labelSets: [labels, controlTask, shuffled], classes: tasks.count,
                                     strata: labels, groups: groups, options: options)
            let neg = RidgeProbeCV.run(features: firstOperand.states[i], labelSets: [labels], classes: tasks.count,
                                       strata: labels, groups: groups, options: options)
            return ProbeLayerCV(index: layer, task: r[0], controlTask: r[1], shuffled: r[2], firstOperand: neg[0])
        }
        let trainedPairs = Set(training.map(\.unorderedPair))
        let info = ProbeSetInfo(perOperation: problems.count / max(1, tasks.count), n: problems.count, groups: Set(groups).count,
                                inTraining: problems.filter { trainedPairs.contains($0.unorderedPair) }.count,
                                folds: options.folds, innerFolds: options.innerFolds, l2Grid: options.l2Grid,
                                seconds: Date().timeIntervalSince(start))
        return (layers, info)
    }
}
