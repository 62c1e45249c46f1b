// The backward pass with every block feature switched on (pre+post norms, GeGLU, q/k/v biases, QK-norm,
// sliding windows with their own RoPE base, attention and embedding scales, logit soft-capping) against
// central finite differences over every LoRA parameter; then the other ways into the backward: a gradient
// injected at an intermediate layer's residual stream, a loss read through the lens at layer k
// (readoutBackward), and a pass with interventions, whose edits the backward applies transposed.
import Kernels
import LazarusTestSupport
import Optimization
import Testing
import Training
import Transformer

@Suite struct BlockFeatureGradientTests {
    let config = TransformerModel.tinyAllFeaturesConfig
    let model: TransformerModel
    let layout: LoRAParameterLayout
    let parameters: [Float]
    // Longer than the window of 3, so the window cuts attention rows in the backward too.
    let sequences = [[1, 5, 9, 2, 33, 7, 7, 12], [4, 40, 4, 19, 3]]

    init() {
        model = TransformerModel.random(config: config, seed: 21)
        layout = LoRAParameterLayout(config: config, settings: LoRASettings(rank: 2, alpha: 6, targets: Projection.linearModules))
        var rng = SeededRandom(seed: 8)
        parameters = (0..<layout.count).map { _ in rng.uniform(-0.3, 0.3) }
    }

    /// The step is 1e-3: QK-norm and the soft-cap curve this model more than Llama, and the differences'
    /// error grows as h² (measured: o_proj A 1.2e-3 at h = 1e-3, 1.1e-2 at 3e-3, 0.11 at 1e-2).
    func check(_ analytic: LoRAAdapterGradients, numeric: [Double], _ what: String) {
        expectGradientsMatch(layout.flatten(analytic).map(Double.init), numeric, layout: layout, what, smallest: 1e-5)
    }

    @Test func everyFeatureMatchesFiniteDifferences() throws {
        let batch = sequences.map { TrainingExample(tokens: $0) }
        let analytic = try LoRAGradients.lossAndGradients(model: model, adapters: layout.adapters(from: parameters), batch: batch)
        let numeric = try numericalGradient(parameters, step: 1e-3) { x in
            let r = try LoRAGradients.lossSum(model: model, adapters: layout.adapters(from: x), batch: batch)
            return r.sum / Double(r.count)
        }
        check(analytic.gradients, numeric: numeric, "all features")
    }

    /// L = CE(readout(h_k[last rows]), targets): the lens loss of the vocabulary objective, through
    /// readoutBackward and a residual gradient injected at layer k.
    func lensLoss(_ adapters: LoRAAdapters, layer k: Int, targets: [Int], save: Bool) throws -> (loss: Double, record: ActivationRecord?, dResidual: Matrix?) {
        let r = try model.forward(sequences, adapters: adapters, options: ForwardOptions(capture: .allPositions, logits: .none, saveActivations: save))
        let rows = (0..<sequences.count).map { r.rowOffsets[$0] + sequences[$0].count - 1 }
        let h = Elementwise.gatherRows(r.hidden[k + 1], rows)
        let (loss, dLogits) = CrossEntropy.lossAndGradient(logits: model.readout(h), targets: targets)
        guard save else { return (loss, nil, nil) }
        let dRows = model.readoutBackward(dLogits: dLogits, hidden: h)
        var dResidual = Matrix(rows: r.hidden[k + 1].rows, cols: config.hiddenSize)
        for (i, row) in rows.enumerated() {
            for j in 0..<config.hiddenSize { dResidual[row, j] = dRows[i, j] }
        }
        return (loss, r.activations, dResidual)
    }

    @Test func lensLossAtAnIntermediateLayerMatchesFiniteDifferences() throws {
        let k = 1, targets = [3, 17]
        let adapters = layout.adapters(from: parameters)
        let (_, record, dResidual) = try lensLoss(adapters, layer: k, targets: targets, save: true)
        let result = model.backward(BackwardSeed(residual: [k: dResidual!]), record: record!, adapters: adapters)
        let numeric = try numericalGradient(parameters, step: 1e-3) { x in
            try lensLoss(layout.adapters(from: x), layer: k, targets: targets, save: false).loss
        }
        // Layer 2's adapters do not reach layer 1's residual: their gradient is zero, and numerically so.
        let gradient = layout.flatten(result.adapterGradients).map(Double.init)
        let above = layout.slots.filter { $0.layer > k }.flatMap { Array($0.aOffset..<($0.aOffset + $0.aShape[0] * $0.aShape[1])) }
        #expect(above.allSatisfy { gradient[$0] == 0 && abs(numeric[$0]) < 1e-6 })
        let below = layout.slots.filter { $0.layer <= k }.flatMap { s in
            Array(s.aOffset..<(s.aOffset + s.aShape[0] * s.aShape[1])) + Array(s.bOffset..<(s.bOffset + s.bShape[0] * s.bShape[1]))
        }
        let error = relativeError(below.map { gradient[$0] }, below.map { numeric[$0] })
        #expect(error < 5e-3, "lens loss at L\(k): relative error \(error)")
    }

    @Test func interventionsAreDifferentiatedThrough() throws {
        var direction = [Float](repeating: 0, count: config.hiddenSize)
        for j in 0..<config.hiddenSize { direction[j] = Float((j * 7) % 11) - 5 }
        let steer = (0..<config.hiddenSize).map { Float($0 % 3) * 0.2 - 0.2 }
        let edits = [
            Intervention(.residual(layer: 0), .add(steer)),
            Intervention(.residual(layer: 1), .projectOut(direction)),
            Intervention(.head(layer: 2, head: 1), .zero),
            Intervention(.residual(layer: -1), .replace(Array(repeating: 0.1, count: config.hiddenSize)), sequence: 1, position: 2),
        ]
        let targets = sequences.map { Array($0.dropFirst()) }
        func loss(_ adapters: LoRAAdapters, save: Bool) throws -> (Double, LoRAAdapterGradients?) {
            let r = try model.forward(sequences, adapters: adapters, options: ForwardOptions(logits: save ? .none : .allPositions, saveActivations: save, interventions: edits))
            var rows: [Int] = [], ids: [Int] = []
            for (b, t) in targets.enumerated() { for (i, id) in t.enumerated() { rows.append(r.rowOffsets[b] + i); ids.append(id) } }
            if !save {
                return (CrossEntropy.lossAndGradient(logits: Elementwise.gatherRows(r.logits, rows), targets: ids).loss, nil)
            }
            let logits = model.logits(atRows: rows, of: r.activations!)
            let (l, d) = CrossEntropy.lossAndGradient(logits: logits, targets: ids)
            return (l, model.backward(dLogits: d, atRows: rows, record: r.activations!, adapters: adapters).adapterGradients)
        }
        let (_, analytic) = try loss(layout.adapters(from: parameters), save: true)
        let numeric = try numericalGradient(parameters, step: 1e-3) { x in try loss(layout.adapters(from: x), save: false).0 }
        check(analytic!, numeric: numeric, "with interventions")
    }
}
