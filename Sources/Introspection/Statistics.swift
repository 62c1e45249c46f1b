// The statistics the experiments' conclusions rest on: exact McNemar for paired proportions, Holm's step-down
// correction, Wilson intervals for one proportion, and a Student-t interval for a mean across seeds.
// Pure functions of counts and numbers; what is tested on which prompts is the caller's business.
import Foundation

public enum Statistics {
    // MARK: Paired proportions

    /// Two-sided exact McNemar test on the discordant pairs: `b` items right under A and wrong under B, `c` the
    /// reverse. Under the null each discordant pair goes either way with probability ½, so the p-value is
    /// min(1, 2·P(X ≤ min(b, c))) for X ~ Binomial(b + c, ½); 1 when there are no discordant pairs.
    /// Summed in log space: 0.5^n underflows Double past n ≈ 1074.
    public static func mcNemarExact(b: Int, c: Int) -> Double {
        precondition(b >= 0 && c >= 0, "McNemar: counts must be non-negative")
        let n = b + c
        guard n > 0 else { return 1 }
        let k = min(b, c)
        let logHalfN = Double(n) * log(0.5)
        var tail = 0.0
        for i in 0...k { tail += exp(logChoose(n, i) + logHalfN) }
        return min(1, 2 * tail)
    }

    /// The discordant counts of two paired outcome lists (b: right in `a` only, c: right in `b` only).
    public static func discordant(_ a: [Bool], _ b: [Bool]) -> (b: Int, c: Int) {
        precondition(a.count == b.count, "McNemar: paired outcomes need the same items")
        var onlyA = 0, onlyB = 0
        for (x, y) in zip(a, b) where x != y { if x { onlyA += 1 } else { onlyB += 1 } }
        return (onlyA, onlyB)
    }

    static func logChoose(_ n: Int, _ k: Int) -> Double {
        lgamma(Double(n) + 1) - lgamma(Double(k) + 1) - lgamma(Double(n - k) + 1)
    }

    /// Holm's step-down adjustment (controls the family-wise error rate at any dependence between the tests):
    /// the i-th smallest p (from 0) becomes max over j ≤ i of min(1, (m − j)·p_(j)); returned in the input order.
    public static func holm(_ p: [Double]) -> [Double] {
        let m = p.count
        let order = p.indices.sorted { p[$0] < p[$1] || (p[$0] == p[$1] && $0 < $1) }
        var adjusted = [Double](repeating: 1, count: m)
        var running = 0.0
        for (rank, i) in order.enumerated() {
            running = max(running, min(1, Double(m - rank) * p[i]))
            adjusted[i] = running
        }
        return adjusted
    }

    // MARK: One proportion

    /// The Wilson score interval of `successes` out of `n` at the normal quantile `z` (1.96 for 95%); [0, 1] for n = 0.
    public static func wilson(successes: Int, n: Int, z: Double = 1.959963984540054) -> (low: Double, high: Double) {
        guard n > 0 else { return (0, 1) }
        let p = Double(successes) / Double(n)
        let z2 = z * z, nn = Double(n)
        let denominator = 1 + z2 / nn
        let center = (p + z2 / (2 * nn)) / denominator
        let half = z * (p * (1 - p) / nn + z2 / (4 * nn * nn)).squareRoot() / denominator
        return (max(0, center - half), min(1, center + half))
    }

    // MARK: A mean across runs

    /// Mean, sample standard deviation and the two-sided 95% Student-t interval of the mean.
    public struct MeanInterval: Codable, Sendable, Equatable {
        public var mean: Double
        public var low: Double
        public var high: Double
        public var sd: Double
        public var n: Int

        /// The interval cut to `bounds` (a proportion's t-interval to [0, 1]: the symmetric t-interval of a few
        /// seeds can reach past what a proportion can be; the mean and sd are unchanged).
        public func clipped(to bounds: ClosedRange<Double>) -> MeanInterval {
            var c = self
            c.low = min(max(low, bounds.lowerBound), bounds.upperBound)
            c.high = min(max(high, bounds.lowerBound), bounds.upperBound)
            return c
        }
    }

    /// With one value the interval is that value's point (no spread is known: the report must say n = 1).
    public static func meanInterval(_ xs: [Double]) -> MeanInterval {
        precondition(!xs.isEmpty, "meanInterval: needs at least one value")
        let n = xs.count
        let mean = xs.reduce(0, +) / Double(n)
        guard n > 1 else { return MeanInterval(mean: mean, low: mean, high: mean, sd: 0, n: 1) }
        let sd = (xs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n - 1)).squareRoot()
        let half = tQuantile975(degreesOfFreedom: n - 1) * sd / Double(n).squareRoot()
        return MeanInterval(mean: mean, low: mean - half, high: mean + half, sd: sd, n: n)
    }

    /// The 0.975 quantile of Student's t: tabulated to 4 decimals for 1…30 degrees of freedom (the counts of
    /// seeds this runs with), the Cornish–Fisher expansion about the normal quantile beyond (error < 1e-4 there).
    public static func tQuantile975(degreesOfFreedom df: Int) -> Double {
        precondition(df >= 1, "t quantile: at least one degree of freedom")
        let table: [Double] = [12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281,
                               2.2010, 2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860,
                               2.0796, 2.0739, 2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423]
        if df <= table.count { return table[df - 1] }
        let z = 1.959963984540054, v = Double(df)
        let z3 = z * z * z, z5 = z3 * z * z, z7 = z5 * z * z
        return z + (z3 + z) / (4 * v) + (5 * z5 + 16 * z3 + 3 * z) / (96 * v * v)
            + (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * v * v * v)
    }
}
