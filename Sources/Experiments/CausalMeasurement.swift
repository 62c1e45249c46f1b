// The measurements of causal_interventions on one stage: greedy continuations of twin prompts with and
// without edits of the residual stream, scored by the operation word they emit first and the answer after
// the last ':'. Every rate carries its 95% Wilson interval. Not the experiment's stages or report.
import Datasets
import Foundation
import Introspection
import Kernels
import Tokenizer
import Transformer

/// What a continuation states: its first word (lower-cased, up to a ':') and its answer.
struct ContinuationOutcome: Codable, Sendable, Equatable {
    var text: String
    var firstToken: Int?
    var word: String
    var answer: Int?

    init(ids: [Int], tokenizer: any TextTokenizer) {
        let text = tokenizer.decode(ids)
        self.text = text
        firstToken = ids.first
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        word = String(trimmed.prefix { $0.isLetter }).lowercased()
        answer = AnswerScoring.extractAnswer(text)
    }
}

/// Patching one way (recipients of one operation, donors of the other) at one position, per layer.
public struct PatchCurve: Codable, Sendable, Equatable {
    public var position: String
    public var recipient: String
    public var donor: String
    public var layers: [String]
    public var layerIndices: [Int]
    public var wordFollowsDonor: [Proportion]
    public var answerFollowsDonor: [Proportion]
    enum CodingKeys: String, CodingKey {
        case position, recipient, donor, layers, layerIndices = "layer_indices", wordFollowsDonor = "word_follows_donor"
        case answerFollowsDonor = "answer_follows_donor"
    }
}

/// Steering one way at one layer: prompts of `from` pushed towards `toward`, per α.
public struct SteeringCurve: Codable, Sendable, Equatable {
    public var layer: String
    public var from: String
    public var toward: String
    /// Mean residual-stream norm at the layer's last prompt position: α is in these units.
    public var residualNorm: Double
    public var alphas: [Double]
    public var wordSwitched: [Proportion]
    public var answerSwitched: [Proportion]
    enum CodingKeys: String, CodingKey {
        case layer, from, toward, residualNorm = "residual_norm", alphas, wordSwitched = "word_switched", answerSwitched = "answer_switched"
    }
}

/// Erasure of the multiply − add mean-difference direction at one layer, at every position.
public struct ErasureResult: Codable, Sendable, Equatable {
    public var layer: String
    public var wordCorrectBefore: Proportion
    public var wordCorrectAfter: Proportion
    public var answerCorrectBefore: Proportion
    public var answerCorrectAfter: Proportion
    /// The prompt's own operation word outscores the other's through the lens at the layer.
    public var lensReadableBefore: Proportion
    public var lensReadableAfter: Proportion
    enum CodingKeys: String, CodingKey {
        case layer, wordCorrectBefore = "word_correct_before", wordCorrectAfter = "word_correct_after"
        case answerCorrectBefore = "answer_correct_before", answerCorrectAfter = "answer_correct_after"
        case lensReadableBefore = "lens_readable_before", lensReadableAfter = "lens_readable_after"
    }
}

public struct CausalStageResult: Codable, Sendable, Equatable {
    public var stage: String
    public var pairs: Int
    /// Unedited: the operation word and the answer are the prompt's own (both operations together).
    public var wordCorrect: Proportion
    public var answerCorrect: Proportion
    public var patching: [PatchCurve]
    /// Patching the last layer at the last prompt position, both ways: the fraction whose first generated token
    /// is the donor's own (its logits are the donor's by construction, so anything below 1 is a broken edit).
    public var positiveControl: Proportion
    public var positiveControlPassed: Bool
    public var steering: [SteeringCurve]
    public var erasure: [ErasureResult]
    public var examples: [String]
    public var seconds: Double
    enum CodingKeys: String, CodingKey {
        case stage, pairs, wordCorrect = "word_correct", answerCorrect = "answer_correct", patching
        case positiveControl = "positive_control", positiveControlPassed = "positive_control_passed", steering, erasure, examples, seconds
    }
}

struct CausalMeasurement {
    var loaded: LoadedModel
    var adapters: LoRAAdapters?
    var pairs: [TwinPair]
    var parameters: CausalInterventions.Parameters
    var lens: LensChoice
    var context: ExperimentContext?

    var model: TransformerModel { loaded.model }

    func generate(_ prompts: [[Int]], _ interventions: [Intervention] = []) throws -> [ContinuationOutcome] {
        let options = GenerationOptions(maxTokens: parameters.maxNewTokens, stopTokens: loaded.stopTokens(atNewline: true), interventions: interventions)
        return try model.generateGreedy(prompts: prompts, adapters: adapters, options: options).map { ContinuationOutcome(ids: $0, tokenizer: loaded.tokenizer) }
    }

