// The flagship's logit lens at several positions of each held-out problem, with every form of each operation word
// measured apart, and the depth at which an ordinary next token becomes readable (the yardstick). At the prompt's
// end a CoT-trained model's next token IS the operation word, so reading it there is reading the output forming;
// the operator token and the position after "opname:" are places where the word is not the next token.
// Not the probes (TaskEvaluation) and not the statistics (Statistics).
import Foundation
import Introspection
import Kernels
import Transformer
import Tokenizer
import Datasets

/// One form of an operation word and the token the lens reads for it (the form's first token).
public struct WordFormToken: Codable, Sendable, Equatable {
    public var text: String
    public var id: Int
    public var piece: String
}

/// The tokens behind every task word: `forms[task][form]`, and which form is primary for the run's prompt style.
public struct TargetTokens: Codable, Sendable, Equatable {
    public var primaryForm: String
    public var forms: [String: [String: WordFormToken]]
    enum CodingKeys: String, CodingKey { case primaryForm = "primary_form", forms }
}

/// The lens at one position: per word form ("bare", "spaced", and "larger", the larger of the two), every layer.
public struct PositionLens: Codable, Sendable, Equatable {
    public var position: String
    /// The text up to and including the position, for the first held-out problem, and its token ids (the lens reads the last).
    public var example: String
    public var exampleTokenIds: [Int]
    public var forms: [String: [LensLayerMetrics]]
    enum CodingKeys: String, CodingKey { case position, example, exampleTokenIds = "example_token_ids", forms }
}

/// Where the model's own next token becomes the lens's arg-max, at the position before the answer's first digit.
public struct NextTokenDepth: Codable, Sendable, Equatable {
    public struct Layer: Codable, Sendable, Equatable {
        public var name: String
        public var index: Int
        public var top1Rate: Double
        public var meanProb: Double
        enum CodingKeys: String, CodingKey { case name, index, top1Rate = "top1_rate", meanProb = "mean_prob" }
    }
    public var position: String
    public var example: String
    public var exampleTokenIds: [Int]
    /// Share of prompts whose emitted token there is a digit (the control is meant to be the answer's first digit).
    public var digitShare: Double
    public var layers: [Layer]
    /// The first layer whose lens arg-max is the emitted token for at least 80% of prompts (the criterion the
    /// operation word's depth uses), nil when none.
    public var firstLayer80: String?
    enum CodingKeys: String, CodingKey {
        case position, example, exampleTokenIds = "example_token_ids", digitShare = "digit_share", layers, firstLayer80 = "first_layer_80"
    }
}

/// The tuned lens read at the logit lens's positions and yardstick, on the same states (`lens: tuned:DIR`).
public struct TunedLensReading: Codable, Sendable, Equatable {
    /// The folder the translators were loaded from.
    public var folder: String
    /// The primary word form only.
    public var positions: [PositionLens]
    public var nextToken: NextTokenDepth
    enum CodingKeys: String, CodingKey { case folder, positions, nextToken = "next_token" }
}

public enum LensPositions {
    public static let formNames = ["bare", "spaced", "larger"]
    public static let positionNames = ["prompt_end", "operator", "after_opname"]

    /// The form the model faces after the prompt: " multiply" after "7 * 8 =", "multiply" after "7 * 8 = ".
    static func primaryForm(_ style: PromptStyle) -> String { style == .original ? "bare" : "spaced" }

    /// The text up to each position (the model is causal, so the state at a position is the last state of its prefix).
    public static func prefix(_ p: ArithmeticProblem, position: String, style: PromptStyle) -> String {
        switch position {
        case "operator": return "\(p.a) \(p.operation.symbol)"
        case "after_opname": return "\(p.a) \(p.operation.symbol) \(p.b) = \(p.operation.rawValue):"
        default: return p.prompt(style: style)
        }
    }

    /// The position before the answer's first digit in the stage's own format ("a op b = " or "a op b = opname: ").
    public static func controlPrefix(_ p: ArithmeticProblem, chainOfThought: Bool) -> String {
        chainOfThought ? "\(p.a) \(p.operation.symbol) \(p.b) = \(p.operation.rawValue): " : "\(p.a) \(p.operation.symbol) \(p.b) = "
    }

    static func firstToken(_ text: String, _ tokenizer: any TextTokenizer) -> Int? {
        var ids = tokenizer.encode(text)
        if tokenizer.addsBosToken, let bos = tokenizer.bosTokenId, ids.first == bos { ids.removeFirst() }
        return ids.first
    }

    public static func targetTokens(tasks: [String], tokenizer: any TextTokenizer, style: PromptStyle) throws -> TargetTokens {
        var forms: [String: [String: WordFormToken]] = [:]
        for task in tasks {
            for (form, text) in [("bare", task), ("spaced", " " + task)] {
                guard let id = firstToken(text, tokenizer) else { throw IntrospectionError.badInput("the word form '\(text)' encodes to no token") }
                forms[task, default: [:]][form] = WordFormToken(text: text, id: id, piece: tokenizer.piece(id))
            }
        }
        return TargetTokens(primaryForm: primaryForm(style), forms: forms)
    }

