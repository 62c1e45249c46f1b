// Per-layer task metrics read through the logit lens over a labelled prompt set (docs/SPEC.md §5):
// mean_task_prob, lens_task_accuracy and top1_rate.
import Kernels
import Transformer

/// The tasks of a prompt set and the words that name each task (e.g. "multiply" / "add" / "subtract").
public struct TaskVocabulary: Sendable {
    public var taskNames: [String]
    public var words: [[LensTargetWord]]

    public init(taskNames: [String], words: [[LensTargetWord]]) {
        precondition(taskNames.count == words.count, "TaskVocabulary: one word list per task")
        self.taskNames = taskNames
        self.words = words
    }

    /// Every token id that stands for task k.
    public func tokenIds(task k: Int) -> Set<Int> { Set(words[k].flatMap(\.tokenIds)) }

    /// The task's probability in a row: the largest over its words (each already the largest over its forms).
    public func probability(task k: Int, in probabilities: Matrix, row: Int) -> Float {
        words[k].map { $0.probability(in: probabilities, row: row) }.max() ?? 0
    }
}

public struct LensLayerMetrics: Sendable, Codable, Equatable {
    public var name: String
    public var index: Int
    /// Mean over prompts of the probability of the prompt's own task words.
    public var meanTaskProb: Double
    /// Fraction of prompts whose own task's words outscore every other task's words.
    public var lensTaskAccuracy: Double
    /// Fraction of prompts whose whole-vocabulary arg-max is one of the task's tokens.
    public var top1Rate: Double
    /// Lens task accuracy on logits centred per task: each task's logit minus its mean over the prompt set, so a
    /// word that outscores the others on EVERY prompt (a frequent token) no longer wins them all by default.
    public var centredTaskAccuracy: Double = .nan
    /// confusion[true][predicted]: prompts of each task by the task whose words score highest (raw logits).
    public var confusion: [[Int]] = []
    /// Per prompt, whether its own task won (raw, then centred): the paired outcomes a McNemar test compares.
    public var promptCorrect: [Bool] = []
    public var promptCorrectCentred: [Bool] = []

    public init(name: String, index: Int, meanTaskProb: Double, lensTaskAccuracy: Double, top1Rate: Double) {
        self.name = name
        self.index = index
        self.meanTaskProb = meanTaskProb
        self.lensTaskAccuracy = lensTaskAccuracy
        self.top1Rate = top1Rate
    }

    enum CodingKeys: String, CodingKey {
        case name, index
        case meanTaskProb = "mean_task_prob"
        case lensTaskAccuracy = "lens_task_accuracy"
        case top1Rate = "top1_rate"
        case centredTaskAccuracy = "centred_task_accuracy"
        case confusion
    }
}

public enum LensMetrics {
    /// The three metrics at every captured layer. labels[p] is the task index of prompt p.
    public static func measure(model: TransformerModel, states: PromptHiddenStates, labels: [Int],
                               vocabulary: TaskVocabulary) -> [LensLayerMetrics] {
        measure(model: model, states: states, labels: labels, vocabularies: [vocabulary])[0]
    }

    /// The same for several vocabularies (e.g. each word form alone) from ONE sweep of the readout: the full-vocabulary
    /// softmax is the cost, and every vocabulary reads the same rows. out[v] belongs to vocabularies[v].
    public static func measure(model: TransformerModel, states: PromptHiddenStates, labels: [Int],
                               vocabularies: [TaskVocabulary]) -> [[LensLayerMetrics]] {
        precondition(labels.count == states.finalLogits.rows, "LensMetrics: one label per prompt")
        let sweeps = vocabularies.map { SweepState(vocabulary: $0, layers: states.layerIndices.count, prompts: labels.count) }
        let ids = Array(Set(sweeps.flatMap { $0.taskTokens.flatMap { $0 } })).sorted()
        LogitLens.forEachChunk(model: model, states: states.states, keepingLogitsOf: ids) { i, offset, probs, logits in
            for s in sweeps { s.add(layer: i, offset: offset, probs: probs, logits: logits, ids: ids, labels: labels) }
        }
        return sweeps.map { $0.metrics(layerIndices: states.layerIndices, labels: labels) }
    }

    /// The running sums of one vocabulary over a sweep.
    final class SweepState {
        let vocabulary: TaskVocabulary
        let taskTokens: [Set<Int>]
        var probSum: [Double], correct: [Int], top1: [Int]
        var allLogits: [[[Float]]]
        init(vocabulary: TaskVocabulary, layers: Int, prompts: Int) {
            self.vocabulary = vocabulary
            taskTokens = (0..<vocabulary.taskNames.count).map { vocabulary.tokenIds(task: $0) }
            probSum = [Double](repeating: 0, count: layers)
            correct = [Int](repeating: 0, count: layers)
            top1 = correct
            allLogits = [[[Float]]](repeating: [[Float]](repeating: [], count: prompts), count: layers)
        }

