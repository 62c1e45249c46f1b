// The arithmetic problems of the original experiments, from our own seeded generator so the same seed gives
// byte-identical data on every platform: multiply a, b in 2…12; add and subtract a, b in 1…50 with a ≥ b for
// subtract. Direct text "a op b = r", chain-of-thought text "a op b = opname: r".
// Validation and test problems are held out of training by unordered operand pair, so "3 * 7" and "7 * 3" fall on the
// same side (the original experiment's validation set was a slice of its training set, so it measured memorisation).
// `matchedRanges` draws every operation's operands from one set of pairs, so that the operands alone carry no label.
import Foundation
import Kernels

public enum ArithmeticOperation: String, CaseIterable, Codable, Sendable {
    case multiply, add, subtract

    public var symbol: String {
        switch self {
        case .multiply: return "*"
        case .add: return "+"
        case .subtract: return "-"
        }
    }

    /// Every problem of this operation in the original experiment's ranges, in a fixed order.
    public var universe: [ArithmeticProblem] { universe(matchedRanges: false) }

    /// The operand range of the matched variant: a, b in 2…20 with a ≥ b for EVERY operation, so the three
    /// operations share one set of 190 operand pairs (a ≥ b because subtraction needs it, and a pair that only
    /// multiply and add could have would name its class).
    public static let matchedRange = 2...20

    /// Every problem of this operation, in the original ranges or the matched ones, in a fixed order.
    public func universe(matchedRanges: Bool) -> [ArithmeticProblem] {
        if matchedRanges {
            let r = Self.matchedRange
            return r.flatMap { a in (r.lowerBound...a).map { b in ArithmeticProblem(operation: self, a: a, b: b) } }
        }
        switch self {
        case .multiply:
            return (2...12).flatMap { a in (2...12).map { b in ArithmeticProblem(operation: self, a: a, b: b) } }
        case .add:
            return (1...50).flatMap { a in (1...50).map { b in ArithmeticProblem(operation: self, a: a, b: b) } }
        case .subtract:
            return (1...50).flatMap { a in (1...a).map { b in ArithmeticProblem(operation: self, a: a, b: b) } }
        }
    }
}

public struct ArithmeticProblem: Codable, Hashable, Sendable {
    public var operation: ArithmeticOperation
    public var a: Int
    public var b: Int

    public init(operation: ArithmeticOperation, a: Int, b: Int) {
        self.operation = operation
        self.a = a
        self.b = b
    }

    public var result: Int {
        switch operation {
        case .multiply: return a * b
        case .add: return a + b
        case .subtract: return a - b
        }
    }

    /// "7 * 8 =" — where the training text continues (`aligned`), or with the original experiment's trailing space (`original`).
    public func prompt(style: PromptStyle) -> String {
        let base = "\(a) \(operation.symbol) \(b) ="
        return style == .original ? base + " " : base
    }

    /// The same operation on the unordered operand pair: "3 * 7" and "7 * 3" share it.
    public var unorderedPair: UnorderedPair { UnorderedPair(operation: operation, low: min(a, b), high: max(a, b)) }

    /// Reads "a op b =" (with or without a trailing space or answer), as the original experiment writes its prompts.
    public init?(parsing text: String) {
        let parts = text.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count >= 3, let a = Int(parts[0]), let b = Int(parts[2]),
              let op = ArithmeticOperation.allCases.first(where: { $0.symbol == parts[1] }) else { return nil }
        self.init(operation: op, a: a, b: b)
    }

    public var directText: String { "\(a) \(operation.symbol) \(b) = \(result)" }
    public var chainOfThoughtText: String { "\(a) \(operation.symbol) \(b) = \(operation.rawValue): \(result)" }

    /// The text split where `mask_prompt` training starts its loss: after "a op b =".
    public func promptCompletion(chainOfThought: Bool) -> PromptCompletionRecord {
        PromptCompletionRecord(prompt: prompt(style: .aligned), completion: chainOfThought ? " \(operation.rawValue): \(result)" : " \(result)")
    }

