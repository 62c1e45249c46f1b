// Central finite differences for the training tests: the loss is evaluated in Float, differences in Double.

/// ∂f/∂x_i ≈ (f(x + h e_i) − f(x − h e_i)) / 2h for the indices asked for.
func numericalGradient(_ x: [Float], at indices: [Int], step h: Float, _ f: ([Float]) throws -> Double) rethrows -> [Double] {
    var xp = x
    return try indices.map { i in
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
func relativeError(_ a: [Double], _ b: [Double], floor: Double = 1e-3) -> Double {
    precondition(a.count == b.count)
    var maxDiff = 0.0, scale = floor
    for i in 0..<a.count {
        maxDiff = max(maxDiff, abs(a[i] - b[i]))
        scale = max(scale, abs(b[i]))
    }
    return maxDiff / scale
}
