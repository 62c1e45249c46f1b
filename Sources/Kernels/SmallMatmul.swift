// SmallMatmul: the dense linear layer's products when only a few activation rows meet a large frozen weight
// (a LoRA step's 49–64 rows against a 2048×8192 matrix). OpenBLAS packs the whole weight into its panel layout
// on every such call — 40% of a 1B-shaped training step — so these read W as stored (CQuantKernels/small_gemm.c).
// Matmul.xWt and Matmul.xW hand over the shapes `takes` accepts; above `maximumRows` OpenBLAS stays.
import CQuantKernels
import Foundation

public enum SmallMatmul {
    /// The most activation rows these products take by default: measured on a Zen 5 (docs/performance.md),
    /// where they beat OpenBLAS's packing sgemm up to about this many rows.
    public static let defaultMaximumRows = 128

    /// The most activation rows these products take; 0 turns them off. $LAZARUS_SMALL_GEMM_ROWS (a diagnostic,
    /// never needed for speed) sets it for the process; tests and benchmarks may set it too.
    nonisolated(unsafe) public static var maximumRows: Int = {
        if let s = ProcessInfo.processInfo.environment["LAZARUS_SMALL_GEMM_ROWS"], let v = Int(s), v >= 0 { return v }
        return defaultMaximumRows
    }()

    /// Whether an m-row product over an inner size k goes here: few rows, and work enough that OpenBLAS's
    /// packing dominates (below ~64k multiply-adds either way is a few microseconds).
    static func takes(m: Int, n: Int, k: Int) -> Bool {
        m > 0 && m <= maximumRows && k >= 16 && n >= 16 && m * n * k >= 1 << 16
    }

    /// y[M,N] (+)= alpha · x[M,K] · w[N,K]ᵀ on `path` over up to `workers` threads.
    public static func xWt(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                           m: Int, n: Int, k: Int, accumulate: Bool = false, alpha: Float = 1,
                           path: KernelPath = .current, workers: Int? = nil) {
        let ok = lq_small_xwt(path.rawValue, x, Int32(m), Int32(k), w, Int32(n), y, Int32(n), alpha, accumulate ? 1 : 0,
                              Int32(workers ?? defaultWorkers))
        precondition(ok != 0, "lq_small_xwt refused: path \(path) on this CPU, or x \(m)×\(k), W \(n)×\(k)")
    }

    /// dx[M,K] (+)= dy[M,N] · w[N,K] on `path` over up to `workers` threads.
    public static func xW(_ dy: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>,
                          m: Int, n: Int, k: Int, accumulate: Bool = false,
                          path: KernelPath = .current, workers: Int? = nil) {
        let ok = lq_small_xw(path.rawValue, dy, Int32(m), Int32(n), w, Int32(k), dx, accumulate ? 1 : 0,
                             Int32(workers ?? defaultWorkers))
        precondition(ok != 0, "lq_small_xw refused: path \(path) on this CPU, or dy \(m)×\(n), W \(n)×\(k)")
    }

    /// The same cap as Matmul's blocks: no more workers than BLASThreads allows or other processes leave free.
    static var defaultWorkers: Int { min(BLASThreads.current, Parallel.workerCount) }
}
