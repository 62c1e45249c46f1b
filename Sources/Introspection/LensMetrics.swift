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

    enum CodingKeys: String, CodingKey {
        case name, index
        case meanTaskProb = "mean_task_prob"
        case lensTaskAccuracy = "lens_task_accuracy"
        case top1Rate = "top1_rate"
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
        // Which task word wins is decided on logits (the same order as probabilities within a row, but exact
        // where probabilities underflow); the probability is the largest over a task's token ids.
        let ids = Array(Set(taskTokens.flatMap { $0 })).sorted()
        let slots = taskTokens.map { tokens in tokens.compactMap { ids.firstIndex(of: $0) } }
        LogitLens.forEachChunk(model: model, states: states.states, keepingLogitsOf: ids) { i, offset, probs, logits in
            for r in 0..<probs.rows {
                let label = labels[offset + r]
                let taskProbs = (0..<tasks).map { vocabulary.probability(task: $0, in: probs, row: r) }
                let taskLogits = slots.map { s in s.map { logits[r][$0] }.max() ?? -.infinity }
                probSum[i] += Double(taskProbs[label])
                if (0..<tasks).allSatisfy({ $0 == label || taskLogits[label] > taskLogits[$0] }) { correct[i] += 1 }
                if taskTokens[label].contains(TopK.argmax(probs, r)) { top1[i] += 1 }
            }
        }
        let out = states.layerIndices.enumerated().map { i, layer in
            LensLayerMetrics(name: LayerSelection.name(layer), index: layer, meanTaskProb: probSum[i] / n,
                             lensTaskAccuracy: Double(correct[i]) / n, top1Rate: Double(top1[i]) / n)
        }
        return out
    }
}
