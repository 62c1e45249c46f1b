// QuantizedMatrix: a [rows, cols] weight matrix kept as the ggml blocks the model file stores (Q8_0, Q4_0,
// Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K, MXFP4), read in place from the file's memory map, and its product with activations:
// fused dequantise-and-dot for up to 8 rows (Sources/CQuantKernels), dequantised tiles through sgemm beyond.
// Not a quantiser: it never writes blocks; every size is checked against the shape before any use.
import COpenBLAS
import CQuantKernels
import Foundation

public struct QuantizedMatrix: Sendable {
    /// The block types with kernels, numbered as ggml numbers them.
    public enum BlockType: Int32, Sendable, CaseIterable, CustomStringConvertible {
        case q4_0 = 2, q4_1 = 3, q5_0 = 6, q5_1 = 7, q8_0 = 8, q4_K = 12, q5_K = 13, q6_K = 14
        /// GPT-OSS's experts (CQuantKernels/mxfp4_kernels.c).
        case mxfp4 = 39

        /// ggml's type id (GGMLType.rawValue).
        public init?(ggmlType: UInt32) { self.init(rawValue: Int32(bitPattern: ggmlType)) }
        public var valuesPerBlock: Int { Int(lq_block_values(rawValue)) }
        public var bytesPerBlock: Int { Int(lq_block_bytes(rawValue)) }
        public var description: String {
            switch self {
            case .q4_0: return "Q4_0"
            case .q4_1: return "Q4_1"
            case .q5_0: return "Q5_0"
            case .q5_1: return "Q5_1"
            case .q8_0: return "Q8_0"
            case .q4_K: return "Q4_K"
            case .q5_K: return "Q5_K"
            case .q6_K: return "Q6_K"
            case .mxfp4: return "MXFP4"
            }
        }
    }

    /// Why blocks do not fit a shape (the loader adds the file and the tensor name).
    public struct ShapeError: Error, CustomStringConvertible, Equatable {
        public var reason: String
        public var description: String { reason }
    }

    public let type: BlockType
    public let rows: Int
    public let cols: Int
    /// Bytes of one row: cols / valuesPerBlock blocks.
    public let rowBytes: Int
    /// The bytes live in `storage` at `byteOffset` (the file's memory map, shared, not copied).
    let storage: Data
    let byteOffset: Int

    /// Takes `byteCount` bytes at `offset` of `data` as rows × cols values of `type`, after checking that the
    /// blocks tile the shape exactly and that the bytes lie inside `data`.
    public init(type: BlockType, rows: Int, cols: Int, data: Data, offset: Int, byteCount: Int) throws {
        guard rows > 0, cols > 0 else { throw ShapeError(reason: "shape [\(rows), \(cols)] is empty") }
        guard cols % type.valuesPerBlock == 0 else {
            throw ShapeError(reason: "rows of \(cols) values are not whole \(type) blocks of \(type.valuesPerBlock)")
        }
        // The kernels index with Int32 widths; no real model is near this.
        guard cols <= Int(Int32.max) / 4, rows <= Int(Int32.max) else {
            throw ShapeError(reason: "shape [\(rows), \(cols)] is beyond what the kernels index")
        }
        let perRow = (cols / type.valuesPerBlock).multipliedReportingOverflow(by: type.bytesPerBlock)
        let total = perRow.partialValue.multipliedReportingOverflow(by: rows)
        guard !perRow.overflow, !total.overflow, total.partialValue == byteCount else {
            throw ShapeError(reason: "\(byteCount) bytes for [\(rows), \(cols)] \(type) values, which need \(total.overflow ? "more than Int.max" : String(total.partialValue))")
        }
        guard offset >= 0, byteCount <= data.count, offset <= data.count - byteCount else {
            throw ShapeError(reason: "bytes \(offset)..<\(offset + byteCount) lie outside the \(data.count) bytes given")
        }
        self.type = type
        self.rows = rows
        self.cols = cols
        self.rowBytes = perRow.partialValue
        self.storage = data
        self.byteOffset = offset
    }

    /// Bytes the blocks take.
    public var byteCount: Int { rows * rowBytes }

