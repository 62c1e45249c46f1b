// LoRA on the attention projections of a GPT-OSS-shaped model whose experts are frozen MXFP4 blocks (QLoRA-style):
// the backward through the quantised experts (dX = dY · W_e, decoded) against central finite differences of the
// same model's loss, and against the analytic gradient of the model with the experts decoded to Float32. The
// rule for training on quantised weights: only experts may be blocks.
import Foundation
import Kernels
import LazarusTestSupport
import Testing
import Training
import Transformer

@Suite struct QuantizedExpertsGradientTests {
    /// GPT-OSS's block on the tiny model, with F = 32 so both expert widths (D = 32, F = 32) are whole MXFP4 blocks.
    static func model(seed: UInt64) throws -> TransformerModel {
        var c = MixtureOfExpertsGradientTests.config(.gptOss)
        c.intermediateSize = 32
        var m = TransformerModel.random(config: c, seed: seed)
        var rng = SeededRandom(seed: seed &+ 1)
        for l in 0..<c.layerCount {
            Elementwise.scale(&m.weights.layers[l].tensors[.router]!, by: 12)
            for role in [BlockTensor.expertGate, .expertUp, .expertDown] {
                let shape = role.shape(c)
                var bytes = [UInt8](repeating: 0, count: shape[0] * shape[1] / 32 * 17)
                for i in bytes.indices { bytes[i] = UInt8(truncatingIfNeeded: rng.next()) }
                // E8M0 scales 2^-11 … 2^-9: weights up to 0.023, the random model's size, so the clamped SwiGLU's
                // kinks (limit 0.25) stay as rare as in the Float32 test and no difference step straddles one.
                for b in 0..<(bytes.count / 17) { bytes[b * 17] = UInt8(117 + Int(rng.next() % 3)) }
                m.weights.layers[l].quantized[role] = try QuantizedMatrix(type: .mxfp4, rows: shape[0], cols: shape[1], data: Data(bytes),
                                                                          offset: 0, byteCount: bytes.count)
                m.weights.layers[l].tensors[role] = nil
            }
        }
        try m.weights.validate(against: c, source: "test")
        return m
    }

    @Test func loraGradientsThroughFrozenMXFP4ExpertsMatchFiniteDifferences() throws {
        let model = try Self.model(seed: 41)
        #expect(model.weights.hasQuantizedExperts && !model.weights.quantizesMoreThanExperts)
        // The routing margin, as the Float32 test keeps it: no difference step may change the chosen experts.
        let r = try model.forward(MixtureOfExpertsGradientTests.sequences, options: ForwardOptions(logits: .none, routing: .allPositions))
        let k = model.config.mixture!.perToken
        var gap = Float.infinity
        for record in r.routing {
            for row in 0..<record.logits.rows { let s = record.logits.row(row).sorted(by: >); gap = min(gap, s[k - 1] - s[k]) }
        }
        #expect(gap > 0.02, "routing margin \(gap)")
        let layout = LoRAParameterLayout(config: model.config, settings: LoRASettings(rank: 2, alpha: 6, targets: [.query, .key, .value, .output]))
        var rng = SeededRandom(seed: 10)
        let parameters = (0..<layout.count).map { _ in rng.uniform(-0.3, 0.3) }
        let batch = MixtureOfExpertsGradientTests.sequences.map { TrainingExample(tokens: $0) }
        let analytic = try LoRAGradients.lossAndGradients(model: model, adapters: layout.adapters(from: parameters), batch: batch)
        // Float32 central differences of this loss carry ~1e-3 relative noise per projection at step 1e-3 (its gradients
        // are smaller than the Float32 test's); step 2e-3 halves it, and the bound is twice the Float32 test's. A
        // backward missing the expert path or the routing path is off by far more (order one).
        let numeric = try numericalGradient(parameters, step: 2e-3) { x in
            let r = try LoRAGradients.lossSum(model: model, adapters: layout.adapters(from: x), batch: batch)
            return r.sum / Double(r.count)
        }
        let gradient = layout.flatten(analytic.gradients).map(Double.init)
        expectGradientsMatch(gradient, numeric, layout: layout, "GPT-OSS, MXFP4 experts", bound: 1e-2, smallest: 1e-5)
        // The same model with its experts decoded: the same gradient up to the forward's order of sums.
        var decoded = model
        decoded.weights = model.weights.dequantized()
        let dense = try LoRAGradients.lossAndGradients(model: decoded, adapters: layout.adapters(from: parameters), batch: batch)
        let denseGradient = layout.flatten(dense.gradients).map(Double.init)
        let vsDense = relativeError(gradient, denseGradient)
        #expect(vsDense < 1e-4, "quantised vs decoded experts: \(vsDense)")
        print("GPT-OSS MXFP4 experts: LoRA gradients vs finite differences \(relativeError(gradient, numeric)), vs decoded experts \(vsDense)")
    }

    @Test func onlyExpertsMayStayQuantisedForTraining() throws {
        var model = try Self.model(seed: 42)
        #expect(!model.weights.quantizesMoreThanExperts)
        // A quantised attention projection (as a GGUF loaded `native` has) is what training refuses.
        let q = model.weights.layers[0].quantized[.expertGate]!.rows(0..<32)
        model.weights.layers[0].quantized[.query] = q
        model.weights.layers[0].tensors[.query] = nil
        #expect(model.weights.quantizesMoreThanExperts)
        let trainer = LoRATrainer(model: model, settings: LoRASettings(rank: 2, alpha: 4, targets: [.query]),
                                  options: TrainingOptions(steps: 1, batchSize: 1), outputFolder: nil)
        #expect { try trainer.run(train: [TrainingExample(tokens: [1, 2, 3])], valid: []) } throws: { error in
            let line = String(describing: error)
            return line.contains("native-experts") && !line.contains("\n")
        }
    }
}