    /// The text split before the answer, so a loss on the completion is the answer-token loss of either format
    /// ("a op b =" | " r", or "a op b = opname:" | " r"): comparable where whole-text losses are not.
    public func answerSplit(chainOfThought: Bool) -> PromptCompletionRecord {
        PromptCompletionRecord(prompt: chainOfThought ? "\(prompt(style: .aligned)) \(operation.rawValue):" : prompt(style: .aligned),
                               completion: " \(result)")
    }
}

public struct UnorderedPair: Hashable, Sendable {
    public var operation: ArithmeticOperation
    public var low: Int
    public var high: Int

    /// Hewitt & Liang's control task for the operation probe: a label in 0..<classes drawn at random once per
    /// operand-pair type (the unordered pair, whatever the operation), so that "3 * 7", "7 + 3" and "7 - 3" share it.
    /// A probe scores above chance on it only by memorising operand pairs; the seed fixes the assignment.
    public func controlLabel(classes: Int, seed: UInt64) -> Int {
        var rng = SeededRandom(seed: seed ^ (UInt64(low) << 32 | UInt64(high)) &* 0x9E37_79B9_7F4A_7C15)
        return rng.below(classes)
    }
}

/// Where a problem stands against a data set: what a reader needs before trusting an accuracy on it.
public enum ProblemProvenance: String, Codable, Sendable, CaseIterable {
    /// In the test split: the only kind an accuracy may be reported on as held-out.
    case heldOut = "held-out"
    /// In the validation split (its loss was watched during training).
    case validation
    /// Trained on: the problem or its commuted form is among the training examples.
    case inTraining = "in-training"
    /// In the generator's ranges but in no split (never seen, never held out).
    case unseenInRange = "unseen-in-range"
    /// Outside the generator's ranges.
    case outOfRange = "out-of-range"
}

public enum PromptStyle: String, Codable, Sendable {
    /// The prompt ends where the training text continues: "7 * 8 =".
    case aligned
    /// The original experiment's prompts, with a trailing space: "7 * 8 = ".
    case original

    /// `seed`, this style's name before "seed" was kept for random seeds, still reads as `original`.
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        let name = try container.decode(String.self)
        guard let style = PromptStyle(rawValue: name == "seed" ? "original" : name) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "'\(name)' is not a prompt style: use aligned or original")
        }
        self = style
    }
}

public struct ArithmeticDataset: Sendable, Equatable {
    /// Training problems, drawn with repetition from the training pool (as the original experiment samples them).
    public var train: [ArithmeticProblem]
    /// Distinct held-out problems for the validation loss.
    public var valid: [ArithmeticProblem]
    /// Distinct held-out problems for evaluation, disjoint from train and valid.
    public var test: [ArithmeticProblem]

    /// Whether the operands came from the matched ranges (`universe(matchedRanges:)`).
    public var matchedRanges: Bool = false

    public init(train: [ArithmeticProblem], valid: [ArithmeticProblem], test: [ArithmeticProblem], matchedRanges: Bool = false) {
        self.train = train
        self.valid = valid
        self.test = test
        self.matchedRanges = matchedRanges
    }

