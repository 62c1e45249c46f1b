// The arithmetic problems of the seed experiments, from our own seeded generator so the same seed gives
// byte-identical data on every platform: multiply a, b in 2…12; add and subtract a, b in 1…50 with a ≥ b for
// subtract. Direct text "a op b = r", chain-of-thought text "a op b = opname: r".
// Validation and test problems are held out of training as whole problems (the seed's validation set was a
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

    /// Every problem of this operation in the seed's ranges, in a fixed order.
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

    /// "7 * 8 =" — where the training text continues (`aligned`), or with the seed's trailing space (`seed`).
    public func prompt(style: PromptStyle) -> String {
        let base = "\(a) \(operation.symbol) \(b) ="
        return style == .seed ? base + " " : base
    }

    public var directText: String { "\(a) \(operation.symbol) \(b) = \(result)" }
    public var chainOfThoughtText: String { "\(a) \(operation.symbol) \(b) = \(operation.rawValue): \(result)" }
}

public enum PromptStyle: String, Codable, Sendable {
    /// The prompt ends where the training text continues: "7 * 8 =".
    case aligned
    /// The seed's prompts, with a trailing space: "7 * 8 = ".
    case seed
}

public struct ArithmeticDataset: Sendable, Equatable {
    /// Training problems, drawn with repetition from the training pool (as the seed samples).
    public var train: [ArithmeticProblem]
    /// Distinct held-out problems for the validation loss.
    public var valid: [ArithmeticProblem]
    /// Distinct held-out problems for evaluation, disjoint from train and valid.
    public var test: [ArithmeticProblem]

    /// Splits each operation's universe by a seeded shuffle: 15% test pool, 5% validation pool (at least two
    /// of each), the rest training pool; then draws `trainSamples` training problems (operation uniform,
    /// problem uniform within its pool), up to `validSamples` validation and `testSamples` test problems
    /// (a third per operation, all distinct; an operation with a small pool contributes what it has).
    public static func make(trainSamples: Int, validSamples: Int, testSamples: Int, seed: UInt64) -> ArithmeticDataset {
        var rng = SeededRandom(seed: seed)
        var trainPools: [[ArithmeticProblem]] = [], validPools: [[ArithmeticProblem]] = [], testPools: [[ArithmeticProblem]] = []
        for op in ArithmeticOperation.allCases {
            var all = op.universe
            rng.shuffle(&all)
            let nTest = max(2, Int((Double(all.count) * 0.15).rounded(.up)))
            let nValid = max(2, Int((Double(all.count) * 0.05).rounded(.up)))
            testPools.append(Array(all[0..<nTest]))
            validPools.append(Array(all[nTest..<(nTest + nValid)]))
            trainPools.append(Array(all[(nTest + nValid)...]))
        }
        var train: [ArithmeticProblem] = []
        train.reserveCapacity(trainSamples)
        for _ in 0..<trainSamples {
            let k = rng.below(trainPools.count)
            train.append(trainPools[k][rng.below(trainPools[k].count)])
        }
        func take(_ pools: [[ArithmeticProblem]], _ total: Int) -> [ArithmeticProblem] {
            let per = (total + pools.count - 1) / pools.count
            var out: [ArithmeticProblem] = []
            for pool in pools { out += pool.prefix(per) }
            return out
        }
        return ArithmeticDataset(train: train, valid: take(validPools, validSamples), test: take(testPools, testSamples))
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

/// `{"prompt", "task", "result"}`: the record format of probe data (the seed's probe_classifier files).
public struct ProbeRecord: Codable, Sendable, Equatable {
    public var prompt: String
    public var task: String
    public var result: Int
}
