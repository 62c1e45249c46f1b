// Scoring generated answers: which integer a continuation states, and the Wilson score interval of an
// accuracy (it behaves at 0% and 100% and for small n, where the normal approximation does not).
import Foundation
import Introspection

public enum AnswerScoring {
    /// The first integer after the last ':' of the first line (the whole first line when it has no ':').
    /// Only the first line counts, so a model that goes on to write another problem is judged on its answer.
    public static func extractAnswer(_ text: String) -> Int? {
        let firstLine = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        let tail = firstLine.range(of: ":", options: .backwards).map { String(firstLine[$0.upperBound...]) } ?? firstLine
        var digits = ""
        var negative = false
        var previous: Character = " "
        for c in tail {
            if c.isASCII, c.isNumber {
                if digits.isEmpty && previous == "-" { negative = true }
                digits.append(c)
            } else if !digits.isEmpty {
                break
            }
            previous = c
        }
        guard let v = Int(digits) else { return nil }
        return negative ? -v : v
    }

    /// The last integer of the first non-empty line: for a chat reply, which may restate the problem
    /// ("7 * 8 = 56") before or instead of giving the bare answer.
    public static func extractLastInteger(_ text: String) -> Int? {
        let line = text.split(separator: "\n").first { !$0.trimmingCharacters(in: .whitespaces).isEmpty }.map(String.init) ?? ""
        var last: Int? = nil
        var digits = "", negative = false, previous: Character = " "
        for c in line + " " {
            if c.isASCII, c.isNumber {
                if digits.isEmpty { negative = previous == "-" }
                digits.append(c)
            } else if !digits.isEmpty {
                last = Int(digits).map { negative ? -$0 : $0 }
                digits = ""
            }
            previous = c
        }
        return last
    }
}

/// An accuracy with its 95% Wilson score interval.
public struct Proportion: Codable, Sendable, Equatable {
    public var value: Double
    public var low: Double
    public var high: Double
    public var n: Int
    public var successes: Int

    public init(successes: Int, n: Int, z: Double = 1.959963984540054) {
        (self.successes, self.n) = (successes, n)
        value = n > 0 ? Double(successes) / Double(n) : 0
        (low, high) = Statistics.wilson(successes: successes, n: n, z: z)
    }

    /// True when the two intervals do not overlap.
    public func differs(from other: Proportion) -> Bool { low > other.high || high < other.low }
}
