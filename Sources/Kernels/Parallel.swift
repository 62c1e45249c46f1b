// Work splitting over the machine's cores, and the cap on how many workers one matrix product uses
// (OpenBLAS itself runs one thread; Matmul splits each product into blocks fixed by its shape).
import Dispatch
import Foundation
import COpenBLAS
import CQuantKernels
import Synchronization

public enum Parallel {
    /// Number of worker threads for row-split kernels: the cores other processes leave free (sampled at most
    /// every half second), so a split never waits on a chunk whose core another process holds.
    public static var workerCount: Int { Int(lazarus_cpu_free_cores(500)) }

    /// At most this many chunks per call: more than the workers, so a worker whose core another process takes
    /// mid-call holds up one small chunk, not half the work (the others take the rest as they finish).
    public static let maximumChunks = 8

    /// Runs `body(range)` over `0..<count` cut into contiguous chunks of at least `minimumPerChunk`
    /// (at most `maximumChunks` of them, their bounds fixed by `count` alone); the free workers take the next
    /// chunk as they finish one. Inline, as one range, when there is one chunk or one free core. Every caller's
    /// items are independent (rows of a norm, an activation, a product), so the split changes no result.
    @inline(__always)
    public static func forEachChunk(_ count: Int, minimumPerChunk: Int = 1, _ body: (Range<Int>) -> Void) {
        let chunks = min(maximumChunks, max(1, count / max(1, minimumPerChunk)))
        let workers = chunks <= 1 ? 1 : min(chunks, workerCount)
        if workers <= 1 {
            if count > 0 { body(0..<count) }
            return
        }
        let per = (count + chunks - 1) / chunks
        forEachItem((count + per - 1) / per, workers: workers) { chunk in
            body(chunk * per..<min(count, chunk * per + per))
        }
    }

    /// Elements of simple per-element work (a norm, a rotation, an activation) below which a chunk is not
    /// worth a dispatch: waking a worker costs tens of microseconds, more again while OpenBLAS's own threads
    /// spin between sgemms, and a training step at 64 rows makes hundreds of such calls. Rows are independent
    /// in every kernel that uses this, so the split changes no result.
    public static let minimumElementsPerChunk = 1 << 17

    /// Rows per chunk for row-wise work over rows of `width` elements.
    public static func minimumRows(width: Int) -> Int { max(1, minimumElementsPerChunk / max(1, width)) }

    /// Runs `body(item)` for every item in `0..<count` on `workers` threads (the caller one of them), each taking the
    /// next item as it finishes one, so a worker whose core another process holds does fewer. Matmul's blocks and
    /// SmallMatmul's parts, both fixed by the shape, go through it; which thread runs an item changes no result.
    public static func forEachItem(_ count: Int, workers: Int, _ body: (Int) -> Void) {
        let workers = min(count, workers)
        if workers <= 1 {
            for item in 0..<count { body(item) }
            return
        }
        let next = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while true {
                let item = next.wrappingAdd(1, ordering: .relaxed).oldValue
                if item >= count { return }
                body(item)
            }
        }
    }

    /// Runs `body(i)` for every i in `0..<count` on the row pool (LazarusRowPool.h): the caller and the helper that
    /// decode keeps awake between products, so a split of a few microseconds of work pays (a dispatch to a
    /// sleeping worker costs tens). Items are independent; which thread runs one never changes its result.
    public static func forEachOnRowPool(_ count: Int, _ body: (Int) -> Void) {
        let workers = min(count, workerCount)
        if workers <= 1 {
            for i in 0..<count { body(i) }
            return
        }
        withoutActuallyEscaping(body) { body in
            var box = body
            withUnsafeMutablePointer(to: &box) { ctx in
                lq_pool_run(Int32(count), Int32(workers), { ctx, i in
                    ctx!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(Int(i))
                }, ctx)
            }
        }
    }

    /// Runs `body(i)` for every i in `0..<count` on the workers; inline when `totalWork` (in elements of
    /// simple work, as `minimumElementsPerChunk`) would not fill two chunks.
    public static func forEach(_ count: Int, totalWork: Int = .max, _ body: (Int) -> Void) {
        if totalWork < 2 * minimumElementsPerChunk {
            for i in 0..<count { body(i) }
            return
        }
        forEachChunk(count) { range in for i in range { body(i) } }
    }
}

public enum BLASThreads {
    /// Caps how many workers one matrix product may use; it uses fewer while other processes hold cores.
    public static func set(_ n: Int) { lazarus_blas_set_threads(Int32(max(1, n))) }
    public static var current: Int { Int(lazarus_blas_get_threads()) }
}