    func run(stage: String) throws -> CausalStageResult {
        let start = Date()
        let tok = loaded.tokenizer
        let c = model.config
        // The twins share their prefix up to the operator; the last token is '=' in both (a tokenizer may split
        // the operators differently, so each prompt keeps its own last position).
        let prompts: [ArithmeticOperation: [[Int]]] = [.multiply: pairs.map { tok.encode($0.multiply.prompt(style: .aligned)) },
                                                       .add: pairs.map { tok.encode($0.add.prompt(style: .aligned)) }]
        let operatorPosition = pairs.indices.map { i in
            zip(prompts[.multiply]![i], prompts[.add]![i]).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? 0
        }
        let lastPositions: [ArithmeticOperation: [Int]] = [.multiply: prompts[.multiply]!.map { $0.count - 1 }, .add: prompts[.add]!.map { $0.count - 1 }]
        let twins = pairs
        func problems(_ op: ArithmeticOperation) -> [ArithmeticProblem] { twins.map { op == .multiply ? $0.multiply : $0.add } }
        func other(_ op: ArithmeticOperation) -> ArithmeticOperation { op == .multiply ? .add : .multiply }

        var hidden: [ArithmeticOperation: [Matrix]] = [:], rowOffsets: [ArithmeticOperation: [Int]] = [:]
        var base: [ArithmeticOperation: [ContinuationOutcome]] = [:]
        for op in [ArithmeticOperation.multiply, .add] {
            let r = try model.forward(prompts[op]!, adapters: adapters, capture: .allPositions, logits: .none)
            hidden[op] = r.hidden
            rowOffsets[op] = r.rowOffsets
            base[op] = try generate(prompts[op]!)
        }
        func rate(_ flags: [Bool]) -> Proportion { Proportion(successes: flags.filter { $0 }.count, n: flags.count) }
        func wordIs(_ outcomes: [ContinuationOutcome], _ ops: [ArithmeticOperation]) -> [Bool] { zip(outcomes, ops).map { $0.word == $1.rawValue } }
        func answerIs(_ outcomes: [ContinuationOutcome], _ problems: [ArithmeticProblem]) -> [Bool] { zip(outcomes, problems).map { $0.answer == $1.result } }
        let n = twins.count
        let ownWord = wordIs(base[.multiply]!, Array(repeating: .multiply, count: n)) + wordIs(base[.add]!, Array(repeating: .add, count: n))
        let ownAnswer = answerIs(base[.multiply]!, problems(.multiply)) + answerIs(base[.add]!, problems(.add))
        context?.log(String(format: "%@: unedited operation word %.0f%%, answer %.0f%% (n=%d)", stage,
                            rate(ownWord).value * 100, rate(ownAnswer).value * 100, 2 * n))

        // Patching: recipient op's prompt, the residual at (layer, position) from the twin of the other op.
        // The last layer is always patched: it is the positive control.
        let layers = Array(Set(try LayerSelection.parse(parameters.patchLayers, layerCount: c.layerCount) + [c.layerCount - 1])).sorted()
        var patching: [PatchCurve] = []
        var controlFlags: [Bool] = []
        let total = Double(2 * 2 * layers.count)
        var done = 0.0
        for positionName in ["last", "operator"] {
            for recipient in [ArithmeticOperation.multiply, .add] {
                let donor = other(recipient)
                let at = positionName == "last" ? lastPositions[recipient]! : operatorPosition
                let from = positionName == "last" ? lastPositions[donor]! : operatorPosition
                var words: [Proportion] = [], answers: [Proportion] = []
                for layer in layers {
                    let source = hidden[donor]![layer + 1]
                    let edits = (0..<n).map { b in
                        Intervention(.residual(layer: layer), .replace(source.row(rowOffsets[donor]![b] + from[b])), sequence: b, position: at[b])
                    }
                    let out = try generate(prompts[recipient]!, edits)
                    let w = wordIs(out, Array(repeating: donor, count: n))
                    words.append(rate(w))
                    answers.append(rate(answerIs(out, problems(donor))))
                    // The last layer at '=' fixes the next token's logits to the donor's: its first token must be the donor's.
                    if positionName == "last" && layer == c.layerCount - 1 {
                        controlFlags += zip(out, base[donor]!).map { $0.firstToken == $1.firstToken }
                    }
                    done += 1
                    context?.progress("\(stage): patching", done / total)
                }
                patching.append(PatchCurve(position: positionName, recipient: recipient.rawValue, donor: donor.rawValue,
                                           layers: layers.map(LayerSelection.name), layerIndices: layers, wordFollowsDonor: words, answerFollowsDonor: answers))
            }
        }
        let control = rate(controlFlags)

        // Steering along the unembedding difference, in units of the layer's residual norm, at every position.
        let mulId = try targetToken("multiply"), addId = try targetToken("add")
        var direction = (0..<c.hiddenSize).map { model.weights.unembedding[mulId, $0] - model.weights.unembedding[addId, $0] }
        let norm = direction.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        direction = direction.map { $0 / Float(max(norm, 1e-12)) }
        let steeringLayers = Array(Set(parameters.steeringLayersPct.map { LayerSelection.index(fraction: $0, layerCount: c.layerCount) })).sorted()
        var steering: [SteeringCurve] = []
        for layer in steeringLayers {
            for from in [ArithmeticOperation.add, .multiply] {
                let toward = other(from)
                let h = hidden[from]![layer + 1]
                let meanNorm = (0..<n).map { b in
                    h.row(rowOffsets[from]![b] + lastPositions[from]![b]).reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
                }.reduce(0, +) / Double(max(1, n))
                let sign: Float = toward == .multiply ? 1 : -1
                var words: [Proportion] = [], answers: [Proportion] = []
                for alpha in parameters.steeringAlphas {
                    let vector = direction.map { $0 * sign * Float(alpha * meanNorm) }
                    let out = alpha == 0 ? base[from]! : try generate(prompts[from]!, [Intervention(.residual(layer: layer), .add(vector))])
                    words.append(rate(wordIs(out, Array(repeating: toward, count: n))))
                    answers.append(rate(answerIs(out, problems(toward))))
                }
                steering.append(SteeringCurve(layer: LayerSelection.name(layer), from: from.rawValue, toward: toward.rawValue, residualNorm: meanNorm,
                                              alphas: parameters.steeringAlphas, wordSwitched: words, answerSwitched: answers))
            }
        }

        // Erasure of the mean difference of the two operations' states at the last position.
        var erasure: [ErasureResult] = []
        for layer in steeringLayers {
            let last: [ArithmeticOperation: Matrix] = [
                .multiply: Elementwise.gatherRows(hidden[.multiply]![layer + 1], (0..<n).map { rowOffsets[.multiply]![$0] + lastPositions[.multiply]![$0] }),
                .add: Elementwise.gatherRows(hidden[.add]![layer + 1], (0..<n).map { rowOffsets[.add]![$0] + lastPositions[.add]![$0] }),
            ]
            let u = Self.meanDifference(last[.multiply]!, last[.add]!)
            let edit = [Intervention(.residual(layer: layer), .projectOut(u))]
            let after = [ArithmeticOperation.multiply: try generate(prompts[.multiply]!, edit), .add: try generate(prompts[.add]!, edit)]
            let wordAfter = wordIs(after[.multiply]!, Array(repeating: .multiply, count: n)) + wordIs(after[.add]!, Array(repeating: .add, count: n))
            let answerAfter = answerIs(after[.multiply]!, problems(.multiply)) + answerIs(after[.add]!, problems(.add))
            func readable(_ erase: Bool) -> [Bool] {
                [ArithmeticOperation.multiply, .add].flatMap { op -> [Bool] in
                    var h = last[op]!
                    if erase { Self.projectOut(&h, unit: u) }
                    let logits = model.readout(lens.prepare(h, layer: layer))
                    let own = op == .multiply ? mulId : addId, rival = op == .multiply ? addId : mulId
                    return (0..<n).map { logits[$0, own] > logits[$0, rival] }
                }
            }
            erasure.append(ErasureResult(layer: LayerSelection.name(layer), wordCorrectBefore: rate(ownWord), wordCorrectAfter: rate(wordAfter),
                                         answerCorrectBefore: rate(ownAnswer), answerCorrectAfter: rate(answerAfter),
                                         lensReadableBefore: rate(readable(false)), lensReadableAfter: rate(readable(true))))
        }
        let examples = (0..<min(4, n)).map { b in
            "\(tok.decode(prompts[.multiply]![b]))\(base[.multiply]![b].text.debugDescription) | \(tok.decode(prompts[.add]![b]))\(base[.add]![b].text.debugDescription)"
        }
        return CausalStageResult(stage: stage, pairs: n, wordCorrect: rate(ownWord), answerCorrect: rate(ownAnswer), patching: patching,
                                 positiveControl: control, positiveControlPassed: control.value == 1, steering: steering, erasure: erasure,
                                 examples: examples, seconds: Date().timeIntervalSince(start))
    }

