// What one stage of a task-representation experiment measures, in the shape results.json documents.
import Foundation
import Introspection
import Training

/// One generated answer to a prompt.
public struct PromptOutcome: Codable, Sendable, Equatable {
    public var prompt: String
    public var task: String
    public var expected: Int
    public var generated: String
    public var answer: Int?
    public var correct: Bool
}

/// Every metric of one residual-stream layer.
public struct LayerRow: Codable, Sendable, Equatable {
    public var name: String
    public var index: Int
    public var meanTaskProb: Double
    public var lensTaskAccuracy: Double
    public var top1Rate: Double
    public var probeAccuracy: Double
    public var probeControlAccuracy: Double
    public var probeSelectivity: Double
    /// Lens task accuracy on logits centred per word (see LensLayerMetrics).
    public var centredTaskAccuracy: Double?
    /// Per held-out prompt, in order, "1" where the lens task classification is right, else "0": the paired
    /// outcomes the McNemar tests between stages use.
    public var lensCorrect: String?
    /// The probe's accuracy on Hewitt & Liang's control task (a random label per operand pair) on the same split.
    public var probeControlTaskAccuracy: Double?
    /// The probe accuracy's 95% Wilson interval over its test examples.
    public var probeLow: Double?
    public var probeHigh: Double?
    /// The negative control: the same probe at the first operand's last token, which has seen nothing of the
    /// operation (near chance only when operands carry no label, i.e. with matched ranges).
    public var probeFirstOperandAccuracy: Double?
    /// With cross-validated probes: the negative control's Wilson interval, the out-of-fold count, and the L2
    /// penalty inner CV chose in each outer fold (for the task probe and for the control task).
    public var probeFirstOperandLow: Double?
    public var probeFirstOperandHigh: Double?
    public var probeN: Int?
    public var probeL2: [Double]?
    public var probeControlTaskL2: [Double]?

    enum CodingKeys: String, CodingKey {
        case probeFirstOperandLow = "probe_first_operand_low", probeFirstOperandHigh = "probe_first_operand_high", probeN = "probe_n"
        case probeL2 = "probe_l2", probeControlTaskL2 = "probe_control_task_l2"
        case probeControlTaskAccuracy = "probe_control_task_accuracy", probeLow = "probe_low", probeHigh = "probe_high"
        case probeFirstOperandAccuracy = "probe_first_operand_accuracy"
        case name, index
        case meanTaskProb = "mean_task_prob"
        case lensTaskAccuracy = "lens_task_accuracy"
        case top1Rate = "top1_rate"
        case probeAccuracy = "probe_accuracy"
        case probeControlAccuracy = "probe_control_accuracy"
        case probeSelectivity = "probe_selectivity"
        case centredTaskAccuracy = "centred_task_accuracy"
        case lensCorrect = "lens_correct"
    }

    public static func combine(lens: [LensLayerMetrics], probes: [ProbeLayerResult], firstOperand: [ProbeLayerResult] = []) -> [LayerRow] {
        lens.map { l in
            let p = probes.first { $0.index == l.index }
            var row = LayerRow(name: l.name, index: l.index, meanTaskProb: l.meanTaskProb, lensTaskAccuracy: l.lensTaskAccuracy,
                            top1Rate: l.top1Rate, probeAccuracy: p?.testAccuracy ?? .nan,
                            probeControlAccuracy: p?.controlAccuracy ?? .nan, probeSelectivity: p?.selectivity ?? .nan,
                            centredTaskAccuracy: l.centredTaskAccuracy.isNaN ? nil : l.centredTaskAccuracy,
                            lensCorrect: l.promptCorrect.isEmpty ? nil : PairedOutcomes.encode(l.promptCorrect))
            row.probeControlTaskAccuracy = p?.controlTaskAccuracy
            if let p, let n = p.testCount {
                let w = Statistics.wilson(successes: Int((p.testAccuracy * Double(n)).rounded()), n: n)
                (row.probeLow, row.probeHigh) = (w.low, w.high)
            }
            row.probeFirstOperandAccuracy = firstOperand.first { $0.index == l.index }?.testAccuracy
            return row
        }
    }
}

