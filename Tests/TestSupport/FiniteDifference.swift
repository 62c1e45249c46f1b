// Central finite differences and the comparison every gradient test uses, plus seeded inputs:
// one copy for every test target (they had two).
import Foundation
import Kernels

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

/// The library's seeded SplitMix64, under the name the tests know it by: test inputs are the same on every run and platform.
public typealias SplitMix64 = SeededRandom

public func randomValues(_ n: Int, seed: UInt64, range: ClosedRange<Float> = -1...1) -> [Float] {
    var g = SplitMix64(seed: seed)
    return (0..<n).map { _ in Float.random(in: range, using: &g) }
}

/// Σ c_i · y_i in Double: a scalar loss whose gradient with respect to y is c.
public func weightedSum(_ y: [Float], _ c: [Float]) -> Double {
    zip(y, c).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
}
