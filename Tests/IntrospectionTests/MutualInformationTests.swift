// The mutual information estimates against values worked by hand: a table of known MI, perfect dependence,
// exact independence, the Miller–Madow term, and the permutation baseline telling dependence from none.
import Foundation
import Introspection
import Kernels
import Testing

@Suite struct MutualInformationTests {
    /// Counts [[4, 1], [1, 4]] of N = 10: I = 1 − H(0.2) bits = 1 + 0.2 log2 0.2 + 0.8 log2 0.8.
    @Test func aTwoByTwoTable() {
        let x = [0, 0, 0, 0, 0, 1, 1, 1, 1, 1], y = [0, 0, 0, 0, 1, 1, 1, 1, 1, 0]
        let expected = 1 + 0.2 * log2(0.2) + 0.8 * log2(0.8)
        #expect(abs(MutualInformation.plugInBits(x, y) - expected) < 1e-12)
        // Miller–Madow: + ((Kx − 1) + (Ky − 1) − (Kxy − 1)) / (2N ln 2) = −1 / (20 ln 2).
        #expect(abs(MutualInformation.millerMadowBits(x, y) - (expected - 1 / (20 * log(2.0)))) < 1e-12)
    }

    @Test func perfectDependenceAndIndependence() {
        let labels = (0..<90).map { $0 % 3 }
        #expect(abs(MutualInformation.plugInBits(labels.map { $0 + 5 }, labels) - log2(3)) < 1e-12)
        // Every (x, y) pair equally often: exactly independent.
        let x = (0..<72).map { $0 % 4 }, y = (0..<72).map { ($0 / 4) % 3 }
        #expect(MutualInformation.plugInBits(x, y) < 1e-12)
    }

    @Test func thePermutationBaselineTellsDependenceFromNone() {
        var rng = SeededRandom(seed: 3)
        let labels = (0..<300).map { $0 % 3 }
        // An expert that follows the label 60% of the time, else one of four at random.
        let dependent = labels.map { rng.unitDouble() < 0.6 ? $0 : Int(rng.next() % 4) }
        let independent = labels.map { _ in Int(rng.next() % 4) }
        let d = MutualInformation.estimate(dependent, labels, permutations: 500, seed: 1)
        let i = MutualInformation.estimate(independent, labels, permutations: 500, seed: 1)
        #expect(d.bits > d.shuffledP95Bits && d.pValue < 0.01)
        #expect(i.pValue > 0.01 && i.bits < d.bits)
        // The plug-in bias under independence is about (Kx − 1)(Ky − 1) / (2N ln 2) = 6 / (600 ln 2) ≈ 0.0144 bits.
        #expect(abs(i.shuffledMeanBits - 6 / (600 * log(2.0))) < 0.005)
        #expect(d.n == 300 && d.categories == 4 && d.permutations == 500)
    }
}
