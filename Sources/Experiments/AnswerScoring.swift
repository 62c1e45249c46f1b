// Scoring generated answers: which integer a continuation states, and the Wilson score interval of an
// accuracy (it behaves at 0% and 100% and for small n, where the normal approximation does not).
import Foundation

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
}

/// An accuracy with its 95% Wilson score interval.
public struct Proportion: Codable, Sendable, Equatable {
    public var value: Double
    public var low: Double
    public var high: Double
    public var n: Int
    public var successes: Int

    public init(successes: Int, n: Int, z: Double = 1.959963984540054) {
        self.successes = successes
        self.n = n
        guard n > 0 else { value = 0; low = 0; high = 1; return }
        let p = Double(successes) / Double(n)
        let z2 = z * z, nn = Double(n)
        let denominator = 1 + z2 / nn
        let center = (p + z2 / (2 * nn)) / denominator
        let half = z * (p * (1 - p) / nn + z2 / (4 * nn * nn)).squareRoot() / denominator
        value = p
        low = max(0, center - half)
        high = min(1, center + half)
    }

    /// True when the two intervals do not overlap.
    public func differs(from other: Proportion) -> Bool { low > other.high || high < other.low }
}
