// The backward through mixture-of-experts blocks (frozen experts and router) against central finite
// differences over every LoRA parameter on the attention projections: a GPT-OSS-shaped model (router and
// expert biases, clamped SwiGLU with a limit low enough that the clamps are active, top-k-then-softmax,
// sinks, o_proj bias, YaRN, sliding and full layers) and a Mixtral-shaped one (softmax, top-k renormalised).
// The routing choice is piecewise constant: each model's router is scaled until no position has its k-th
// and (k+1)-th logits within 0.02, so the differences' steps never change which experts are chosen.
import Kernels
import LazarusTestSupport
import Testing
import Training
import Transformer

@Suite struct MixtureOfExpertsGradientTests {
    static func config(_ arch: Architecture) -> ModelConfig {
        var c = TransformerModel.tinyTestConfig
        c.architecture = arch
        c.block = arch.block
        c.intermediateSize = 16
        c.mixture = MixtureShape(experts: 4, perToken: 2)
        if arch == .gptOss {
            c.block.moe?.activation = .clampedSwiGLU(alpha: 1.702, limit: 0.25)
            c.layerKinds = [.sliding, .global, .sliding]
            c.slidingWindow = 3
            c.ropeYarn = YarnRopeScaling(factor: 4, originalMaxPositions: 16, truncate: false)
        }
        return c
    }

    static let sequences = [[1, 5, 9, 2, 33, 7, 7, 12], [4, 40, 4, 19, 3]]

    /// A random model whose routers are scaled until every routing decision has a margin of 0.02.
    static func model(_ arch: Architecture, seed: UInt64) throws -> TransformerModel {
        var m = TransformerModel.random(config: config(arch), seed: seed)
        for l in 0..<m.config.layerCount { Elementwise.scale(&m.weights.layers[l].tensors[.router]!, by: 12) }
        let r = try m.forward(sequences, options: ForwardOptions(logits: .none, routing: .allPositions))
        let k = m.config.mixture!.perToken
        var gap = Float.infinity
        for record in r.routing {
            for row in 0..<record.logits.rows {
                let sorted = record.logits.row(row).sorted(by: >)
                gap = min(gap, sorted[k - 1] - sorted[k])
            }
        }
        #expect(gap > 0.02, "routing margin \(gap): the finite differences could change the chosen experts")
        return m
    }

    @Test("LoRA gradients on the attention projections match finite differences", arguments: [Architecture.gptOss, .mixtral])
    func attentionAdapters(_ arch: Architecture) throws {
        let model = try Self.model(arch, seed: arch == .gptOss ? 31 : 32)
        let layout = LoRAParameterLayout(config: model.config, settings: LoRASettings(rank: 2, alpha: 6, targets: [.query, .key, .value, .output]))
        var rng = SeededRandom(seed: 9)
        let parameters = (0..<layout.count).map { _ in rng.uniform(-0.3, 0.3) }
        let batch = Self.sequences.map { TrainingExample(tokens: $0) }
        let analytic = try LoRAGradients.lossAndGradients(model: model, adapters: layout.adapters(from: parameters), batch: batch)
        let numeric = try numericalGradient(parameters, step: 1e-3) { x in
            let r = try LoRAGradients.lossSum(model: model, adapters: layout.adapters(from: x), batch: batch)
            return r.sum / Double(r.count)
        }
        let gradient = layout.flatten(analytic.gradients).map(Double.init)
        expectGradientsMatch(gradient, numeric, layout: layout, "\(arch.displayName)", smallest: 1e-5)
        print("\(arch.displayName) MoE LoRA gradients vs finite differences: relative error \(relativeError(gradient, numeric))")
    }

    @Test func adaptersOnTheDenseMLPAreRefused() throws {
        let model = try Self.model(.mixtral, seed: 32)
        let layout = LoRAParameterLayout(config: model.config, settings: LoRASettings(rank: 2, alpha: 6, targets: [.query, .gate]))
        let adapters = layout.adapters(from: [Float](repeating: 0.1, count: layout.count))
        #expect { try model.forward([[1, 2, 3]], adapters: adapters, options: ForwardOptions()) } throws: { error in
            let line = String(describing: error)
            return line.contains("gate_proj") && line.contains("attention projections") && !line.contains("\n")
        }
    }
}
