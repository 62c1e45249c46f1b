// LoRA on the router of the tiny GPT-OSS and Mixtral models (tools/make_tiny_moe.py, transformers' own random
// weights) against central finite differences over every router-LoRA parameter, beside LoRA on q_proj. The
// gradient reaches the router only through the routing weights (softmax over the chosen logits: GPT-OSS takes
// it directly, Mixtral's renormalised top-k of a softmax equals it); the top-k choice is piecewise constant,
// so every perturbed evaluation checks that no position of any layer chose other experts than the unperturbed one.
import Kernels
import LazarusTestSupport
import Testing
import Training
import Transformer

@Suite struct RouterLoRAGradientTests {
    static let sequences = [[1, 57, 9, 200, 33, 7, 7, 12, 140, 3, 88], [4, 40, 4, 19, 3, 250]]

    /// The chosen experts of every layer and position.
    static func choices(_ model: TransformerModel, _ adapters: LoRAAdapters) throws -> [[Int]] {
        try model.forward(sequences, adapters: adapters, options: ForwardOptions(logits: .none, routing: .allPositions)).routing.map(\.experts)
    }

    /// The smallest gap between the k-th and (k+1)-th router logit over every layer and position.
    static func margin(_ model: TransformerModel, _ adapters: LoRAAdapters) throws -> Float {
        let k = model.config.mixture!.perToken
        var gap = Float.infinity
        for record in try model.forward(sequences, adapters: adapters, options: ForwardOptions(logits: .none, routing: .allPositions)).routing {
            for row in 0..<record.logits.rows {
                let sorted = record.logits.row(row).sorted(by: >)
                gap = min(gap, sorted[k - 1] - sorted[k])
            }
        }
        return gap
    }

    @Test("router LoRA gradients match finite differences, with no expert choice flipped", arguments: TinyMixtures.names)
    func routerAdapters(_ name: String) throws {
        let model = try TinyMixtures.load(name).model
        let layout = LoRAParameterLayout(config: model.config, settings: LoRASettings(rank: 2, alpha: 4, targets: [.query, .router]))
        var rng = SeededRandom(seed: 17)
        let parameters = (0..<layout.count).map { _ in rng.uniform(-0.5, 0.5) }
        let adapters = layout.adapters(from: parameters)
        let batch = Self.sequences.map { TrainingExample(tokens: $0) }
        let baseline = try Self.choices(model, adapters)
        let margin = try Self.margin(model, adapters)
        // The step is far below the routing margin (~0.02), and the choices are checked at every evaluation rather
        // than trusted. It is also small for a second reason: the tiny GPT-OSS's experts are scaled so that their
        // clamps (min(gate, 7), clamp(up, ±7)) are active, and a kink within a step of an evaluation point biases a
        // central difference by O(h): at h = 1e-3 its error is 2.4e-2 on router B and 1.9e-2 on q_proj A alike,
        // at 3e-4 it is 3.6e-3 (Mixtral, without clamps: 2e-4 to 5e-4 at either step).
        let step: Float = 3e-4
        var flipped = 0
        let analytic = try LoRAGradients.lossAndGradients(model: model, adapters: adapters, batch: batch)
        let numeric = try numericalGradient(parameters, step: step) { x in
            let perturbed = layout.adapters(from: x)
            if try Self.choices(model, perturbed) != baseline { flipped += 1 }
            let r = try LoRAGradients.lossSum(model: model, adapters: perturbed, batch: batch)
            return r.sum / Double(r.count)
        }
        #expect(flipped == 0, "\(flipped) perturbed evaluations chose other experts (routing margin \(margin))")
        let gradient = layout.flatten(analytic.gradients).map(Double.init)
        expectGradientsMatch(gradient, numeric, layout: layout, name, bound: 1e-2, smallest: 1e-5)
        let routerIndices = layout.slots.filter { $0.projection == .router }.flatMap { s in
            Array(s.aOffset..<(s.aOffset + s.aShape[0] * s.aShape[1])) + Array(s.bOffset..<(s.bOffset + s.bShape[0] * s.bShape[1]))
        }
        let routerError = relativeError(routerIndices.map { gradient[$0] }, routerIndices.map { numeric[$0] })
        print("\(name): router LoRA gradient vs finite differences: relative error \(routerError) (all: \(relativeError(gradient, numeric)); largest router gradient \(routerIndices.map { abs(numeric[$0]) }.max()!); routing margin \(margin), step \(step), \(flipped) flips)")
    }

    /// The adapter must move the router logits, or the gradient check above would compare zeros.
    @Test("router LoRA changes the routing weights and the loss", arguments: TinyMixtures.names)
    func routerAdapterMoves(_ name: String) throws {
        let model = try TinyMixtures.load(name).model
        let layout = LoRAParameterLayout(config: model.config, settings: LoRASettings(rank: 2, alpha: 4, targets: [.router]))
        var rng = SeededRandom(seed: 5)
        let adapters = layout.adapters(from: (0..<layout.count).map { _ in rng.uniform(-0.5, 0.5) })
        let plain = try model.forward(Self.sequences, options: ForwardOptions(logits: .lastToken, routing: .allPositions))
        let adapted = try model.forward(Self.sequences, adapters: adapters, options: ForwardOptions(logits: .lastToken, routing: .allPositions))
        let moved = zip(plain.routing.flatMap(\.logits.values), adapted.routing.flatMap(\.logits.values)).map { abs($0 - $1) }.max()!
        #expect(moved > 1e-2, "the router adapter should move the router logits (moved \(moved))")
    }

    @Test func routerOnADenseModelIsRefused() throws {
        let model = TransformerModel.random(config: TransformerModel.tinyTestConfig, seed: 3)
        #expect { try model.config.checkLoRATargets([.query, .router]) } throws: { error in
            let line = String(describing: error)
            return line.contains("'router'") && line.contains("dense") && !line.contains("\n")
        }
    }
}