extension LayerRow {
    /// Lens rows with the cross-validated probes of the same layers: probe accuracy and its interval are the pooled
    /// out-of-fold figures; selectivity is the task minus the shuffled-label control, as for the split probes.
    static func combine(lens: [LensLayerMetrics], cv: [ProbeLayerCV]) -> [LayerRow] {
        combine(lens: lens, probes: []).map { row in
            guard let p = cv.first(where: { $0.index == row.index }) else { return row }
            var r = row
            r.probeAccuracy = p.task.accuracy
            r.probeControlAccuracy = p.shuffled.accuracy
            r.probeSelectivity = p.task.accuracy - p.shuffled.accuracy
            r.probeControlTaskAccuracy = p.controlTask.accuracy
            (r.probeLow, r.probeHigh, r.probeN) = (p.task.low, p.task.high, p.task.n)
            r.probeFirstOperandAccuracy = p.firstOperand.accuracy
            (r.probeFirstOperandLow, r.probeFirstOperandHigh) = (p.firstOperand.low, p.firstOperand.high)
            r.probeL2 = p.task.chosenL2
            r.probeControlTaskL2 = p.controlTask.chosenL2
            return r
        }
    }
}

/// Per-item outcomes kept as one string of "1" and "0" (compact in JSON, and readable).
public enum PairedOutcomes {
    public static func encode(_ outcomes: [Bool]) -> String { String(outcomes.map { $0 ? "1" : "0" }) }
    public static func decode(_ text: String) -> [Bool] { text.map { $0 == "1" } }
}

/// The loss curve and cost of a training stage.
public struct TrainingSummary: Codable, Sendable, Equatable {
    public var steps: Int
    public var trainLoss: [LossPoint]
    public var validLoss: [LossPoint]
    public var tokensPerSecond: Double
    public var seconds: Double
    /// Mean loss on the validation problems' answer tokens (and end token) only: the same tokens in either format,
    /// so direct and CoT can be compared on it (their whole-text losses cover different texts).
    public var answerValidLoss: Double?
    /// Steps × batch size: the examples the optimiser saw (with repeats).
    public var examplesSeen: Int?
    /// The examples in the training file.
    public var trainingExamples: Int?
    public var maskPrompt: Bool?
    /// With the vocabulary objective: the unweighted lens loss of every step (the steps of this call; a resumed run's
    /// earlier steps are not kept).
    public var lensLoss: [LossPoint]? = nil

    /// Passes over the training file.
    public var epochs: Double? {
        guard let seen = examplesSeen, let n = trainingExamples, n > 0 else { return nil }
        return Double(seen) / Double(n)
    }

    enum CodingKeys: String, CodingKey {
        case steps
        case trainLoss = "train_loss"
        case validLoss = "valid_loss"
        case tokensPerSecond = "tokens_per_s"
        case seconds
        case answerValidLoss = "answer_valid_loss"
        case examplesSeen = "examples_seen"
        case trainingExamples = "training_examples"
        case maskPrompt = "mask_prompt"
        case lensLoss = "lens_loss"
    }
}

public struct StageResult: Codable, Sendable, Equatable {
    public var name: String
    public var accuracyReferencePrompts: Proportion
    public var accuracyHeldout: Proportion
    public var accuracyByTask: [String: Proportion]
    public var referencePromptOutcomes: [PromptOutcome]
    /// The first few held-out outcomes, as examples for a reader.
    public var heldoutExamples: [PromptOutcome]
    public var layers: [LayerRow]
    public var training: TrainingSummary?
    public var evaluationSeconds: Double
    /// Every held-out outcome in order as "1"/"0" (PairedOutcomes), for the paired tests.
    public var heldoutCorrect: String?
    /// The lens at each position, every word form apart.
    public var positions: [PositionLens]?
    /// The next-token yardstick at the position before the answer.
    public var nextToken: NextTokenDepth?
    /// The probe set and its cross-validation (absent in results written before the probes were cross-validated).
    public var probeCV: ProbeSetInfo?
    /// The tuned lens at the same positions, beside the logit lens, when the config names one (`lens: tuned:DIR`).
    public var tunedLens: TunedLensReading?
    /// Mixture-of-experts models only: the routing probe and the expert choice's information about the task
    /// (FlagshipRouting.swift); absent for a dense model.
    public var routing: RoutingReading? = nil

    enum CodingKeys: String, CodingKey {
        case routing
        case probeCV = "probe_cv", tunedLens = "tuned_lens"
        case heldoutCorrect = "heldout_correct", positions, nextToken = "next_token"
        case name
        case accuracyReferencePrompts = "accuracy_seed_prompts"
        case accuracyHeldout = "accuracy_heldout"
        case accuracyByTask = "accuracy_by_task"
        case referencePromptOutcomes = "seed_prompt_outcomes"
        case heldoutExamples = "heldout_examples"
        case layers, training
        case evaluationSeconds = "evaluation_s"
    }
}
