// The forward pass of every family over a batch of token sequences: the block descriptor decides the
// norms, biases, QK-norm and activation; each layer's attention kind decides its window and RoPE base.
// One options value asks for the residual stream at `embed` and after every block, logits, the saved
// activations the backward reads, and interventions. Sequences are packed row after row, so sequences of
// different lengths need no padding and no mask beyond causality (and the window).
import Kernels

public enum HiddenCapture: Sendable { case none, lastToken, allPositions }
public enum LogitSelection: Sendable { case none, lastToken, allPositions }

/// What a forward pass computes beyond the residual stream it always runs.
public struct ForwardOptions: Sendable {
    public var capture: HiddenCapture
    public var logits: LogitSelection
    /// Keep every activation the backward needs (training, gradients through the lens).
    public var saveActivations: Bool
    public var interventions: [Intervention]
    /// Each mixture-of-experts layer's router logits and choices, at the last token or every position.
    public var routing: HiddenCapture
    /// Where the pass's buffers (and saved activations, and the backward's buffers) come from and go back to
    /// between training steps or batches (ActivationWorkspace.swift); nil allocates them afresh.
    public var workspace: ActivationWorkspace?

    public init(capture: HiddenCapture = .none, logits: LogitSelection = .lastToken, saveActivations: Bool = false,
                interventions: [Intervention] = [], routing: HiddenCapture = .none, workspace: ActivationWorkspace? = nil) {
        self.capture = capture
        self.logits = logits
        self.saveActivations = saveActivations
        self.interventions = interventions
        self.routing = routing
        self.workspace = workspace
    }
}

public struct ForwardResult: Sendable {
    public var lengths: [Int]
    /// First packed row of each sequence.
    public var rowOffsets: [Int]
    /// `.lastToken`: [B, V]; `.allPositions`: [N, V] packed like the input; `.none`: 0 rows.
    public var logits: Matrix
    /// hidden[0] is `embed`, hidden[k + 1] is the output of block k (`Lk`); [B, D] or [N, D] by the capture mode.
    public var hidden: [Matrix]
    public var activations: ActivationRecord?
    /// One record per mixture-of-experts layer when `ForwardOptions.routing` asks for it, rows as in `hidden`.
    public var routing: [RoutingRecord] = []
}

public struct TransformerModel: Sendable {
    public let config: ModelConfig
    public var weights: ModelWeights
    /// Each layer's rotary embedding (global and sliding layers may differ in base).
    public let ropes: [RotaryEmbedding]

    public init(config: ModelConfig, weights: ModelWeights) {
        self.config = config
        self.weights = weights
        self.ropes = (0..<config.layerCount).map { config.makeRotaryEmbedding(layer: $0) }
    }

    /// Layer names as the tool reports them: "embed", "L0" … "L{n-1}".
    public var layerNames: [String] { ["embed"] + (0..<config.layerCount).map { "L\($0)" } }

    public func forward(_ sequences: [[Int]], adapters: LoRAAdapters? = nil, capture: HiddenCapture = .none,
                        logits: LogitSelection = .lastToken, saveActivations: Bool = false) throws -> ForwardResult {
        var noCache: KVCache? = nil
        return try forward(sequences, adapters: adapters, cache: &noCache,
                           options: ForwardOptions(capture: capture, logits: logits, saveActivations: saveActivations))
    }

    public func forward(_ sequences: [[Int]], adapters: LoRAAdapters? = nil, options: ForwardOptions) throws -> ForwardResult {
        var noCache: KVCache? = nil
        return try forward(sequences, adapters: adapters, cache: &noCache, options: options)
    }

    public func forward(_ sequences: [[Int]], adapters: LoRAAdapters?, cache: inout KVCache?, capture: HiddenCapture,
                        logits selection: LogitSelection, saveActivations: Bool) throws -> ForwardResult {
        try forward(sequences, adapters: adapters, cache: &cache,
                    options: ForwardOptions(capture: capture, logits: selection, saveActivations: saveActivations))
    }

