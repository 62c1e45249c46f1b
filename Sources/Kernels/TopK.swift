// The k largest entries of a matrix row, and the arg-max, without sorting the whole row.

public enum TopK {
    /// (index, value) pairs, largest first; ties keep the lower index first, as a stable sort would.
    public static func row(_ m: Matrix, _ r: Int, k: Int) -> [(index: Int, value: Float)] {
        precondition(r >= 0 && r < m.rows, "TopK: row out of range")
        let k = min(k, m.cols)
        guard k > 0 else { return [] }
        var best: [(index: Int, value: Float)] = []
        best.reserveCapacity(k + 1)
        m.values.withUnsafeBufferPointer { p in
            let row = p.baseAddress! + r * m.cols
            for j in 0..<m.cols {
                let v = row[j]
                if best.count == k, let last = best.last, !(v > last.value) { continue }
                var pos = best.count
                while pos > 0 && v > best[pos - 1].value { pos -= 1 }
                best.insert((j, v), at: pos)
                if best.count > k { best.removeLast() }
            }
        }
        return best
    }

    /// The index of the largest entry of a row (the first on ties).
    public static func argmax(_ m: Matrix, _ r: Int) -> Int {
        var best = 0
        m.values.withUnsafeBufferPointer { p in
            let row = p.baseAddress! + r * m.cols
            var bestValue = -Float.infinity
            for j in 0..<m.cols where row[j] > bestValue { bestValue = row[j]; best = j }
        }
        return best
    }
}
