// Central finite differences and the comparison every gradient test uses, plus seeded inputs:
// one copy for every test target (they had two).
import Foundation

/// ∂f/∂x_i ≈ (f(x + h e_i) − f(x − h e_i)) / 2h for the indices asked for (all when nil);
/// f evaluated in Float, differences taken in Double.
public func numericalGradient(_ x: [Float], at indices: [Int]? = nil, step h: Float = 1e-2,
                              _ f: ([Float]) throws -> Double) rethrows -> [Double] {
    var xp = x
    return try (indices ?? Array(x.indices)).map { i in
        let orig = xp[i]
        xp[i] = orig + h
        let fp = try f(xp)
        xp[i] = orig - h
        let fm = try f(xp)
        xp[i] = orig
        return (fp - fm) / (2 * Double(h))
    }
}

/// max |a − b| / max(floor, max |b|): one number that catches a wrong sign or a missing term.
public func relativeError(_ a: [Double], _ b: [Double], floor: Double = 1e-3) -> Double {
    precondition(a.count == b.count)
    var maxDiff = 0.0, scale = floor
    for i in 0..<a.count {
        maxDiff = max(maxDiff, abs(a[i] - b[i]))
        scale = max(scale, abs(b[i]))
    }
    return maxDiff / scale
}

/// A seeded generator so that test inputs are the same on every run and platform.
public struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

public func randomValues(_ n: Int, seed: UInt64, range: ClosedRange<Float> = -1...1) -> [Float] {
    var g = SplitMix64(seed: seed)
    return (0..<n).map { _ in Float.random(in: range, using: &g) }
}

/// Σ c_i · y_i in Double: a scalar loss whose gradient with respect to y is c.
public func weightedSum(_ y: [Float], _ c: [Float]) -> Double {
    zip(y, c).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
}
