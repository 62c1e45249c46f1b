// McNemar, Holm, Wilson, the t interval and k-fold splitting on cases computed by hand.
import Foundation
import Introspection
import Testing

@Suite struct StatisticsTests {
    @Test func mcNemarMatchesTheBinomialTailByHand() {
        // b = 1, c = 5: n = 6, P(X ≤ 1) = (1 + 6)/64, two-sided 14/64.
        #expect(abs(Statistics.mcNemarExact(b: 1, c: 5) - 14.0 / 64) < 1e-12)
        #expect(abs(Statistics.mcNemarExact(b: 5, c: 1) - 14.0 / 64) < 1e-12)
        // b = 0, c = 10: 2 · 2^-10.
        #expect(abs(Statistics.mcNemarExact(b: 0, c: 10) - 2.0 / 1024) < 1e-15)
        // b = c = 3: 2 · (1 + 6 + 15 + 20)/64 > 1, capped.
        #expect(Statistics.mcNemarExact(b: 3, c: 3) == 1)
        #expect(Statistics.mcNemarExact(b: 0, c: 0) == 1)
        // b = 2, c = 8: n = 10, P(X ≤ 2) = (1 + 10 + 45)/1024, two-sided 112/1024.
        #expect(abs(Statistics.mcNemarExact(b: 2, c: 8) - 112.0 / 1024) < 1e-12)
        // Large n stays finite (0.5^2000 underflows Double): 1000 vs 1000 is p = 1, 0 vs 2000 is ~0.
        #expect(Statistics.mcNemarExact(b: 1000, c: 1000) == 1)
        #expect(Statistics.mcNemarExact(b: 0, c: 2000) < 1e-300)
    }

    @Test func discordantCountsPairTheItems() {
        let a = [true, true, false, false, true]
        let b = [true, false, true, false, false]
        let d = Statistics.discordant(a, b)
        #expect(d.b == 2 && d.c == 1)
    }

    @Test func holmStepsDownAndStaysMonotone() {
        // Sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1: 0.02, 0.03, 0.06, 0.04 → running max 0.06.
        let adjusted = Statistics.holm([0.01, 0.04, 0.03, 0.005])
        let expected = [0.03, 0.06, 0.06, 0.02]
        for (x, y) in zip(adjusted, expected) { #expect(abs(x - y) < 1e-12) }
        #expect(Statistics.holm([0.5, 0.6]) == [1, 1])
        #expect(Statistics.holm([]) == [])
    }

    @Test func wilsonIntervalByHand() {
        // 30/30: low = n/(n + z²) = 30/33.8415 = 0.88649.
        let w = Statistics.wilson(successes: 30, n: 30)
        #expect(abs(w.low - 30 / (30 + 1.959963984540054 * 1.959963984540054)) < 1e-12 && abs(w.high - 1) < 1e-12)
        // 5/10: centre ½, half-width z·sqrt(0.025 + z²/400)/(1 + z²/10) = 0.2634.
        let h = Statistics.wilson(successes: 5, n: 10)
        let z = 1.959963984540054
        let half = z * (0.025 + z * z / 400).squareRoot() / (1 + z * z / 10)
        #expect(abs(h.low - (0.5 - half)) < 1e-12 && abs(h.high - (0.5 + half)) < 1e-12)
        #expect(abs(half - 0.26341) < 1e-5)
    }

    @Test func tIntervalOfThreeValues() {
        // 1, 2, 3: mean 2, sd 1, half-width t(2) / √3 = 4.3027 / 1.7321 = 2.4841.
        let m = Statistics.meanInterval([1, 2, 3])
        #expect(m.mean == 2 && abs(m.sd - 1) < 1e-12 && m.n == 3)
        #expect(abs(m.low - (2 - 4.3027 / 3.0.squareRoot())) < 1e-9 && abs(m.high - (2 + 4.3027 / 3.0.squareRoot())) < 1e-9)
        let one = Statistics.meanInterval([0.4])
        #expect(one.low == 0.4 && one.high == 0.4 && one.n == 1)
        // Beyond the table the expansion continues it: t(31) lies between t(30) = 2.0423 and z = 1.96 (2.0395).
        let t31 = Statistics.tQuantile975(degreesOfFreedom: 31)
        #expect(abs(t31 - 2.0395) < 2e-4)
        #expect(abs(Statistics.tQuantile975(degreesOfFreedom: 120) - 1.9799) < 2e-4)
    }

    @Test func kFoldKeepsClassSharesAndCoversEveryItemOnce() {
        let labels = [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]
        let k = StratifiedKFold(labels: labels, folds: 2, seed: 7)
        #expect(k.folds.count == 2)
        #expect(k.folds.joined().sorted() == Array(0..<12))
        for f in k.folds { for c in 0..<3 { #expect(f.filter { labels[$0] == c }.count == 2) } }
        #expect(Set(k.train(fold: 0)) == Set(k.folds[1]))
        // The same seed gives the same folds; another seed another assignment of the same shape.
        #expect(k == StratifiedKFold(labels: labels, folds: 2, seed: 7))
    }

    @Test func kFoldKeepsGroupsWhole() {
        // Items 0,1 form a group, 2,3 another, 4,5 another, 6,7 another (one class): two folds of two groups.
        let labels = [Int](repeating: 0, count: 8)
        let groups = [10, 10, 11, 11, 12, 12, 13, 13]
        for seed in UInt64(0)..<20 {
            let k = StratifiedKFold(labels: labels, groups: groups, folds: 2, seed: seed)
            #expect(k.folds.map(\.count) == [4, 4])
            for f in k.folds { for i in f { #expect(f.contains(i ^ 1)) } }
        }
    }
}
