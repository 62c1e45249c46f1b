// The Llama forward pass over a batch of token sequences, with the residual stream captured at
// `embed` and after every block, optional LoRA adapters, an optional KV cache, and (for training)
// the saved activations the backward pass reads. Sequences are packed row after row, so sequences of
// different lengths need no padding and no mask beyond causality.
import Kernels

public enum HiddenCapture: Sendable { case none, lastToken, allPositions }
public enum LogitSelection: Sendable { case none, lastToken, allPositions }

public struct ForwardResult: Sendable {
    public var lengths: [Int]
    /// First packed row of each sequence.
    public var rowOffsets: [Int]
    /// `.lastToken`: [B, V]; `.allPositions`: [N, V] packed like the input; `.none`: 0 rows.
    public var logits: Matrix
    /// hidden[0] is `embed`, hidden[k + 1] is the output of block k (`Lk`); [B, D] or [N, D] by the capture mode.
    public var hidden: [Matrix]
    public var activations: ActivationRecord?
}

public struct TransformerModel: Sendable {
    public let config: ModelConfig
    public var weights: ModelWeights
    public let rope: RotaryEmbedding

    public init(config: ModelConfig, weights: ModelWeights) {
        self.config = config
        self.weights = weights
        self.rope = config.makeRotaryEmbedding()
    }

    /// Layer names as the tool reports them: "embed", "L0" … "L{n-1}".
    public var layerNames: [String] { ["embed"] + (0..<config.layerCount).map { "L\($0)" } }

    public func forward(_ sequences: [[Int]], adapters: LoRAAdapters? = nil, capture: HiddenCapture = .none,
                        logits: LogitSelection = .lastToken, saveActivations: Bool = false) throws -> ForwardResult {
        var noCache: KVCache? = nil
        return try forward(sequences, adapters: adapters, cache: &noCache, capture: capture, logits: logits, saveActivations: saveActivations)
    }