    /// The token the model faces after "=": the leading-space form of the word where it has one.
    func targetToken(_ word: String) throws -> Int {
        let target = try LensTargetWord(word: word, tokenizer: loaded.tokenizer)
        return target.tokenIds.count > 1 ? target.tokenIds[1] : target.tokenIds[0]
    }

    /// mean(a rows) − mean(b rows), unit length; a, b: [n, D] → [D].
    static func meanDifference(_ a: Matrix, _ b: Matrix) -> [Float] {
        var d = [Double](repeating: 0, count: a.cols)
        for r in 0..<a.rows { for j in 0..<a.cols { d[j] += Double(a[r, j]) / Double(a.rows) } }
        for r in 0..<b.rows { for j in 0..<b.cols { d[j] -= Double(b[r, j]) / Double(b.rows) } }
        let norm = max(d.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-12)
        return d.map { Float($0 / norm) }
    }

    /// h ← h − (h·u)u per row, u of unit length (the edit the forward's projectOut makes).
    static func projectOut(_ h: inout Matrix, unit u: [Float]) {
        for r in 0..<h.rows {
            var dot: Float = 0
            for j in 0..<h.cols { dot += h[r, j] * u[j] }
            for j in 0..<h.cols { h[r, j] -= dot * u[j] }
        }
    }
}
