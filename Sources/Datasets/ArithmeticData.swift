// The arithmetic problems of the original experiments, from our own seeded generator so the same seed gives
// byte-identical data on every platform: multiply a, b in 2…12; add and subtract a, b in 1…50 with a ≥ b for
// subtract. Direct text "a op b = r", chain-of-thought text "a op b = opname: r".
// Validation and test problems are held out of training as whole problems (the original experiment's validation set was a
// slice of its training set, so it measured memorisation).
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
    public var universe: [ArithmeticProblem] {
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

    public var directText: String { "\(a) \(operation.symbol) \(b) = \(result)" }
    public var chainOfThoughtText: String { "\(a) \(operation.symbol) \(b) = \(operation.rawValue): \(result)" }
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

    /// Splits each operation's universe by a seeded shuffle into a test pool, a validation pool and the
    /// training pool; then draws `trainSamples` training problems (operation uniform, problem uniform within
    /// its pool), and distinct validation and test problems, the SAME number per operation so that the lens
    /// and probe metrics have balanced classes (chance = 1/3).
    /// An operation's test pool is a third of `testSamples`, but at most 40% of its universe (multiplication
    /// in 2…12 has only 121 problems, so it holds out 48 and the test set has 3 × 48 = 144 problems when 300
    /// are asked for); validation takes a third of `validSamples`, at most 10% of the universe.
    public static func make(trainSamples: Int, validSamples: Int, testSamples: Int, seed: UInt64) -> ArithmeticDataset {
        var rng = SeededRandom(seed: seed)
        let ops = ArithmeticOperation.allCases
        let universes = ops.map(\.universe)
        func perOperation(_ total: Int, fraction: Double) -> Int {
            let cap = universes.map { max(1, Int(Double($0.count) * fraction)) }.min() ?? 0
            return min(cap, (total + ops.count - 1) / ops.count)
        }
        let nTest = perOperation(testSamples, fraction: 0.4)
        let nValid = perOperation(validSamples, fraction: 0.1)
        var trainPools: [[ArithmeticProblem]] = []
        var valid: [ArithmeticProblem] = [], test: [ArithmeticProblem] = []
        for var all in universes {
            rng.shuffle(&all)
            test += all[0..<nTest]
            valid += all[nTest..<(nTest + nValid)]
            trainPools.append(Array(all[(nTest + nValid)...]))
        }
        var train: [ArithmeticProblem] = []
        train.reserveCapacity(trainSamples)
        for _ in 0..<trainSamples {
            let k = rng.below(trainPools.count)
            train.append(trainPools[k][rng.below(trainPools[k].count)])
        }
        return ArithmeticDataset(train: train, valid: valid, test: test)
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