    /// A matrix of the same blocks with its rows reordered: row i of the result is row `order[i]` of this one
    /// (a copy of the bytes; used to undo llama.cpp's Q/K row permutation, which moves whole rows).
    public func reorderingRows(_ order: [Int]) -> QuantizedMatrix {
        precondition(order.count == rows && order.allSatisfy { $0 >= 0 && $0 < rows }, "reorderingRows: not a row order")
        var bytes = Data(count: byteCount)
        withBlocks { src in
            bytes.withUnsafeMutableBytes { dst in
                for (i, from) in order.enumerated() {
                    dst.baseAddress!.advanced(by: i * rowBytes).copyMemory(from: src + from * rowBytes, byteCount: rowBytes)
                }
            }
        }
        // Checked above: the same shape and type over a buffer of exactly its size.
        return try! QuantizedMatrix(type: type, rows: rows, cols: cols, data: bytes, offset: 0, byteCount: byteCount)
    }

    func withBlocks<R>(_ body: (UnsafeRawPointer) -> R) -> R {
        storage.withUnsafeBytes { raw in body(raw.baseAddress!.advanced(by: byteOffset)) }
    }

    /// Rows `range` decoded to Float32, exactly as ModelFiles' Dequantize decodes them: [range.count, cols].
    public func dequantizedRows(_ range: Range<Int>) -> [Float] {
        precondition(range.lowerBound >= 0 && range.upperBound <= rows, "dequantizedRows: \(range) outside \(rows) rows")
        return [Float](unsafeUninitializedCapacity: range.count * cols) { out, initialized in
            decode(range, into: out.baseAddress!)
            initialized = range.count * cols
        }
    }

    /// The whole matrix as Float32 (for training on a natively loaded model, and for tests).
    public func dequantized() -> Matrix {
        var m = Matrix(rows: rows, cols: cols)
        m.values.withUnsafeMutableBufferPointer { out in
            Parallel.forEachChunk(rows, minimumPerChunk: max(1, Parallel.minimumElementsPerChunk / cols)) { range in
                decode(range, into: out.baseAddress! + range.lowerBound * cols)
            }
        }
        return m
    }

    /// Decodes one row into `out[0..<cols]` (an embedding lookup).
    public func decodeRow(_ row: Int, into out: UnsafeMutablePointer<Float>) {
        precondition(row >= 0 && row < rows, "decodeRow: row \(row) of \(rows)")
        decode(row..<(row + 1), into: out)
    }

    private func decode(_ range: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        let ok = withBlocks { w in
            lq_dequantize_rows(type.rawValue, w, rowBytes, Int32(cols), Int32(range.lowerBound), Int32(range.upperBound), out)
        }
        precondition(ok != 0, "lq_dequantize_rows refused a shape the initializer checked")
    }

    // MARK: Products

    /// y = x · Wᵀ: x [M, cols] → y [M, rows], with the current kernel path.
    public func linear(_ x: Matrix, into y: inout Matrix) { linear(x, into: &y, path: KernelPath.current) }

    /// As `linear`, on a chosen path (tests compare the paths).
    public func linear(_ x: Matrix, into y: inout Matrix, path: KernelPath) {
        precondition(x.cols == cols && y.rows == x.rows && y.cols == rows,
                     "QuantizedMatrix.linear: x \(x.rows)×\(x.cols), W \(rows)×\(cols), y \(y.rows)×\(y.cols)")
        guard x.rows > 0 else { return }
        if x.rows <= Int(LQ_MAX_BATCH) {
            fused(x, into: &y, path: path)
        } else {
            tiled(x, into: &y, path: path)
        }
    }

    /// Up to LQ_MAX_BATCH activation rows: each weight block decoded once for all of them, the rows split over
    /// the cores by the row pool (FusedLinear).
    private func fused(_ x: Matrix, into y: inout Matrix, path: KernelPath) {
        FusedLinear.apply(x, .quantized(self), into: &y, path: path)
    }

    /// More rows than the fused kernels take: tiles of weight rows decoded to Float32 and multiplied by sgemm
    /// (row_pool.c), so a prefill's product is the f32 path's up to the order sgemm sums in. No Float32 copy of the
    /// matrix is kept: decoding is a few percent of a prefill's arithmetic, and native memory stays the file's size.
    private func tiled(_ x: Matrix, into y: inout Matrix, path: KernelPath) {
        let m = x.rows, n = rows, k = cols
        let ok = x.values.withUnsafeBufferPointer { xp in
            y.values.withUnsafeMutableBufferPointer { yp in
                withBlocks { w in
                    lq_tiled_matmul(path.rawValue, type.rawValue, w, rowBytes, Int32(k), Int32(n), xp.baseAddress!, Int32(m),
                                    yp.baseAddress!, Int32(n), Int32(Parallel.workerCount))
                }
            }
        }
        precondition(ok != 0, "lq_tiled_matmul refused: path \(path) on this CPU, or a shape the initializer checked")
    }
}
