// Numerically stable softmax, log-softmax and log-sum-exp over a row: e^x eight lanes at a time
// (VectorExp), Float partial sums over short blocks added in Double (a 49152-entry vocabulary row
// loses digits in one Float sum). A scalar reference sits beside it for the tests.
import Foundation

public enum Softmax {
    /// In-place softmax of `count` values: one pass for the maximum, one that writes e^(x−m) and sums it,
    /// one that scales. Returns log Σ exp(x) of the input, so a loss needs no second pass.
    /// With `factor`, writes factor · softmax(x) in the same pass (a mean loss's gradient needs no extra pass).
    @discardableResult
    public static func forward(_ x: UnsafeMutablePointer<Float>, count: Int, scaledBy factor: Double = 1) -> Double {
        guard count > 0 else { return -.infinity }
        let m = maximum(x, count: count)
        if m == -.infinity { // every entry masked: define the result as all zero rather than NaN
            x.update(repeating: 0, count: count)
            return -.infinity
        }
        let s = sumOfExponentials(x, count: count, shift: m, store: x)
        scale(x, count: count, by: Float(factor / s))
        return Double(m) + log(s)
    }

    /// log Σ exp(x), reading x without writing it.
    public static func logSumExp(_ x: UnsafePointer<Float>, count: Int) -> Double {
        let m = maximum(x, count: count)
        if m == -.infinity { return -.infinity }
        return Double(m) + log(sumOfExponentials(x, count: count, shift: m, store: nil))
    }

    /// The largest of `count` values (−∞ for none); NaN entries are skipped as the scalar loop skipped them.
    @inline(__always)
    static func maximum(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var lanes = SIMD8<Float>(repeating: -.infinity)
        var i = 0
        while i + 8 <= count {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
            lanes = lanes.replacing(with: v, where: v .> lanes)
            i += 8
        }
        var m = lanes.max()
        while i < count { if x[i] > m { m = x[i] }; i += 1 }
        return m
    }

    /// Σ e^(x−shift) in a fixed order (so results repeat exactly): eight Float lanes over blocks of 512
    /// entries, each block's total added in Double. Writes e^(x−shift) to `store` when given.
    @inline(__always)
    static func sumOfExponentials(_ x: UnsafePointer<Float>, count: Int, shift: Float, store: UnsafeMutablePointer<Float>?) -> Double {
        let m = SIMD8<Float>(repeating: shift)
        var total: Double = 0
        var i = 0
        while i + 8 <= count {
            let blockEnd = min(count, i + 512)
            var lanes = SIMD8<Float>(repeating: 0)
            while i + 8 <= blockEnd {
                let e = VectorExp.exp(UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self) - m)
                if let store { UnsafeMutableRawPointer(store + i).storeBytes(of: e, as: SIMD8<Float>.self) }
                lanes += e
                i += 8
            }
            total += Double(lanes.sum())
        }
        while i < count {
            let e = VectorExp.exp(x[i] - shift)
            store?[i] = e
            total += Double(e)
            i += 1
        }
        return total
    }

    @inline(__always)
    static func scale(_ x: UnsafeMutablePointer<Float>, count: Int, by factor: Float) {
        var i = 0
        while i + 8 <= count {
            let raw = UnsafeMutableRawPointer(x + i)
            raw.storeBytes(of: raw.loadUnaligned(as: SIMD8<Float>.self) * factor, as: SIMD8<Float>.self)
            i += 8
        }
        while i < count { x[i] *= factor; i += 1 }
    }

    /// The reference the fast path is tested against: scalar Foundation exp, a Double sum.
    public static func referenceForward(_ x: [Float]) -> [Float] {
        guard let m = x.max(), m > -.infinity else { return x.map { _ in 0 } }
        let e = x.map { Foundation.exp($0 - m) }
        let s = e.reduce(0.0) { $0 + Double($1) }
        return e.map { Float(Double($0) / s) }
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
    /// Rows per parallel chunk so that a chunk holds at least ~16k entries: a 3-class probe's rows stay on
    /// one core (dispatch would cost more than the work), vocabulary rows split one by one.
    static func rowsPerChunk(cols: Int) -> Int { max(1, 16_384 / max(1, cols)) }

    /// f(r) for every row r, rows split over the cores, results collected in row order.
    static func eachRow(_ rows: Int, cols: Int, _ f: (Int) -> Double) -> [Double] {
        var out = [Double](repeating: 0, count: rows)
        out.withUnsafeMutableBufferPointer { o in
            let results = o.baseAddress!
            Parallel.forEachChunk(rows, minimumPerChunk: rowsPerChunk(cols: cols)) { range in
                for r in range { results[r] = f(r) }
            }
        }
        return out
    }

    /// Softmax of every row of m in place, rows split over the cores; returns each row's log-sum-exp.
    /// With `factor`, every row becomes factor · softmax(row).
    @discardableResult
    public static func rows(_ m: inout Matrix, scaledBy factor: Double = 1) -> [Double] {
        let (rows, cols) = (m.rows, m.cols)
        return m.values.withUnsafeMutableBufferPointer { p in
            let base = p.baseAddress!
            return eachRow(rows, cols: cols) { forward(base + $0 * cols, count: cols, scaledBy: factor) }
        }
    }

    /// log Σ exp of every row of m, without changing m.
    public static func logSumExpRows(_ m: Matrix) -> [Double] {
        m.values.withUnsafeBufferPointer { p in
            let base = p.baseAddress!
            return eachRow(m.rows, cols: m.cols) { logSumExp(base + $0 * m.cols, count: m.cols) }
        }
    }

    /// log-softmax of every row of m in place.
    public static func logRows(_ m: inout Matrix) {
        let cols = m.cols
        m.values.withUnsafeMutableBufferPointer { p in
            let base = p.baseAddress!
            Parallel.forEachChunk(m.rows, minimumPerChunk: rowsPerChunk(cols: cols)) { range in
                for r in range {
                    let row = base + r * cols
                    let lse = Float(logSumExp(row, count: cols))
                    for j in 0..<cols { row[j] -= lse }
                }
            }
        }
    }
}
