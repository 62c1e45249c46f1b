// The mutual information between two discrete labellings of the same items (an expert choice and a task label),
// in bits: the plug-in estimate, its Miller–Madow bias correction, and a shuffled-label baseline (permutations of
// one labelling) with a permutation p-value, so a reader can tell a few hundred items' estimate from zero.
// Not a continuous estimator, and not tied to routing: the flagship's routing probe is its caller.
import Foundation
import Kernels

public struct MutualInformationEstimate: Codable, Sendable, Equatable {
    /// Plug-in I(X; Y) from the empirical joint distribution: never negative, biased upwards on few items.
    public var bits: Double
    /// Miller–Madow: each entropy corrected by (K − 1) / (2N ln 2) with K its occupied cells; may fall below 0.
    public var correctedBits: Double
    /// The plug-in estimate with Y permuted: mean and 95th percentile over the permutations.
    public var shuffledMeanBits: Double
    public var shuffledP95Bits: Double
    /// (1 + permutations whose plug-in estimate reaches `bits`) / (1 + permutations).
    public var pValue: Double
    public var permutations: Int
    public var n: Int
    /// Distinct values of X that occur.
    public var categories: Int

    enum CodingKeys: String, CodingKey {
        case bits, correctedBits = "corrected_bits", shuffledMeanBits = "shuffled_mean_bits", shuffledP95Bits = "shuffled_p95_bits"
        case pValue = "p_value", permutations, n, categories
    }
}

public enum MutualInformation {
    /// Occupied-cell counts and the plug-in I(X; Y) in bits; x and y are non-negative codes of equal length.
    static func plugIn(_ x: [Int], _ y: [Int]) -> (bits: Double, kx: Int, ky: Int, kxy: Int) {
        precondition(x.count == y.count && !x.isEmpty, "mutual information: \(x.count) and \(y.count) items")
        let nx = (x.max() ?? 0) + 1, ny = (y.max() ?? 0) + 1
        var joint = [Int](repeating: 0, count: nx * ny), px = [Int](repeating: 0, count: nx), py = [Int](repeating: 0, count: ny)
        for (a, b) in zip(x, y) {
            joint[a * ny + b] += 1
            px[a] += 1
            py[b] += 1
        }
        let n = Double(x.count)
        var nats = 0.0
        for a in 0..<nx where px[a] > 0 {
            for b in 0..<ny where joint[a * ny + b] > 0 {
                let c = Double(joint[a * ny + b])
                nats += c / n * log(c * n / (Double(px[a]) * Double(py[b])))
            }
        }
        return (max(0, nats / log(2)), px.filter { $0 > 0 }.count, py.filter { $0 > 0 }.count, joint.filter { $0 > 0 }.count)
    }

    public static func plugInBits(_ x: [Int], _ y: [Int]) -> Double { plugIn(x, y).bits }

    /// I = H(X) + H(Y) − H(X, Y), each entropy Miller–Madow corrected.
    public static func millerMadowBits(_ x: [Int], _ y: [Int]) -> Double {
        let p = plugIn(x, y)
        return p.bits + Double((p.kx - 1) + (p.ky - 1) - (p.kxy - 1)) / (2 * Double(x.count) * log(2))
    }

    public static func estimate(_ x: [Int], _ y: [Int], permutations: Int = 1000, seed: UInt64) -> MutualInformationEstimate {
        let observed = plugIn(x, y)
        var rng = SeededRandom(seed: seed)
        var shuffled = y
        var null: [Double] = []
        null.reserveCapacity(permutations)
        for _ in 0..<permutations {
            rng.shuffle(&shuffled)
            null.append(plugIn(x, shuffled).bits)
        }
        null.sort()
        // A tolerance for ties: a permutation that reproduces the observed table must count as reaching it.
        let reaching = null.filter { $0 >= observed.bits - 1e-12 }.count
        let p95 = null.isEmpty ? .nan : null[min(null.count - 1, Int((0.95 * Double(null.count)).rounded(.up)) - 1)]
        return MutualInformationEstimate(bits: observed.bits, correctedBits: millerMadowBits(x, y),
                                         shuffledMeanBits: null.isEmpty ? .nan : null.reduce(0, +) / Double(null.count),
                                         shuffledP95Bits: p95, pValue: Double(1 + reaching) / Double(1 + permutations),
                                         permutations: permutations, n: x.count, categories: observed.kx)
    }
}
