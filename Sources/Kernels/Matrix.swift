// Matrix: a dense row-major Float32 matrix, the one tensor type the layers above pass around.
// It is a plain value (Array storage, copy-on-write); kernels reach its memory through pointers.

public struct Matrix: Sendable, Equatable {
    public var rows: Int
    public var cols: Int
    public var values: [Float]

    /// A zero-filled `rows × cols` matrix.
    public init(rows: Int, cols: Int) {
        precondition(rows >= 0 && cols >= 0, "Matrix dimensions must be non-negative")
        self.rows = rows
        self.cols = cols
        self.values = [Float](repeating: 0, count: rows * cols)
    }

    public init(rows: Int, cols: Int, values: [Float]) {
        precondition(values.count == rows * cols, "Matrix(\(rows)×\(cols)) needs \(rows * cols) values, got \(values.count)")
        self.rows = rows
        self.cols = cols
        self.values = values
    }

    public var count: Int { rows * cols }

    public subscript(row: Int, col: Int) -> Float {
        get { values[row * cols + col] }
        set { values[row * cols + col] = newValue }
    }

    /// One row as a fresh array (for tests and reporting, not for hot loops).
    public func row(_ r: Int) -> [Float] { Array(values[(r * cols)..<((r + 1) * cols)]) }

    /// Sets every element to zero without reallocating.
    public mutating func zero() {
        values.withUnsafeMutableBufferPointer { p in
            if let base = p.baseAddress { base.update(repeating: 0, count: p.count) }
        }
    }

    /// Changes the row count, keeping the storage when it is large enough (buffers are reused across steps).
    public mutating func resize(rows newRows: Int) {
        rows = newRows
        let needed = newRows * cols
        if values.count < needed { values.append(contentsOf: repeatElement(0, count: needed - values.count)) }
        else if values.count > needed { values.removeLast(values.count - needed) }
    }
}
