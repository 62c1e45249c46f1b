// Causal scaled-dot-product attention for one sequence and one head, forward and backward.
// Grouped-query attention is the caller's choice of which key/value head a query head reads.
// Query row t sits at absolute position (S − T + t) and sees keys 0 ... S − T + t: this covers
// training and prefill (S = T) and decoding against a KV cache (S > T) with one function. A sliding
// window of W keys (Mistral, Gemma 3's local layers) limits that to the last W positions, itself included,
// as transformers' sliding-window mask does (key j visible from query i when i − W < j ≤ i).
import Foundation

public enum CausalAttention {
    /// The keys query row t of T may read among S: first ..< end (end = its own position + 1).
    @inline(__always)
    public static func visibleKeys(query t: Int, queries T: Int, keys S: Int, window: Int?) -> (first: Int, end: Int) {
        let end = S - T + t + 1
        guard let window else { return (0, end) }
        return (max(0, end - window), end)
    }

    /// q: [T rows, stride qStride], k, v: [S rows, stride kvStride], out: [T rows, stride outStride], all
    /// already offset to this head's first element. probs, when given, receives P: [T, S] (zeros outside the
    /// visible keys). `window` is the sliding window W (nil: every earlier key is visible). `sink` is an
    /// extra logit that joins every row's softmax without a value (GPT-OSS's per-head attention sink): the
    /// probabilities of the real keys then sum to less than one. Its backward needs nothing more: the sink's
    /// value is zero, so the saved P feeds `backwardHead` unchanged.
    public static func forwardHead(q: UnsafePointer<Float>, qStride: Int,
                                   k: UnsafePointer<Float>, v: UnsafePointer<Float>, kvStride: Int,
                                   out: UnsafeMutablePointer<Float>, outStride: Int,
                                   queries T: Int, keys S: Int, headDim: Int, scale: Float, window: Int? = nil,
                                   sink: Float? = nil, probs: UnsafeMutablePointer<Float>?) {
        precondition(S >= T, "attention: fewer keys than queries")
        withUnsafeTemporaryAllocation(of: Float.self, capacity: max(S, 1)) { scoresBuffer in
            let scores = scoresBuffer.baseAddress!
            for t in 0..<T {
                let (first, end) = visibleKeys(query: t, queries: T, keys: S, window: window)
                let qt = q + t * qStride
                for s in first..<end { scores[s] = dot(qt, k + s * kvStride, count: headDim) * scale }
                let logSum = Softmax.forward(scores + first, count: end - first)
                if let sink {
                    // softmax over keys ∪ {sink} = softmax over keys · Σe^s / (Σe^s + e^sink).
                    let keep = Float(1 / (1 + exp(Double(sink) - logSum)))
                    for s in first..<end { scores[s] *= keep }
                }
                let ot = out + t * outStride
                for d in 0..<headDim { ot[d] = 0 }
                for s in first..<end {
                    let p = scores[s]
                    let vs = v + s * kvStride
                    for d in 0..<headDim { ot[d] += p * vs[d] }
                }
                if let probs {
                    let pt = probs + t * S
                    for s in 0..<first { pt[s] = 0 }
                    for s in first..<end { pt[s] = scores[s] }
                    for s in end..<S { pt[s] = 0 }
                }
            }
        }
    }

    /// Below this many key·dimension products in a pass, attention runs inline (a hand-off costs about a
    /// microsecond; 9 heads × 28 keys × 64 dimensions is about two).
    static let rowPoolAttentionWork = 1 << 14

