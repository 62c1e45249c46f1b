// Numerically stable softmax, log-softmax and log-sum-exp over a row, in Float with a Double sum
// where the row is long (a 49152-entry vocabulary row loses digits in a Float sum).
import Foundation

public enum Softmax {
    /// In-place softmax of `count` values.
    public static func forward(_ x: UnsafeMutablePointer<Float>, count: Int) {
        guard count > 0 else { return }
        var m = -Float.infinity
        for i in 0..<count where x[i] > m { m = x[i] }
        if m == -.infinity { // every entry masked: define the result as all zero rather than NaN
            x.update(repeating: 0, count: count)
            return
        }
        var s: Double = 0
        for i in 0..<count {
            let e = exp(x[i] - m)
            x[i] = e
            s += Double(e)
        }
        let inv = Float(1 / s)
        for i in 0..<count { x[i] *= inv }
    }

    /// log Σ exp(x).
    public static func logSumExp(_ x: UnsafePointer<Float>, count: Int) -> Double {
        var m = -Float.infinity
        for i in 0..<count where x[i] > m { m = x[i] }
        if m == -.infinity { return -.infinity }
        var s: Double = 0
        for i in 0..<count { s += Double(exp(x[i] - m)) }
        return Double(m) + log(s)
    }

    /// Array conveniences for callers above Kernels.
    public static func probabilities(_ logits: [Float]) -> [Float] {
        var p = logits
        p.withUnsafeMutableBufferPointer { forward($0.baseAddress!, count: $0.count) }
        return p
    }

    public static func logSumExp(_ logits: [Float]) -> Double {
        logits.withUnsafeBufferPointer { logSumExp($0.baseAddress!, count: $0.count) }
    }
}

extension Softmax {
    /// Softmax of every row of m in place, rows split over the cores.
    public static func rows(_ m: inout Matrix) {
        let cols = m.cols
        m.values.withUnsafeMutableBufferPointer { p in
            let base = p.baseAddress!
            Parallel.forEachChunk(m.rows, minimumPerChunk: 4) { range in
                for r in range { forward(base + r * cols, count: cols) }
            }
        }
    }

    /// log-softmax of every row of m in place.
    public static func logRows(_ m: inout Matrix) {
        let cols = m.cols
        m.values.withUnsafeMutableBufferPointer { p in
            let base = p.baseAddress!
            Parallel.forEachChunk(m.rows, minimumPerChunk: 4) { range in
                for r in range {
                    let row = base + r * cols
                    let lse = Float(logSumExp(row, count: cols))
                    for j in 0..<cols { row[j] -= lse }
                }
            }
        }
    }
}
