// Measurements shared by the task-representation experiments: answer accuracy by greedy generation, and
// the logit-lens metrics and linear probes at every layer over one labelled prompt set (one batched
// forward pass per prompt set feeds both).
import Foundation
import Introspection
import Kernels
import Transformer
import Tokenizer

public struct TaskPrompt: Codable, Sendable, Equatable {
    public var prompt: String
    public var task: String
    public var expected: Int
}

public enum TaskEvaluation {
    /// Greedy answers (at most `maxTokens`, stopping at a newline or EOS) scored by `AnswerScoring`.
    public static func accuracy(_ loaded: LoadedModel, adapters: LoRAAdapters?, prompts: [TaskPrompt], maxTokens: Int = 20,
                                batchSize: Int = 32, scoring: (String) -> Int? = AnswerScoring.extractAnswer,
                                progress: (Double) -> Void = { _ in }) throws
        -> (overall: Proportion, byTask: [String: Proportion], outcomes: [PromptOutcome]) {
        let tokenizer = loaded.tokenizer
        let options = GenerationOptions(maxTokens: maxTokens, stopTokens: loaded.stopTokens(atNewline: true))
        var outcomes: [PromptOutcome] = []
        var start = 0
        while start < prompts.count {
            let batch = Array(prompts[start..<min(prompts.count, start + batchSize)])
            let generated = try loaded.model.generateGreedy(prompts: batch.map { tokenizer.encode($0.prompt) }, adapters: adapters, options: options)
            for (p, ids) in zip(batch, generated) {
                let text = tokenizer.decode(ids)
                let answer = scoring(text)
                outcomes.append(PromptOutcome(prompt: p.prompt, task: p.task, expected: p.expected, generated: text,
                                              answer: answer, correct: answer == p.expected))
            }
            start += batch.count
            progress(Double(start) / Double(max(1, prompts.count)))
        }
        var byTask: [String: Proportion] = [:]
        for task in Set(prompts.map(\.task)) {
            let subset = outcomes.filter { $0.task == task }
            byTask[task] = Proportion(successes: subset.filter(\.correct).count, n: subset.count)
        }
        return (Proportion(successes: outcomes.filter(\.correct).count, n: outcomes.count), byTask, outcomes)
    }

    /// Lens metrics and probe accuracy at every layer (embed, L0 … L{n-1}) for prompts labelled by task.
    public static func layers(_ loaded: LoadedModel, adapters: LoRAAdapters?, prompts: [TaskPrompt], tasks: [String],
                              probeOptions: ProbeOptions) throws -> [LayerRow] {
        let labels = try prompts.map { p -> Int in
            guard let k = tasks.firstIndex(of: p.task) else { throw IntrospectionError.badInput("unknown task '\(p.task)'") }
            return k
        }
        let states = try HiddenStateCollector.collect(model: loaded.model, prompts: prompts.map { loaded.tokenizer.encode($0.prompt) },
                                                      adapters: adapters)
        return try layers(loaded, states: states, labels: labels, tasks: tasks, probeOptions: probeOptions)
    }

    /// The same from hidden states already collected (labels[p] indexes `tasks`).
    public static func layers(_ loaded: LoadedModel, states: PromptHiddenStates, labels: [Int], tasks: [String],
                              probeOptions: ProbeOptions) throws -> [LayerRow] {
        let vocabulary = TaskVocabulary(taskNames: tasks, words: try tasks.map { [try LensTargetWord(word: $0, tokenizer: loaded.tokenizer)] })
        let lens = LensMetrics.measure(model: loaded.model, states: states, labels: labels, vocabulary: vocabulary)
        let probes = try ProbeSweep.run(states: states, labels: labels, classes: tasks.count, options: probeOptions)
        return LayerRow.combine(lens: lens, probes: probes)
    }

    /// The evaluation settings every task-representation experiment shares, refused by their config keys.
    static func validate(evalSamples: Int, maxNewTokens: Int, probe: ProbeOptions, source: String) throws {
        func bad(_ key: String, _ why: String) -> ExperimentError { .badValue(file: source, key: "parameters.\(key)", reason: why) }
        guard evalSamples >= 6 else { throw bad("eval_samples", "must be at least 6 (two per task for the probe split)") }
        guard maxNewTokens > 0 else { throw bad("max_new_tokens", "must be positive, got \(maxNewTokens)") }
        guard probe.epochs > 0 else { throw bad("probe_epochs", "must be positive, got \(probe.epochs)") }
        guard probe.learningRate.isFinite, probe.learningRate > 0 else { throw bad("probe_lr", "must be a positive number, got \(probe.learningRate)") }
        guard probe.batchSize > 0 else { throw bad("probe_batch_size", "must be positive, got \(probe.batchSize)") }
    }
}
