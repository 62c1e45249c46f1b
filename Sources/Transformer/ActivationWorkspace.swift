// The buffers one training step's forward (with saved activations) and backward take and give back, kept
// between steps so that a step of fixed shapes allocates (almost) nothing large after the first; a batched
// forward without saved activations (HiddenStateCollector) reuses its running buffers the same way.
// Not an allocator: a pool of Float arrays handed out by capacity; a step that is not given one allocates as before.
//
// Why it exists: glibc returns freed blocks above its mmap threshold (and the top of the heap beyond its
// trim threshold) to the system, so each step's tens of megabytes came back as fresh pages that fault and
// are zeroed again. The command line used to set a `mallopt` policy against that, which library users (the
// tests, a Swift caller of the Training target) did not get; reusing the buffers makes the policy unneeded.
import Kernels

public final class ActivationWorkspace: @unchecked Sendable {
    // @unchecked: one step uses a workspace at a time (the trainer owns one; the benchmark and the tests make
    // their own). Workers inside a step never touch it: only the thread running the step takes and returns.
    private var free: [(values: [Float], returned: Int)] = []
    /// Counts `beginStep` calls; each held array remembers the step in which it came back.
    private var step = 0

    /// Arrays the pool had to create because none it held was large enough, and their bytes: the counting
    /// hook the tests read (a second step of the same shapes adds nothing).
    public private(set) var allocations = 0
    public private(set) var allocatedBytes = 0
    /// Arrays the pool holds now, and their capacity in bytes.
    public var heldCount: Int { free.count }
    public var heldBytes: Int { free.reduce(0) { $0 + $1.values.capacity } * MemoryLayout<Float>.stride }

    public init() {}

    /// Marks the start of a step and drops what the previous step did not take: when the shapes change (batches
    /// of other lengths), the pool holds at most about two steps' buffers instead of every size it ever saw.
    /// Nothing is dropped within a step, so a step of the shapes of the last one finds every buffer it needs.
    public func beginStep() {
        step += 1
        free.removeAll { $0.returned < step - 1 }
    }

    /// `count` zeros in storage the pool held (the smallest array large enough), or in a new array.
    public func array(count: Int) -> [Float] {
        // Entries a block does not have (QK-norm, post-norms) are empty: they must not take a pooled array.
        guard count > 0 else { return [] }
        var best = -1
        for i in free.indices where free[i].values.capacity >= count
            && (best < 0 || free[i].values.capacity < free[best].values.capacity) { best = i }
        guard best >= 0 else {
            allocations += 1
            allocatedBytes += count * MemoryLayout<Float>.stride
            return [Float](repeating: 0, count: count)
        }
        free.swapAt(best, free.count - 1)
        var a = free.removeLast().values
        // Zero-filled as a new array would be, so a kernel that accumulates into its output reads the same.
        a.removeAll(keepingCapacity: true)
        a.append(contentsOf: repeatElement(0, count: count))
        return a
    }

    /// A zero-filled rows × cols matrix from the pool.
    public func matrix(rows: Int, cols: Int) -> Matrix {
        Matrix(rows: rows, cols: cols, values: array(count: rows * cols))
    }

    /// A copy of `m` in pool storage (a saved activation: the running buffer it came from stays unshared,
    /// so writing the next layer into it does not copy on write).
    public func copy(_ m: Matrix) -> Matrix {
        var out = matrix(rows: m.rows, cols: m.cols)
        out.values.withUnsafeMutableBufferPointer { o in
            m.values.withUnsafeBufferPointer { i in o.baseAddress!.update(from: i.baseAddress!, count: i.count) }
        }
        return out
    }

    public func copy(_ a: [Float]) -> [Float] {
        var out = array(count: a.count)
        for i in a.indices { out[i] = a[i] }
        return out
    }

    /// Gives storage back. An array someone else still shares is kept too: it is copied on its next write,
    /// which costs that one allocation and never a wrong value.
    public func recycle(_ a: consuming [Float]) {
        guard a.capacity > 0 else { return }
        free.append((a, step))
    }

    public func recycle(_ m: consuming Matrix) { recycle(m.values) }

    /// Gives back every buffer of a record this workspace's forward wrote.
    public func recycle(_ record: consuming ActivationRecord) {
        for layer in record.layers {
            for m in [layer.input, layer.attentionNormed, layer.queryRaw, layer.keyRaw, layer.query, layer.key, layer.value,
                      layer.attentionOutput, layer.attentionProjected, layer.middle, layer.mlpNormed, layer.gate, layer.up,
                      layer.gated, layer.mlpProjected] { recycle(m) }
            for a in [layer.attentionRstd, layer.queryNormRstd, layer.keyNormRstd, layer.probabilities,
                      layer.attentionOutputRstd, layer.mlpRstd, layer.mlpOutputRstd] { recycle(a) }
        }
        recycle(record.finalInput)
        recycle(record.finalRstd)
        recycle(record.finalNormed)
    }
}