    /// With a cache, sequence b's tokens continue at position cache.lengths[b] and are appended to it.
    public func forward(_ sequences: [[Int]], adapters: LoRAAdapters?, cache: inout KVCache?, capture: HiddenCapture,
                        logits selection: LogitSelection, saveActivations: Bool) throws -> ForwardResult {
        let c = config
        let B = sequences.count
        guard B > 0 else { throw ModelError.emptyInput("no sequences") }
        let lengths = sequences.map(\.count)
        guard !lengths.contains(0) else { throw ModelError.emptyInput("a sequence has no tokens") }
        var rowOffsets = [Int](repeating: 0, count: B)
        for b in 1..<B { rowOffsets[b] = rowOffsets[b - 1] + lengths[b - 1] }
        let N = lengths.reduce(0, +)
        let starts: [Int]
        if let cache {
            precondition(cache.sequenceCount == B, "KV cache holds \(cache.sequenceCount) sequences, batch has \(B)")
            starts = cache.lengths
            for b in 0..<B where starts[b] + lengths[b] > cache.capacity {
                throw ModelError.contextOverflow(needed: starts[b] + lengths[b], capacity: cache.capacity)
            }
        } else {
            starts = Array(repeating: 0, count: B)
        }
        var positions = [Int](repeating: 0, count: N)
        for b in 0..<B { for t in 0..<lengths[b] { positions[rowOffsets[b] + t] = starts[b] + t } }
        let lastRows = (0..<B).map { rowOffsets[$0] + lengths[$0] - 1 }

        // Embedding lookup.
        var x = Matrix(rows: N, cols: c.hiddenSize)
        var row = 0
        for seq in sequences {
            for id in seq {
                guard id >= 0 && id < c.vocabularySize else { throw ModelError.tokenOutOfRange(id: id, vocabularySize: c.vocabularySize) }
                for j in 0..<c.hiddenSize { x.values[row * c.hiddenSize + j] = weights.embedding.values[id * c.hiddenSize + j] }
                row += 1
            }
        }

        var hidden: [Matrix] = []
        func record(_ m: Matrix) {
            switch capture {
            case .none: break
            case .lastToken: hidden.append(Elementwise.gatherRows(m, lastRows))
            case .allPositions: hidden.append(m)
            }
        }
        record(x)

        // Attention reads keys either from this pass's rows or from the cache.
        let layout = AttentionLayout(
            queryRowOffsets: rowOffsets, queryCounts: lengths,
            keyRowOffsets: cache == nil ? rowOffsets : (0..<B).map { $0 * cache!.capacity },
            keyCounts: (0..<B).map { starts[$0] + lengths[$0] },
            heads: c.headCount, kvHeads: c.kvHeadCount, headDim: c.headDim)

        var xn = Matrix(rows: N, cols: c.hiddenSize)
        var q = Matrix(rows: N, cols: c.queryWidth)
        var k = Matrix(rows: N, cols: c.kvWidth)
        var v = Matrix(rows: N, cols: c.kvWidth)
        var attention = Matrix(rows: N, cols: c.queryWidth)
        var delta = Matrix(rows: N, cols: c.hiddenSize)
        var gate = Matrix(rows: N, cols: c.intermediateSize)
        var up = Matrix(rows: N, cols: c.intermediateSize)
        var gated = Matrix(rows: N, cols: c.intermediateSize)
        var rstd1 = saveActivations ? [Float](repeating: 0, count: N) : []
        var rstd2 = rstd1
        var probabilities = saveActivations ? [Float](repeating: 0, count: layout.probabilityCount) : []
        var saved: [LayerActivations] = []

        for l in 0..<c.layerCount {
            let w = weights.layers[l]
            var lora: [Projection: Matrix] = [:]
            func project(_ input: Matrix, _ p: Projection, into out: inout Matrix) {
                Matmul.linear(input, w.weight(of: p), into: &out)
                if let ad = adapters?.adapter(layer: l, p) {
                    var u = Matrix(rows: input.rows, cols: ad.rank)
                    Matmul.linear(input, ad.a, into: &u)
                    Matmul.linear(u, ad.b, into: &out, accumulate: true, alpha: ad.scale)
                    if saveActivations { lora[p] = u }
                }
            }
            let input = saveActivations ? x : Matrix(rows: 0, cols: 0)

            RMSNorm.forward(x, weight: w.attentionNorm, eps: c.rmsNormEps, into: &xn, rstd: &rstd1)
            let attentionNormed = saveActivations ? xn : Matrix(rows: 0, cols: 0)
            project(xn, .query, into: &q)
            project(xn, .key, into: &k)
            project(xn, .value, into: &v)
            rope.forward(&q, heads: c.headCount, positions: positions)
            rope.forward(&k, heads: c.kvHeadCount, positions: positions)
            if cache != nil {
                for b in 0..<B {
                    let at = b * cache!.capacity + starts[b]
                    Elementwise.copyRows(k, from: rowOffsets[b], count: lengths[b], into: &cache!.keys[l], at: at)
                    Elementwise.copyRows(v, from: rowOffsets[b], count: lengths[b], into: &cache!.values[l], at: at)
                }
                CausalAttention.forward(query: q, keys: cache!.keys[l], values: cache!.values[l], layout: layout,
                                        output: &attention, probabilities: &probabilities)
            } else {
                CausalAttention.forward(query: q, keys: k.values, values: v.values, layout: layout,
                                        output: &attention, probabilities: &probabilities)
            }
            project(attention, .output, into: &delta)
            Elementwise.add(delta, to: &x)
            let middle = saveActivations ? x : Matrix(rows: 0, cols: 0)

            RMSNorm.forward(x, weight: w.mlpNorm, eps: c.rmsNormEps, into: &xn, rstd: &rstd2)
            project(xn, .gate, into: &gate)
            project(xn, .up, into: &up)
            SwiGLU.forward(gate: gate, up: up, into: &gated)
            project(gated, .down, into: &delta)
            Elementwise.add(delta, to: &x)

            if saveActivations {
                saved.append(LayerActivations(
                    input: input, attentionRstd: rstd1, attentionNormed: attentionNormed, query: q, key: k, value: v,
                    probabilities: probabilities, attentionOutput: attention, middle: middle, mlpRstd: rstd2,
                    mlpNormed: xn, gate: gate, up: up, gated: gated, loraIntermediate: lora))
            }
            record(x)
        }
        if cache != nil { for b in 0..<B { cache!.lengths[b] = starts[b] + lengths[b] } }

        // Final norm and unembedding, only for the rows asked for.
        var logits = Matrix(rows: 0, cols: c.vocabularySize)
        var activations: ActivationRecord? = nil
        if saveActivations {
            var rstdF = [Float](repeating: 0, count: N)
            var normed = Matrix(rows: N, cols: c.hiddenSize)
            RMSNorm.forward(x, weight: weights.finalNorm, eps: c.rmsNormEps, into: &normed, rstd: &rstdF)
            activations = ActivationRecord(lengths: lengths, rowOffsets: rowOffsets, probabilityOffsets: layout.probabilityOffsets,
                                           positions: positions, layers: saved, finalInput: x, finalRstd: rstdF, finalNormed: normed)
        }
        switch selection {
        case .none: break
        case .lastToken, .allPositions:
            let rows = selection == .lastToken ? Elementwise.gatherRows(x, lastRows) : x
            let normed = RMSNorm.forward(rows, weight: weights.finalNorm, eps: c.rmsNormEps)
            logits = Matrix(rows: rows.rows, cols: c.vocabularySize)
            Matmul.linear(normed, weights.unembedding, into: &logits)
        }
        return ForwardResult(lengths: lengths, rowOffsets: rowOffsets, logits: logits, hidden: hidden, activations: activations)
    }

    /// The model's output distribution for hidden states of any layer: softmax(W_U · FinalNorm(h)) as logits.
    /// This is the logit lens's readout and, at the last layer, the model's own logits.
    public func readout(_ hidden: Matrix) -> Matrix {
        var normed = Matrix(rows: hidden.rows, cols: config.hiddenSize)
        var logits = Matrix(rows: hidden.rows, cols: config.vocabularySize)
        readout(hidden, rows: 0..<hidden.rows, normed: &normed, into: &logits)
        return logits
    }

    /// `readout` of a contiguous range of rows into buffers the caller keeps between calls (the logit lens
    /// reads thousands of rows: fresh 30 MB logit buffers each time cost page faults, not arithmetic).
    /// normed: [rows.count, D] scratch; logits: [rows.count, V].
    public func readout(_ hidden: Matrix, rows: Range<Int>, normed: inout Matrix, into logits: inout Matrix) {
        RMSNorm.forward(hidden, rows: rows, weight: weights.finalNorm, eps: config.rmsNormEps, into: &normed)
        Matmul.linear(normed, weights.unembedding, into: &logits)
    }
}
