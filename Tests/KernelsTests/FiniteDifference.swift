// Central finite differences in Double for checking backward functions.

/// ∂f/∂x_i ≈ (f(x + h e_i) − f(x − h e_i)) / 2h for every i; f evaluated in Float, differences taken in Double.
func numericalGradient(_ x: [Float], step h: Float = 1e-2, _ f: ([Float]) -> Double) -> [Double] {
    var g = [Double](repeating: 0, count: x.count)
    var xp = x
    for i in 0..<x.count {
        let orig = xp[i]
        xp[i] = orig + h
        let fp = f(xp)
        xp[i] = orig - h
        let fm = f(xp)
        xp[i] = orig
        g[i] = (fp - fm) / (2 * Double(h))
    }
    return g
}

/// max |a − b| / max(1e-3, max |b|): one number that catches a wrong sign or a missing term.
func relativeError(_ a: [Double], _ b: [Double]) -> Double {
    precondition(a.count == b.count)
    var maxDiff = 0.0, scale = 1e-3
    for i in 0..<a.count {
        maxDiff = max(maxDiff, abs(a[i] - b[i]))
        scale = max(scale, abs(b[i]))
    }
    return maxDiff / scale
}

/// A seeded generator so that test inputs are the same on every run and platform.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func randomValues(_ n: Int, seed: UInt64, range: ClosedRange<Float> = -1...1) -> [Float] {
    var g = SplitMix64(seed: seed)
    return (0..<n).map { _ in Float.random(in: range, using: &g) }
}

/// Σ c_i · y_i in Double: a scalar loss whose gradient with respect to y is c.
func weightedSum(_ y: [Float], _ c: [Float]) -> Double {
    zip(y, c).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
}
