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
        precondition(labels.count == states.finalLogits.rows, "LensMetrics: one label per prompt")
        let tasks = vocabulary.taskNames.count
        let taskTokens = (0..<tasks).map { vocabulary.tokenIds(task: $0) }
        let n = Double(max(labels.count, 1))
        var probSum = [Double](repeating: 0, count: states.layerIndices.count)
        var correct = [Int](repeating: 0, count: states.layerIndices.count), top1 = correct
        // Each layer's task logits per prompt, kept for the centring and the confusion matrix after the sweep.
        var allLogits = [[[Float]]](repeating: [[Float]](repeating: [], count: labels.count), count: states.layerIndices.count)
        // Which task word wins is decided on logits (the same order as probabilities within a row, but exact
        // where probabilities underflow); the probability is the largest over a task's token ids.
        let ids = Array(Set(taskTokens.flatMap { $0 })).sorted()
        let slots = taskTokens.map { tokens in tokens.compactMap { ids.firstIndex(of: $0) } }
        LogitLens.forEachChunk(model: model, states: states.states, keepingLogitsOf: ids) { i, offset, probs, logits in
            for r in 0..<probs.rows {
                let label = labels[offset + r]
                let taskProbs = (0..<tasks).map { vocabulary.probability(task: $0, in: probs, row: r) }
                let taskLogits = slots.map { s in s.map { logits[r][$0] }.max() ?? -.infinity }
                allLogits[i][offset + r] = taskLogits
                probSum[i] += Double(taskProbs[label])
                if (0..<tasks).allSatisfy({ $0 == label || taskLogits[label] > taskLogits[$0] }) { correct[i] += 1 }
                if taskTokens[label].contains(TopK.argmax(probs, r)) { top1[i] += 1 }
            }
        }
        let out = states.layerIndices.enumerated().map { i, layer in
            var m = LensLayerMetrics(name: LayerSelection.name(layer), index: layer, meanTaskProb: probSum[i] / n,
                                     lensTaskAccuracy: Double(correct[i]) / n, top1Rate: Double(top1[i]) / n)
            let outcome = classify(allLogits[i], labels: labels, tasks: tasks)
            m.confusion = outcome.confusion
            m.promptCorrect = outcome.correct
            m.promptCorrectCentred = outcome.correctCentred
            m.centredTaskAccuracy = Double(outcome.correctCentred.filter { $0 }.count) / n
            return m
        }
        return out
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
