// What vocab_objective measures on one stage (a training seed and λ), on the held-out problems: answer accuracy,
// the operation word through the lens at every layer at '=' (logit lens, and a tuned lens when one is given),
// the same in a direct-format context (three solved "a op b = r" lines before the prompt), probes at every
// layer, and whether the lens-read classifier at k agrees with the probe at k, prompt by prompt.
// Not the across-seed figures or the conclusions (VocabObjectiveReport.swift).
import Datasets
import Foundation
import Introspection
import Kernels
import Transformer

/// One lens reading of one layer over the held-out prompts.
public struct LensReading: Codable, Sendable, Equatable {
    /// Mean over prompts of the lens probability of the prompt's own operation word (its primary form's token).
    public var meanWordProb: Double
    /// The three-way classification read through the vocabulary (own word outscores the other two), Wilson interval.
    public var accuracy: Proportion
    /// Share of prompts whose own word is the arg-max of the whole vocabulary.
    public var top1Rate: Double
    /// Per prompt "1"/"0" (PairedOutcomes), for the paired tests between λ values.
    public var correct: String
    enum CodingKeys: String, CodingKey { case meanWordProb = "mean_word_prob", accuracy, top1Rate = "top1_rate", correct }

    init(_ m: LensLayerMetrics) {
        meanWordProb = m.meanTaskProb
        accuracy = Proportion(successes: m.promptCorrect.filter { $0 }.count, n: m.promptCorrect.count)
        top1Rate = m.top1Rate
        correct = PairedOutcomes.encode(m.promptCorrect)
    }
}

public struct VocabLayerRow: Codable, Sendable, Equatable {
    public var name: String
    public var index: Int
    /// At '=' of the bare prompt.
    public var logit: LensReading
    public var tuned: LensReading?
    /// At '=' of the prompt after three solved direct-format lines.
    public var direct: LensReading
    public var directTuned: LensReading?
    /// The probe's test accuracy (Wilson over its test split).
    public var probe: Proportion
    enum CodingKeys: String, CodingKey { case name, index, logit, tuned, direct, directTuned = "direct_tuned", probe }
}

/// The lens-read classifier against the probe at the objective's layer, on the probe's test split.
public struct ClassifierAgreement: Codable, Sendable, Equatable {
    public var layer: String
    /// Prompts where the lens's arg-max operation word and the probe's predicted class are the same.
    public var agreement: Proportion
    public var lensAccuracy: Proportion
    public var probeAccuracy: Proportion
    /// The same agreement through the tuned lens, when one is given.
    public var tunedAgreement: Proportion?
    enum CodingKeys: String, CodingKey {
        case layer, agreement, lensAccuracy = "lens_accuracy", probeAccuracy = "probe_accuracy", tunedAgreement = "tuned_agreement"
    }
}

public struct VocabStageResult: Codable, Sendable, Equatable {
    public var seed: Int
    public var lambda: Double
    public var accuracyHeldout: Proportion
    public var heldoutCorrect: String
    public var layers: [VocabLayerRow]
    public var agreement: ClassifierAgreement
    /// Share of direct-context prompts whose emitted next token is a digit (the context does make the model answer directly).
    public var directDigitShare: Double
    /// At the last layer the CoT-trained model must read its own operation word first (it emits it next).
    public var positiveControlPassed: Bool
    public var training: TrainingSummary?
    public var evaluationSeconds: Double
    enum CodingKeys: String, CodingKey {
        case seed, lambda, accuracyHeldout = "accuracy_heldout", heldoutCorrect = "heldout_correct", layers, agreement
        case directDigitShare = "direct_digit_share", positiveControlPassed = "positive_control_passed", training, evaluationSeconds = "evaluation_s"
    }
}

struct VocabMeasurement {
    var loaded: LoadedModel
    var adapters: LoRAAdapters
    var data: ArithmeticDataset
    var parameters: VocabObjective.Parameters
    var layer: Int
    var lens: LensChoice
    var targets: TargetTokens

    var tasks: [String] { VocabObjective.tasks }

    /// The primary form's vocabulary: the token the model faces after the prompt (" multiply" after "7 * 8 =").
    var vocabulary: TaskVocabulary {
        let forms = LensPositions.vocabularies(targets, tasks: tasks)
        return forms[LensPositions.formNames.firstIndex(of: targets.primaryForm)!]
    }

    func readings(_ states: PromptHiddenStates, labels: [Int]) -> (logit: [LensLayerMetrics], tuned: [LensLayerMetrics]?) {
        let logit = LensMetrics.measure(model: loaded.model, states: states, labels: labels, vocabulary: vocabulary)
        guard case .tuned = lens else { return (logit, nil) }
        return (logit, LensMetrics.measure(model: loaded.model, states: lens.apply(to: states), labels: labels, vocabulary: vocabulary))
    }

