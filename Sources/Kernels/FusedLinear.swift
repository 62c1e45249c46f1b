// FusedLinear: decode-sized products (at most `maximumRows` activation rows) of one input with one, two or
// three weights — q/k/v, gate/up — in one hand-off to the row pool (CQuantKernels/row_pool.c), Float32 and
// quantised weights alike. A token of decode is ~200 such products; one thread-pool dispatch each cost more
// than their arithmetic. Not for training: nothing here is saved for a backward.
import CQuantKernels

public enum FusedLinear {
    /// The most activation rows these products take (the fused quantised kernels' batch).
    public static var maximumRows: Int { Int(LQ_MAX_BATCH) }

    /// y0 = x · W0ᵀ, y0 already shaped [x.rows, w0.rows].
    public static func apply(_ x: Matrix, _ w0: LinearWeight, into y0: inout Matrix, path: KernelPath = .current,
                             workers: Int? = nil) {
        check(x, w0, y0)
        y0.values.withUnsafeMutableBufferPointer { p0 in
            run(x, [w0], [p0.baseAddress!], path: path, workers: workers)
        }
    }

    /// y_i = x · W_iᵀ for two weights sharing the input (gate and up).
    public static func apply(_ x: Matrix, _ w0: LinearWeight, _ w1: LinearWeight, into y0: inout Matrix, _ y1: inout Matrix,
                             path: KernelPath = .current, workers: Int? = nil) {
        check(x, w0, y0)
        check(x, w1, y1)
        y0.values.withUnsafeMutableBufferPointer { p0 in
            y1.values.withUnsafeMutableBufferPointer { p1 in
                run(x, [w0, w1], [p0.baseAddress!, p1.baseAddress!], path: path, workers: workers)
            }
        }
    }

    /// y_i = x · W_iᵀ for three weights sharing the input (query, key and value).
    public static func apply(_ x: Matrix, _ w0: LinearWeight, _ w1: LinearWeight, _ w2: LinearWeight,
                             into y0: inout Matrix, _ y1: inout Matrix, _ y2: inout Matrix,
                             path: KernelPath = .current, workers: Int? = nil) {
        check(x, w0, y0)
        check(x, w1, y1)
        check(x, w2, y2)
        y0.values.withUnsafeMutableBufferPointer { p0 in
            y1.values.withUnsafeMutableBufferPointer { p1 in
                y2.values.withUnsafeMutableBufferPointer { p2 in
                    run(x, [w0, w1, w2], [p0.baseAddress!, p1.baseAddress!, p2.baseAddress!], path: path, workers: workers)
                }
            }
        }
    }

    private static func check(_ x: Matrix, _ w: LinearWeight, _ y: Matrix) {
        precondition(x.rows <= maximumRows, "FusedLinear: \(x.rows) activation rows, at most \(maximumRows)")
        precondition(x.cols == w.cols && y.rows == x.rows && y.cols == w.rows,
                     "FusedLinear: x \(x.rows)×\(x.cols), W \(w.rows)×\(w.cols), y \(y.rows)×\(y.cols)")
    }

    private static func run(_ x: Matrix, _ weights: [LinearWeight], _ outputs: [UnsafeMutablePointer<Float>],
                            path: KernelPath, workers: Int?) {
        guard x.rows > 0 else { return }
        let k = x.cols, m = x.rows
        let quantised = weights.contains { if case .quantized = $0 { return true } else { return false } }
        let scratchBytes = quantised ? lq_activation_bytes(path.rawValue, Int32(k), Int32(m)) : 0
        var scratch = [UInt8](repeating: 0, count: scratchBytes)
        let workerCount = workers ?? Parallel.workerCount
        x.values.withUnsafeBufferPointer { xp in
            scratch.withUnsafeMutableBytes { sp in
                if scratchBytes > 0 { lq_prepare_activations(path.rawValue, xp.baseAddress!, Int32(k), Int32(m), sp.baseAddress) }
                withWeightPointers(weights[...], []) { pointers in
                    var parts = [lq_linear_part]()
                    parts.reserveCapacity(weights.count)
                    for (i, w) in weights.enumerated() {
                        switch w {
                        case let .dense(d):
                            parts.append(lq_linear_part(type: LQ_TYPE_F32, w: pointers[i], row_bytes: 4 * k, rows: Int32(d.rows),
                                                        y: outputs[i], ldy: Int32(d.rows)))
                        case let .quantized(q):
                            parts.append(lq_linear_part(type: q.type.rawValue, w: pointers[i], row_bytes: q.rowBytes, rows: Int32(q.rows),
                                                        y: outputs[i], ldy: Int32(q.rows)))
                        }
                    }
                    let ok = lq_linear_parallel(path.rawValue, parts, Int32(parts.count), Int32(k), xp.baseAddress!, Int32(m),
                                                scratchBytes > 0 ? UnsafeRawPointer(sp.baseAddress) : nil, Int32(workerCount))
                    precondition(ok != 0, "lq_linear_parallel refused: path \(path) on this CPU, or a shape the initializers checked")
                }
            }
        }
    }

    /// Pins every weight's memory for the call (a Float32 matrix's array, or the blocks' memory map).
    private static func withWeightPointers(_ weights: ArraySlice<LinearWeight>, _ pinned: [UnsafeRawPointer],
                                           _ body: ([UnsafeRawPointer]) -> Void) {
        guard let first = weights.first else { return body(pinned) }
        switch first {
        case let .dense(m):
            m.values.withUnsafeBytes { withWeightPointers(weights.dropFirst(), pinned + [$0.baseAddress!], body) }
        case let .quantized(q):
            q.withBlocks { withWeightPointers(weights.dropFirst(), pinned + [$0], body) }
        }
    }
}