    /// The vocabularies of `formNames`, in that order.
    static func vocabularies(_ t: TargetTokens, tasks: [String]) -> [TaskVocabulary] {
        formNames.map { form in
            TaskVocabulary(taskNames: tasks, words: tasks.map { task in
                let ids = form == "larger" ? [t.forms[task]!["bare"]!.id, t.forms[task]!["spaced"]!.id] : [t.forms[task]![form]!.id]
                return [LensTargetWord(word: task, tokenIds: ids.count == 2 && ids[0] == ids[1] ? [ids[0]] : ids)]
            })
        }
    }

    static func encode(_ text: String, _ tokenizer: any TextTokenizer) -> [Int] { tokenizer.encode(text) }

    /// Every position's lens (one forward pass and one readout sweep per position, per lens), and the next-token
    /// yardstick; with a tuned lens the same states are read through it too (`tuned`, nil for the logit lens).
    static func measure(_ loaded: LoadedModel, adapters: LoRAAdapters?, problems: [ArithmeticProblem], tasks: [String],
                        style: PromptStyle, chainOfThought: Bool, targets: TargetTokens, lens: LensChoice = .logit)
        throws -> (positions: [PositionLens], nextToken: NextTokenDepth, tuned: TunedLensReading?) {
        let labels = problems.map { p in tasks.firstIndex(of: p.operation.rawValue)! }
        let vocabularies = vocabularies(targets, tasks: tasks)
        var positions: [PositionLens] = [], tunedPositions: [PositionLens] = []
        for name in positionNames {
            let texts = problems.map { prefix($0, position: name, style: style) }
            let ids = texts.map { encode($0, loaded.tokenizer) }
            let states = try HiddenStateCollector.collect(model: loaded.model, prompts: ids, adapters: adapters)
            func reading(_ s: PromptHiddenStates) -> PositionLens {
                let measured = LensMetrics.measure(model: loaded.model, states: s, labels: labels, vocabularies: vocabularies)
                return PositionLens(position: name, example: texts.first ?? "", exampleTokenIds: ids.first ?? [],
                                    forms: Dictionary(uniqueKeysWithValues: zip(formNames, measured)))
            }
            positions.append(reading(states))
            if case .tuned = lens {
                // The primary form only: the tuned lens answers where the word becomes readable, and three forms at
                // three positions per stage would add half again to results.json.
                var tuned = reading(lens.apply(to: states))
                tuned.forms = tuned.forms.filter { $0.key == targets.primaryForm }
                tunedPositions.append(tuned)
            }
        }
        let controlTexts = problems.map { controlPrefix($0, chainOfThought: chainOfThought) }
        let controlIds = controlTexts.map { encode($0, loaded.tokenizer) }
        let controlStates = try HiddenStateCollector.collect(model: loaded.model, prompts: controlIds, adapters: adapters)
        let next = nextTokenDepth(loaded, states: controlStates, texts: controlTexts, ids: controlIds, chainOfThought: chainOfThought)
        var tuned: TunedLensReading? = nil
        if case let .tuned(_, folder) = lens {
            tuned = TunedLensReading(folder: folder, positions: tunedPositions,
                                     nextToken: nextTokenDepth(loaded, states: lens.apply(to: controlStates), texts: controlTexts,
                                                               ids: controlIds, chainOfThought: chainOfThought))
        }
        return (positions, next, tuned)
    }

    /// The yardstick on one set of states (the emitted token is the final logits' arg-max, which a lens leaves alone).
    static func nextTokenDepth(_ loaded: LoadedModel, states controlStates: PromptHiddenStates, texts controlTexts: [String], ids controlIds: [[Int]],
                               chainOfThought: Bool) -> NextTokenDepth {
        let depth = LensMetrics.nextTokenDepth(model: loaded.model, states: controlStates)
        let emitted = (0..<controlStates.finalLogits.rows).map { TopK.argmax(controlStates.finalLogits, $0) }
        let digits = emitted.filter { id in
            let piece = loaded.tokenizer.decode([id])
            return !piece.isEmpty && piece.allSatisfy { $0.isASCII && $0.isNumber }
        }.count
        let layers = depth.map { NextTokenDepth.Layer(name: LayerSelection.name($0.index), index: $0.index, top1Rate: $0.top1Rate, meanProb: $0.meanProb) }
        let next = NextTokenDepth(position: chainOfThought ? "before_answer_cot" : "before_answer_direct", example: controlTexts.first ?? "",
                                  exampleTokenIds: controlIds.first ?? [], digitShare: Double(digits) / Double(max(1, emitted.count)),
                                  layers: layers, firstLayer80: layers.first { $0.index >= 0 && $0.top1Rate >= 0.8 }?.name)
        return next
    }
}