    /// Per prompt, the operation the lens reads first among the three words at one layer (ties to the lowest index,
    /// as LensMetrics.classify counts them).
    func lensPredictions(_ states: Matrix, layer: Int, through choice: LensChoice) -> [Int] {
        let logits = loaded.model.readout(choice.prepare(states, layer: layer))
        let ids = (0..<tasks.count).map { Array(vocabulary.tokenIds(task: $0)) }
        return (0..<logits.rows).map { r in
            let scores = ids.map { t in t.map { logits[r, $0] }.max() ?? -.infinity }
            return scores.indices.max { scores[$0] < scores[$1] || (scores[$0] == scores[$1] && $0 > $1) } ?? 0
        }
    }

    func run(seed: Int, lambda: Double, context: ExperimentContext) throws -> VocabStageResult {
        let start = Date()
        let p = parameters
        let problems = data.test
        let labels = problems.map { tasks.firstIndex(of: $0.operation.rawValue)! }
        let heldout = problems.map { TaskPrompt(prompt: $0.prompt(style: p.promptStyle), task: $0.operation.rawValue, expected: $0.result) }
        let accuracy = try TaskEvaluation.accuracy(loaded, adapters: adapters, prompts: heldout, maxTokens: p.maxNewTokens) {
            context.progress("seed \(seed) λ=\(lambda): generation", $0)
        }
        context.log(String(format: "seed %d λ=%g: held-out accuracy %.1f%% (n=%d)", seed, lambda, accuracy.overall.value * 100, accuracy.overall.n))

        let states = try HiddenStateCollector.collect(model: loaded.model, prompts: heldout.map { loaded.tokenizer.encode($0.prompt) }, adapters: adapters)
        let bare = readings(states, labels: labels)
        // A direct-format context: one solved problem per operation from training, then the prompt.
        let shots = ArithmeticOperation.allCases.compactMap { op in data.train.first { $0.operation == op }?.directText }.joined(separator: "\n") + "\n"
        let directStates = try HiddenStateCollector.collect(model: loaded.model, prompts: heldout.map { loaded.tokenizer.encode(shots + $0.prompt) },
                                                            adapters: adapters)
        let direct = readings(directStates, labels: labels)
        let emitted = (0..<directStates.finalLogits.rows).map { TopK.argmax(directStates.finalLogits, $0) }
        let digits = emitted.filter { id in
            let piece = loaded.tokenizer.decode([id]).trimmingCharacters(in: .whitespaces)
            return !piece.isEmpty && piece.allSatisfy { $0.isASCII && $0.isNumber }
        }.count

        let options = VocabObjective.probeOptions(p)
        let probes = try ProbeSweep.run(states: states, labels: labels, classes: tasks.count, options: options)
        let layers = states.layerIndices.enumerated().map { i, index -> VocabLayerRow in
            let probe = probes.first { $0.index == index }!
            let n = probe.testCount ?? 0
            return VocabLayerRow(name: LayerSelection.name(index), index: index, logit: LensReading(bare.logit[i]), tuned: bare.tuned.map { LensReading($0[i]) },
                                 direct: LensReading(direct.logit[i]), directTuned: direct.tuned.map { LensReading($0[i]) },
                                 probe: Proportion(successes: Int((probe.testAccuracy * Double(n)).rounded()), n: n))
        }

        // The probe at k on the sweep's split, prompt by prompt, against the lens's arg-max word on the same prompts.
        let split = ProbeSweep.split(labels: labels, options: options)
        let atK = states.state(layer: layer)!
        let probe = LinearProbe.train(features: atK, labels: labels, rows: split.train, classes: tasks.count, options: options)
        let probePredicted = probe.predict(atK, rows: split.test)
        let testStates = Elementwise.gatherRows(atK, split.test)
        func agreeing(_ choice: LensChoice) -> (agree: Proportion, lensRight: Proportion) {
            let read = lensPredictions(testStates, layer: layer, through: choice)
            let agree = zip(read, probePredicted).filter { $0 == $1 }.count
            let right = zip(read, split.test).filter { $0 == labels[$1] }.count
            return (Proportion(successes: agree, n: read.count), Proportion(successes: right, n: read.count))
        }
        let logitAgreement = agreeing(.logit)
        let probeRight = zip(probePredicted, split.test).filter { $0 == labels[$1] }.count
        var tunedAgreement: Proportion? = nil
        if case .tuned = lens { tunedAgreement = agreeing(lens).agree }
        let agreement = ClassifierAgreement(layer: LayerSelection.name(layer), agreement: logitAgreement.agree, lensAccuracy: logitAgreement.lensRight,
                                            probeAccuracy: Proportion(successes: probeRight, n: split.test.count), tunedAgreement: tunedAgreement)
        let last = layers.last!.logit
        return VocabStageResult(seed: seed, lambda: lambda, accuracyHeldout: accuracy.overall, heldoutCorrect: PairedOutcomes.encode(accuracy.outcomes.map(\.correct)),
                                layers: layers, agreement: agreement, directDigitShare: Double(digits) / Double(max(1, emitted.count)),
                                positiveControlPassed: last.accuracy.value >= 0.8 && last.top1Rate >= 0.5,
                                training: nil, evaluationSeconds: Date().timeIntervalSince(start))
    }
}