    /// q·k for one query and one key. In sixteen lanes (d mod 16) summed at the end when the head width allows it:
    /// a single running sum is a chain of dependent adds (the compiler may not reorder a Float sum), which made
    /// this dot product most of decode's attention time. The order is fixed by the width alone.
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        if count % 16 == 0 {
            var lanes = SIMD16<Float>()
            var d = 0
            while d < count {
                let x = UnsafeRawPointer(a + d).loadUnaligned(as: SIMD16<Float>.self)
                let y = UnsafeRawPointer(b + d).loadUnaligned(as: SIMD16<Float>.self)
                lanes += x * y
                d += 16
            }
            return lanes.sum()
        }
        var sum: Float = 0
        for d in 0..<count { sum += a[d] * b[d] }
        return sum
    }

    /// Given dOut for this head and the saved P: [T, S], accumulates into dq (T rows), dk and dv (S rows).
    /// dS = P ⊙ (dP − rowsum(dP ⊙ P)) with dP = dOut·Vᵀ; dq = scale·dS·K; dk = scale·dSᵀ·q; dv = Pᵀ·dOut.
    public static func backwardHead(dOut: UnsafePointer<Float>, outStride: Int,
                                    q: UnsafePointer<Float>, qStride: Int,
                                    k: UnsafePointer<Float>, v: UnsafePointer<Float>, kvStride: Int,
                                    probs: UnsafePointer<Float>,
                                    dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>, dv: UnsafeMutablePointer<Float>,
                                    queries T: Int, keys S: Int, headDim: Int, scale: Float, window: Int? = nil) {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: max(S, 1)) { dpBuffer in
            let dp = dpBuffer.baseAddress!
            for t in 0..<T {
                let (first, end) = visibleKeys(query: t, queries: T, keys: S, window: window)
                let pt = probs + t * S
                let dot = dOut + t * outStride
                var rowSum: Float = 0
                for s in first..<end {
                    let vs = v + s * kvStride
                    var acc: Float = 0
                    for d in 0..<headDim { acc += dot[d] * vs[d] }
                    dp[s] = acc
                    rowSum += acc * pt[s]
                    // dv[s] += P[t,s] · dOut[t]
                    let dvs = dv + s * kvStride
                    let p = pt[s]
                    for d in 0..<headDim { dvs[d] += p * dot[d] }
                }
                let qt = q + t * qStride
                let dqt = dq + t * qStride
                for s in first..<end {
                    let ds = pt[s] * (dp[s] - rowSum) * scale
                    if ds == 0 { continue }
                    let ks = k + s * kvStride
                    let dks = dk + s * kvStride
                    for d in 0..<headDim {
                        dqt[d] += ds * ks[d]
                        dks[d] += ds * qt[d]
                    }
                }
            }
        }
    }
}

/// A batch of sequences for attention: where each sequence's query rows and key rows start, and how many.
/// Queries are packed rows of a [N, H·Dh] matrix; keys and values are rows of width Hkv·Dh in a buffer
/// that is either the packed rows of this pass or a KV cache.
public struct AttentionLayout: Sendable {
    public var queryRowOffsets: [Int]
    public var queryCounts: [Int]
    public var keyRowOffsets: [Int]
    public var keyCounts: [Int]
    public var heads: Int
    public var kvHeads: Int
    public var headDim: Int
    /// Multiplies q·k before the softmax: 1/√Dh unless the architecture says otherwise (Gemma's query_pre_attn_scalar).
    public var scale: Float
    /// Sliding window W in positions, or nil for full causal attention.
    public var window: Int?
    /// One sink logit per query head [H] (GPT-OSS), or nil.
    public var sinks: [Float]?
    /// Where sequence b's probabilities start in the probability buffer: [H, T_b, S_b] each.
    public var probabilityOffsets: [Int]
    public var probabilityCount: Int

    public init(queryRowOffsets: [Int], queryCounts: [Int], keyRowOffsets: [Int], keyCounts: [Int],
                heads: Int, kvHeads: Int, headDim: Int, scale: Float? = nil, window: Int? = nil) {
        self.queryRowOffsets = queryRowOffsets
        self.queryCounts = queryCounts
        self.keyRowOffsets = keyRowOffsets
        self.keyCounts = keyCounts
        self.heads = heads
        self.kvHeads = kvHeads
        self.headDim = headDim
        self.scale = scale ?? 1 / Float(headDim).squareRoot()
        self.window = window
        var offsets: [Int] = []
        var total = 0
        for b in 0..<queryCounts.count {
            offsets.append(total)
            total += heads * queryCounts[b] * keyCounts[b]
        }
        probabilityOffsets = offsets
        probabilityCount = total
    }
}