        func add(layer i: Int, offset: Int, probs: Matrix, logits: [[Float]], ids: [Int], labels: [Int]) {
            let tasks = taskTokens.count
            let slots = taskTokens.map { tokens in tokens.compactMap { ids.firstIndex(of: $0) } }
            for r in 0..<probs.rows {
                let label = labels[offset + r]
                let taskLogits = slots.map { s in s.map { logits[r][$0] }.max() ?? -.infinity }
                allLogits[i][offset + r] = taskLogits
                probSum[i] += Double(vocabulary.probability(task: label, in: probs, row: r))
                if (0..<tasks).allSatisfy({ $0 == label || taskLogits[label] > taskLogits[$0] }) { correct[i] += 1 }
                if taskTokens[label].contains(TopK.argmax(probs, r)) { top1[i] += 1 }
            }
        }

        func metrics(layerIndices: [Int], labels: [Int]) -> [LensLayerMetrics] {
            let n = Double(max(labels.count, 1))
            return layerIndices.enumerated().map { i, layer in
                var m = LensLayerMetrics(name: LayerSelection.name(layer), index: layer, meanTaskProb: probSum[i] / n,
                                         lensTaskAccuracy: Double(correct[i]) / n, top1Rate: Double(top1[i]) / n)
                let outcome = LensMetrics.classify(allLogits[i], labels: labels, tasks: taskTokens.count)
                m.confusion = outcome.confusion
                m.promptCorrect = outcome.correct
                m.promptCorrectCentred = outcome.correctCentred
                m.centredTaskAccuracy = Double(outcome.correctCentred.filter { $0 }.count) / n
                return m
            }
        }
    }

    /// Per layer, the share of prompts whose lens arg-max is the model's own next token at that position (its
    /// final-layer arg-max, the token greedy decoding emits), and that token's mean lens probability: how deep an
    /// ordinary next token becomes readable, the yardstick for a task word's depth.
    public static func nextTokenDepth(model: TransformerModel, states: PromptHiddenStates) -> [(index: Int, top1Rate: Double, meanProb: Double)] {
        let emitted = (0..<states.finalLogits.rows).map { TopK.argmax(states.finalLogits, $0) }
        var hits = [Int](repeating: 0, count: states.layerIndices.count)
        var probSum = [Double](repeating: 0, count: states.layerIndices.count)
        LogitLens.forEachChunk(model: model, states: states.states) { i, offset, probs in
            for r in 0..<probs.rows {
                let token = emitted[offset + r]
                if TopK.argmax(probs, r) == token { hits[i] += 1 }
                probSum[i] += Double(probs[r, token])
            }
        }
        let n = Double(max(1, emitted.count))
        return states.layerIndices.enumerated().map { i, layer in (layer, Double(hits[i]) / n, probSum[i] / n) }
    }

    /// From each prompt's task logits: the confusion matrix (the arg-max task, ties to the lowest index), whether
    /// the own task strictly beats every other (raw), and the same after subtracting each task's mean logit over
    /// the prompts. A task whose logits are not finite everywhere is left uncentred (a mean of -inf is no centre).
    public static func classify(_ logits: [[Float]], labels: [Int], tasks: Int) -> (confusion: [[Int]], correct: [Bool], correctCentred: [Bool]) {
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: tasks), count: tasks)
        var means = [Double](repeating: 0, count: tasks)
        for k in 0..<tasks {
            let column = logits.map { Double($0[k]) }
            let mean = column.reduce(0, +) / Double(max(1, column.count))
            means[k] = mean.isFinite ? mean : 0
        }
        func wins(_ row: [Double], _ label: Int) -> Bool { (0..<tasks).allSatisfy { $0 == label || row[label] > row[$0] } }
        var correct: [Bool] = [], centred: [Bool] = []
        for (row, label) in zip(logits, labels) {
            let raw = row.map(Double.init)
            let predicted = raw.indices.max { raw[$0] < raw[$1] || (raw[$0] == raw[$1] && $0 > $1) } ?? 0
            confusion[label][predicted] += 1
            correct.append(wins(raw, label))
            centred.append(wins(raw.enumerated().map { $1 - means[$0] }, label))
        }
        return (confusion, correct, centred)
    }
}
