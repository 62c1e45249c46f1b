// SmallMatmul: the dense linear layer's products when only a few activation rows meet a large frozen weight
// (a LoRA step's 49–64 rows against a 2048×8192 matrix). OpenBLAS packs the whole weight into its panel layout
// on every such call — 40% of a 1B-shaped training step — so these read W as stored (CQuantKernels/small_gemm.c).
// Matmul.xWt and Matmul.xW hand over the shapes `takesForward` and `takesInputGradient` accept; above them OpenBLAS stays.
import CQuantKernels
import Foundation

public enum SmallMatmul {
    /// The most activation rows the forward takes: single-threaded on a Zen 5 at 1B shapes (2048 × 8192 both ways)
    /// it beat OpenBLAS by 13% at 49 rows and tied at 64, and lost above (docs/performance.md).
    public static let forwardMaximumRows = 64
    /// The most rows the input gradient takes: 14–18% faster than OpenBLAS at 49–96 rows, level at 128–192.
    public static let inputGradientMaximumRows = 128

    /// Whether Matmul hands small products here at all; $LAZARUS_SMALL_GEMM=0 (a diagnostic, never needed for
    /// speed: it measures the OpenBLAS path beside this one) turns it off for the process.
    nonisolated(unsafe) public static var enabled: Bool = ProcessInfo.processInfo.environment["LAZARUS_SMALL_GEMM"] != "0"

    /// Only the AVX-512 paths are handed products: the thresholds were measured on them. The AVX2 path (forward
    /// 100–125 GFLOP/s, input gradient 45–65 on this Zen 5) has not been compared with OpenBLAS's Haswell kernels
    /// on an AVX2-only CPU, so there OpenBLAS stays; tests still force it.
    static var measuredPath: Bool { KernelPath.current == .avx512vnni || KernelPath.current == .avx512vnniInt8 }

    /// Whether a forward x[m, k]·W[n, k]ᵀ goes here: few rows, an inner size of at least 64 (below it the lane
    /// reductions cost more than the sums: a rank-16 LoRA up-projection), and work enough to matter.
    static func takesForward(m: Int, n: Int, k: Int) -> Bool {
        enabled && measuredPath && m > 0 && m <= forwardMaximumRows && k >= 64 && n >= 16 && m * n * k >= 1 << 16
    }

    /// Whether an input gradient dy[m, n]·W[n, k] goes here (n W rows summed over, k output columns).
    static func takesInputGradient(m: Int, n: Int, k: Int) -> Bool {
        enabled && measuredPath && m > 0 && m <= inputGradientMaximumRows && n >= 64 && k >= 16 && m * n * k >= 1 << 16
    }

    /// y[M,N] (+)= alpha · x[M,K] · w[N,K]ᵀ on `path` over up to `workers` threads.
    public static func xWt(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                           m: Int, n: Int, k: Int, accumulate: Bool = false, alpha: Float = 1,
                           path: KernelPath = .current, workers: Int? = nil) {
        let parts = Int(lq_small_xwt_parts(Int32(k), Int32(n)))
        share(parts, workers: workers) { part in
            let ok = lq_small_xwt(path.rawValue, x, Int32(m), Int32(k), w, Int32(n), y, Int32(n), alpha, accumulate ? 1 : 0,
                                  Int32(part), Int32(part + 1))
            precondition(ok != 0, "lq_small_xwt refused: path \(path) on this CPU, or x \(m)×\(k), W \(n)×\(k)")
        }
    }

    /// dx[M,K] (+)= dy[M,N] · w[N,K] on `path` over up to `workers` threads.
    public static func xW(_ dy: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>,
                          m: Int, n: Int, k: Int, accumulate: Bool = false,
                          path: KernelPath = .current, workers: Int? = nil) {
        let parts = Int(lq_small_xw_parts(Int32(k)))
        share(parts, workers: workers) { part in
            let ok = lq_small_xw(path.rawValue, dy, Int32(m), Int32(n), w, Int32(k), dx, accumulate ? 1 : 0,
                                 Int32(part), Int32(part + 1))
            precondition(ok != 0, "lq_small_xw refused: path \(path) on this CPU, or dy \(m)×\(n), W \(n)×\(k)")
        }
    }

    /// Runs `body(part)` for every part on up to `workers` threads (default: as many as Matmul's blocks get), each
    /// taking the next part as it finishes one. Parts are fixed by the shape, so the split changes no result.
    /// (Not the row pool: its helper spins between products, taking the core a training step's other work wants.)
    static func share(_ parts: Int, workers: Int?, _ body: (Int) -> Void) {
        Parallel.forEachItem(parts, workers: workers ?? min(BLASThreads.current, Parallel.workerCount), body)
    }
}