extension CausalAttention {
    /// Attention of every (sequence, head) of a batch, split over the cores.
    /// query: [N, H·Dh]; keys, values: rows of Hkv·Dh; output: [N, H·Dh]; probabilities: layout.probabilityCount or empty.
    public static func forward(query: Matrix, keys: [Float], values: [Float], layout: AttentionLayout,
                               output: inout Matrix, probabilities: inout [Float]) {
        let H = layout.heads, Dh = layout.headDim, group = layout.heads / layout.kvHeads
        let qStride = H * Dh, kvStride = layout.kvHeads * Dh
        let save = !probabilities.isEmpty
        precondition(!save || probabilities.count == layout.probabilityCount, "attention: probability buffer size")
        let B = layout.queryCounts.count
        query.values.withUnsafeBufferPointer { qp in
            keys.withUnsafeBufferPointer { kp in
                values.withUnsafeBufferPointer { vp in
                    output.values.withUnsafeMutableBufferPointer { op in
                        probabilities.withUnsafeMutableBufferPointer { pp in
                            let q = qp.baseAddress!, k = kp.baseAddress!, v = vp.baseAddress!, o = op.baseAddress!
                            let probs = pp.baseAddress
                            func head(_ item: Int) {
                                let b = item / H, h = item % H, kvh = h / group
                                let T = layout.queryCounts[b], S = layout.keyCounts[b]
                                let qRow = layout.queryRowOffsets[b], kRow = layout.keyRowOffsets[b]
                                forwardHead(q: q + qRow * qStride + h * Dh, qStride: qStride,
                                            k: k + kRow * kvStride + kvh * Dh, v: v + kRow * kvStride + kvh * Dh, kvStride: kvStride,
                                            out: o + qRow * qStride + h * Dh, outStride: qStride,
                                            queries: T, keys: S, headDim: Dh, scale: layout.scale, window: layout.window,
                                            sink: layout.sinks?[h], probs: save ? probs! + layout.probabilityOffsets[b] + h * T * S : nil)
                            }
                            // Decode's attention (one query a sequence, a few thousand keys·dims a head) is too
                            // little for a dispatch but worth the row pool's awake helper.
                            let work = layout.probabilityCount * Dh
                            if work >= Self.rowPoolAttentionWork && work < 2 * Parallel.minimumElementsPerChunk {
                                Parallel.forEachOnRowPool(B * H, head)
                            } else {
                                Parallel.forEach(B * H, totalWork: work, head)
                            }
                        }
                    }
                }
            }
        }
    }

    /// The backward of `forward` for a pass without a cache (keys are this pass's packed rows).
    /// Accumulates into dQuery [N, H·Dh], dKeys and dValues [N, Hkv·Dh]; work is split by (sequence, kv head)
    /// so that query heads sharing one key/value head never write the same rows at once.
    public static func backward(dOutput: Matrix, query: Matrix, keys: Matrix, values: Matrix, probabilities: [Float],
                                layout: AttentionLayout, dQuery: inout Matrix, dKeys: inout Matrix, dValues: inout Matrix) {
        let H = layout.heads, Dh = layout.headDim, group = layout.heads / layout.kvHeads
        let qStride = H * Dh, kvStride = layout.kvHeads * Dh
        let B = layout.queryCounts.count
        dOutput.values.withUnsafeBufferPointer { dop in
        query.values.withUnsafeBufferPointer { qp in
        keys.values.withUnsafeBufferPointer { kp in
        values.values.withUnsafeBufferPointer { vp in
        probabilities.withUnsafeBufferPointer { pp in
        dQuery.values.withUnsafeMutableBufferPointer { dqp in
        dKeys.values.withUnsafeMutableBufferPointer { dkp in
        dValues.values.withUnsafeMutableBufferPointer { dvp in
            let dO = dop.baseAddress!, q = qp.baseAddress!, k = kp.baseAddress!, v = vp.baseAddress!, p = pp.baseAddress!
            let dq = dqp.baseAddress!, dk = dkp.baseAddress!, dv = dvp.baseAddress!
            Parallel.forEach(B * layout.kvHeads, totalWork: 2 * layout.probabilityCount * Dh) { item in
                let b = item / layout.kvHeads, kvh = item % layout.kvHeads
                let T = layout.queryCounts[b], S = layout.keyCounts[b]
                let qRow = layout.queryRowOffsets[b], kRow = layout.keyRowOffsets[b]
                for h in (kvh * group)..<((kvh + 1) * group) {
                    backwardHead(dOut: dO + qRow * qStride + h * Dh, outStride: qStride,
                                 q: q + qRow * qStride + h * Dh, qStride: qStride,
                                 k: k + kRow * kvStride + kvh * Dh, v: v + kRow * kvStride + kvh * Dh, kvStride: kvStride,
                                 probs: p + layout.probabilityOffsets[b] + h * T * S,
                                 dq: dq + qRow * qStride + h * Dh,
                                 dk: dk + kRow * kvStride + kvh * Dh, dv: dv + kRow * kvStride + kvh * Dh,
                                 queries: T, keys: S, headDim: Dh, scale: layout.scale, window: layout.window)
                }
            }
        }}}}}}}}
    }
}