    /// Splits each operation's unordered operand pairs by a seeded shuffle into a test pool, a validation pool and
    /// the training pool (a pair's problems, "a op b" and "b op a", stay together); then draws `trainSamples`
    /// training problems (operation uniform, problem uniform within its pool), and distinct validation and test
    /// problems, the SAME number per operation so that the lens and probe metrics have balanced classes (chance = 1/3).
    /// A pair goes to the test pool while it fits the count, else to validation while that fits, else to training:
    /// pairs of one problem (a = b, or subtraction's a ≥ b) fill the last places, so the counts are met exactly.
    /// An operation's test pool is a third of `testSamples`, but at most 40% of its universe (multiplication
    /// in 2…12 has only 121 problems, so it holds out 48 and the test set has 3 × 48 = 144 problems when 300
    /// are asked for); validation takes a third of `validSamples`, at most 10% of the universe.
    public static func make(trainSamples: Int, validSamples: Int, testSamples: Int, seed: UInt64,
                            matchedRanges: Bool = false) -> ArithmeticDataset {
        var rng = SeededRandom(seed: seed)
        let ops = ArithmeticOperation.allCases
        let universes = ops.map { $0.universe(matchedRanges: matchedRanges) }
        func perOperation(_ total: Int, fraction: Double) -> Int {
            let cap = universes.map { max(1, Int(Double($0.count) * fraction)) }.min() ?? 0
            return min(cap, (total + ops.count - 1) / ops.count)
        }
        let nTest = perOperation(testSamples, fraction: 0.4)
        let nValid = perOperation(validSamples, fraction: 0.1)
        var trainPools: [[ArithmeticProblem]] = []
        var valid: [ArithmeticProblem] = [], test: [ArithmeticProblem] = []
        for all in universes {
            // Pairs in the universe's order of first appearance, then shuffled: deterministic on every platform.
            var pairs: [UnorderedPair] = [], members: [UnorderedPair: [ArithmeticProblem]] = [:]
            for p in all {
                if members[p.unorderedPair] == nil { pairs.append(p.unorderedPair) }
                members[p.unorderedPair, default: []].append(p)
            }
            rng.shuffle(&pairs)
            var opTest: [ArithmeticProblem] = [], opValid: [ArithmeticProblem] = [], pool: [ArithmeticProblem] = []
            for pair in pairs {
                let problems = members[pair]!
                if opTest.count + problems.count <= nTest { opTest += problems }
                else if opValid.count + problems.count <= nValid { opValid += problems }
                else { pool += problems }
            }
            test += opTest
            valid += opValid
            trainPools.append(pool)
        }
        var train: [ArithmeticProblem] = []
        train.reserveCapacity(trainSamples)
        for _ in 0..<trainSamples {
            let k = rng.below(trainPools.count)
            train.append(trainPools[k][rng.below(trainPools[k].count)])
        }
        return ArithmeticDataset(train: train, valid: valid, test: test, matchedRanges: matchedRanges)
    }

    /// Where `problem` stands: held out, validation, trained on (itself or its commuted form among `trainedOn`, the
    /// examples training actually visited; the whole training file when nil), in range but unused, or out of range.
    public func provenance(of problem: ArithmeticProblem, trainedOn: [ArithmeticProblem]? = nil) -> ProblemProvenance {
        let pair = problem.unorderedPair
        if test.contains(problem) { return .heldOut }
        if valid.contains(problem) { return .validation }
        if (trainedOn ?? train).contains(where: { $0.unorderedPair == pair }) { return .inTraining }
        return problem.operation.universe(matchedRanges: matchedRanges).contains(problem) ? .unseenInRange : .outOfRange
    }

    /// Distinct problems per operation among `problems`.
    public static func distinctProblems(_ problems: [ArithmeticProblem]) -> [String: Int] {
        var out: [String: Int] = [:]
        for op in ArithmeticOperation.allCases { out[op.rawValue] = Set(problems.filter { $0.operation == op }).count }
        return out
    }
}

public enum JSONLines {
    /// One JSON object per line, keys sorted, "\n" after every line.
    public static func encode<T: Encodable>(_ records: [T]) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var data = Data()
        for r in records {
            data.append(try encoder.encode(r))
            data.append(0x0A)
        }
        return data
    }
}

/// `{"text": …}`: the record format of the training files (loss on every token, as mlx-lm's text format).
public struct TextRecord: Codable, Sendable, Equatable {
    public var text: String
    public init(text: String) { self.text = text }
}

/// `{"prompt", "completion"}`: the record format of `mask_prompt` training and of the answer-token loss (the
/// loss counts the completion's tokens only).
public struct PromptCompletionRecord: Codable, Sendable, Equatable {
    public var prompt: String
    public var completion: String
    public init(prompt: String, completion: String) {
        self.prompt = prompt
        self.completion = completion
    }
}

/// `{"prompt", "task", "result"}`: the record format of probe data (the original experiment's probe_classifier files).
public struct ProbeRecord: Codable, Sendable, Equatable {
    public var prompt: String
    public var task: String
    public var result: Int
    public init(prompt: String, task: String, result: Int) {
        self.prompt = prompt
        self.task = task
        self.result = result
    }
}