    /// With a cache, sequence b's tokens continue at position cache.lengths[b] and are appended to it.
    public func forward(_ sequences: [[Int]], adapters: LoRAAdapters?, cache: inout KVCache?, options: ForwardOptions) throws -> ForwardResult {
        let c = config
        let saveActivations = options.saveActivations
        // The running buffers come from the workspace, if there is one, and go back at the end; saved
        // activations are copies into its storage, so the running buffers stay unshared.
        let workspace = options.workspace
        func keep(_ m: Matrix) -> Matrix { workspace?.copy(m) ?? m }
        func keep(_ a: [Float]) -> [Float] { workspace?.copy(a) ?? a }
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
        if let a = adapters { try c.checkLoRATargets(a.targets) }
        let plan = options.interventions.isEmpty ? InterventionPlan()
            : try InterventionPlan(options.interventions, config: c, lengths: lengths, rowOffsets: rowOffsets, positions: positions)

        // Embedding lookup (Gemma scales the rows by √D).
        var x = workspace?.matrix(rows: N, cols: c.hiddenSize) ?? Matrix(rows: N, cols: c.hiddenSize)
        var row = 0
        for seq in sequences {
            for id in seq {
                guard id >= 0 && id < c.vocabularySize else { throw ModelError.tokenOutOfRange(id: id, vocabularySize: c.vocabularySize) }
                weights.copyEmbeddingRow(id, into: &x, row: row)
                row += 1
            }
        }
        if let s = c.embeddingScale { Elementwise.scale(&x, by: s) }
        InterventionPlan.apply(plan.residualEdits(after: -1), to: &x)

        var hidden: [Matrix] = []
        func record(_ m: Matrix) {
            switch options.capture {
            case .none: break
            case .lastToken: hidden.append(Elementwise.gatherRows(m, lastRows))
            case .allPositions: hidden.append(m)
            }
        }
        record(x)
        var routing: [RoutingRecord] = []

        // Attention reads keys either from this pass's rows or from the cache.
        let baseLayout = AttentionLayout(
            queryRowOffsets: rowOffsets, queryCounts: lengths,
            keyRowOffsets: cache == nil ? rowOffsets : (0..<B).map { $0 * cache!.capacity },
            keyCounts: (0..<B).map { starts[$0] + lengths[$0] },
            heads: c.headCount, kvHeads: c.kvHeadCount, headDim: c.headDim, scale: c.attentionScale)

        let postNorms = c.block.normPlacement == .prePost
        let empty = Matrix(rows: 0, cols: 0)
        func buffer(_ cols: Int) -> Matrix { workspace?.matrix(rows: N, cols: cols) ?? Matrix(rows: N, cols: cols) }
        var xn = buffer(c.hiddenSize)
        var q = buffer(c.queryWidth)
        var k = buffer(c.kvWidth)
        var v = buffer(c.kvWidth)
        var attention = buffer(c.queryWidth)
        var delta = buffer(c.hiddenSize)
        var gate = buffer(c.intermediateSize)
        var up = buffer(c.intermediateSize)
        var gated = buffer(c.intermediateSize)
        var rstd1 = saveActivations ? [Float](repeating: 0, count: N) : []
        var rstd2 = rstd1, rstdPostAttention = postNorms ? rstd1 : [], rstdPostMLP = rstdPostAttention
        var rstdQ = saveActivations && c.block.qkNorm ? [Float](repeating: 0, count: N * c.headCount) : []
        var rstdK = saveActivations && c.block.qkNorm ? [Float](repeating: 0, count: N * c.kvHeadCount) : []
        var probabilities = saveActivations ? [Float](repeating: 0, count: baseLayout.probabilityCount) : []
        var saved: [LayerActivations] = []
        // Decode and small batches: each product's rows split over the cores in one hand-off per weight group.
        let decodeSized = N <= FusedLinear.maximumRows && !saveActivations

        for l in 0..<c.layerCount {
            let w = weights.layers[l]
            var layout = baseLayout
            layout.window = c.window(layer: l)
            layout.sinks = w.vector(.attentionSinks)
            var lora: [Projection: Matrix] = [:]
            func project(_ input: Matrix, _ p: Projection, into out: inout Matrix) {
                if decodeSized {
                    FusedLinear.apply(input, w.linearWeight(of: p), into: &out)
                } else {
                    Matmul.linear(input, w.linearWeight(of: p), into: &out)
                }
                addAdapter(input, p, into: &out)
            }
            func addAdapter(_ input: Matrix, _ p: Projection, into out: inout Matrix) {
                if let ad = adapters?.adapter(layer: l, p) {
                    var u = Matrix(rows: input.rows, cols: ad.rank)
                    Matmul.linear(input, ad.a, into: &u)
                    Matmul.linear(u, ad.b, into: &out, accumulate: true, alpha: ad.scale)
                    if saveActivations { lora[p] = u }
                }
            }
            func postNorm(_ role: BlockTensor, _ m: inout Matrix, rstd: inout [Float]) -> Matrix {
                guard postNorms else { return empty }
                let before = saveActivations ? m : empty
                var normed = workspace?.matrix(rows: m.rows, cols: m.cols) ?? Matrix(rows: m.rows, cols: m.cols)
                RMSNorm.forward(m, weight: w[role].values, eps: c.rmsNormEps, into: &normed, rstd: &rstd)
                m = normed
                return before
            }
            let input = saveActivations ? keep(x) : empty

            // Attention: x += [PostNorm] o(attn(rope([QKNorm] q(xn)+b), rope([QKNorm] k(xn)+b), v(xn)+b)), xn = Norm(x).
            RMSNorm.forward(x, weight: w.attentionNorm, eps: c.rmsNormEps, into: &xn, rstd: &rstd1)
            let attentionNormed = saveActivations ? keep(xn) : empty
            if decodeSized {
                // One hand-off to the cores for all three (FusedLinear); the adapters after, as `project` adds them.
                FusedLinear.apply(xn, w.linearWeight(of: .query), w.linearWeight(of: .key), w.linearWeight(of: .value),
                                  into: &q, &k, &v)
                addAdapter(xn, .query, into: &q)
                addAdapter(xn, .key, into: &k)
                addAdapter(xn, .value, into: &v)
            } else {
                project(xn, .query, into: &q)
                project(xn, .key, into: &k)
                project(xn, .value, into: &v)
            }
            if let b = w.vector(.queryBias) { Elementwise.addBias(b, to: &q) }
            if let b = w.vector(.keyBias) { Elementwise.addBias(b, to: &k) }
            if let b = w.vector(.valueBias) { Elementwise.addBias(b, to: &v) }
            var queryRaw = empty, keyRaw = empty
            if c.block.qkNorm {
                if saveActivations { queryRaw = keep(q); keyRaw = keep(k) }
                RMSNorm.forwardHeads(&q, weight: w[.queryNorm].values, eps: c.rmsNormEps, rstd: &rstdQ)
                RMSNorm.forwardHeads(&k, weight: w[.keyNorm].values, eps: c.rmsNormEps, rstd: &rstdK)
            }
            ropes[l].forward(&q, heads: c.headCount, positions: positions)
            ropes[l].forward(&k, heads: c.kvHeadCount, positions: positions)
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
            InterventionPlan.apply(plan.headEdits(in: l), to: &attention)
            project(attention, .output, into: &delta)
            if let b = w.vector(.outputBias) { Elementwise.addBias(b, to: &delta) }
            let attentionProjected = postNorm(.attentionOutputNorm, &delta, rstd: &rstdPostAttention)
            Elementwise.add(delta, to: &x)
            let middle = saveActivations ? keep(x) : empty

            // MLP: x += [PostNorm] down(act(gate(xn)) ⊙ up(xn)), xn = Norm(x).
            RMSNorm.forward(x, weight: w.mlpNorm, eps: c.rmsNormEps, into: &xn, rstd: &rstd2)
            var routed: RoutingRecord? = nil
            if c.block.moe != nil {
                // Mixture of experts: x += Σ_chosen weight · expert(xn) (MixtureOfExperts.swift).
                let moe = MixtureOfExperts.forward(xn, weights: w, config: c, routerAdapter: adapters?.adapter(layer: l, .router), into: &delta)
                if saveActivations, let u = moe.routerLoRA { lora[.router] = u }
                let all = MixtureOfExperts.record(moe, layer: l, rows: nil)
                if options.routing != .none {
                    routing.append(options.routing == .lastToken ? MixtureOfExperts.record(all, rows: lastRows) : all)
                }
                routed = all
            } else {
                if decodeSized {
                    FusedLinear.apply(xn, w.linearWeight(of: .gate), w.linearWeight(of: .up), into: &gate, &up)
                    addAdapter(xn, .gate, into: &gate)
                    addAdapter(xn, .up, into: &up)
                } else {
                    project(xn, .gate, into: &gate)
                    project(xn, .up, into: &up)
                }
                switch c.block.activation {
                case .swiglu: SwiGLU.forward(gate: gate, up: up, into: &gated)
                case .gegluTanh: GeGLU.forward(gate: gate, up: up, into: &gated)
                }
                project(gated, .down, into: &delta)
            }
            let mlpProjected = postNorm(.mlpOutputNorm, &delta, rstd: &rstdPostMLP)
            Elementwise.add(delta, to: &x)
            InterventionPlan.apply(plan.residualEdits(after: l), to: &x)

            if saveActivations {
                var layer = LayerActivations(
                    input: input, attentionRstd: keep(rstd1), attentionNormed: attentionNormed, queryRaw: queryRaw, keyRaw: keyRaw,
                    queryNormRstd: keep(rstdQ), keyNormRstd: keep(rstdK), query: keep(q), key: keep(k), value: keep(v),
                    probabilities: keep(probabilities), attentionOutput: keep(attention), attentionProjected: attentionProjected,
                    attentionOutputRstd: keep(rstdPostAttention), middle: middle, mlpRstd: keep(rstd2),
                    mlpNormed: keep(xn), gate: keep(gate), up: keep(up), gated: keep(gated), mlpProjected: mlpProjected,
                    mlpOutputRstd: keep(rstdPostMLP), loraIntermediate: lora)
                layer.routing = routed
                saved.append(layer)
            }
            record(x)
        }
        if cache != nil { for b in 0..<B { cache!.lengths[b] = starts[b] + lengths[b] } }

        // Final norm and unembedding, only for the rows asked for.
        var logits = Matrix(rows: 0, cols: c.vocabularySize)
        var activations: ActivationRecord? = nil
        if saveActivations {
            var rstdF = workspace?.array(count: N) ?? [Float](repeating: 0, count: N)
            var normed = workspace?.matrix(rows: N, cols: c.hiddenSize) ?? Matrix(rows: N, cols: c.hiddenSize)
            RMSNorm.forward(x, weight: weights.finalNorm, eps: c.rmsNormEps, into: &normed, rstd: &rstdF)
            activations = ActivationRecord(lengths: lengths, rowOffsets: rowOffsets, probabilityOffsets: baseLayout.probabilityOffsets,
                                           positions: positions, layers: saved, finalInput: x, finalRstd: rstdF, finalNormed: normed,
                                           interventions: plan, workspace: workspace)
        }
        // The running buffers go back for the next pass (a record holds copies, and x as its final input).
        for m in [xn, q, k, v, attention, delta, gate, up, gated] { workspace?.recycle(m) }
        switch options.logits {
        case .none: break
        case .lastToken, .allPositions:
            let rows = options.logits == .lastToken ? Elementwise.gatherRows(x, lastRows) : x
            logits = readout(rows)
        }
        if !saveActivations { workspace?.recycle(x) }
        return ForwardResult(lengths: lengths, rowOffsets: rowOffsets, logits: logits, hidden: hidden, activations: activations,
                             routing: routing)
    }
}
