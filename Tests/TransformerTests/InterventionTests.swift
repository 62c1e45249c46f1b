// Interventions on the forward pass against transformers doing the same edit with PyTorch hooks
// (tools/make_hook_reference.py): patching a block's output at one position with another prompt's,
// adding a steering vector at every position, zeroing a head before o_proj — on a tiny Llama and a tiny
// Gemma 3 whose window makes one patch reach the last position only through later blocks. Then the
// properties that need no reference: no intervention changes nothing, projection removes the direction.
import Foundation
import Kernels
import Testing
import Transformer

struct HookReference: Decodable {
    struct Baseline: Decodable { var a_last_logprobs: [Double]; var b_last_logprobs: [Double] }
    struct Patch: Decodable { var layer: Int; var position: Int; var last_logprobs: [Double] }
    struct Steering: Decodable { var layer: Int; var vector: [Float]; var last_logprobs: [Double] }
    struct Ablation: Decodable { var layer: Int; var head: Int; var last_logprobs: [Double] }
    struct Model: Decodable {
        var name: String
        var folder: String
        var prompt_a: [Int]
        var prompt_b: [Int]
        var baseline: Baseline
        var patches: [Patch]
        var steering: [Steering]
        var head_ablation: [Ablation]
    }
    var models: [Model]
}

@Suite struct InterventionTests {
    static let reference: HookReference = {
        let url = Bundle.module.url(forResource: "Fixtures/families/hooks_reference.json", withExtension: nil)!
        return try! JSONDecoder().decode(HookReference.self, from: Data(contentsOf: url))
    }()

    func maxDifference(_ logits: Matrix, _ expected: [Double]) -> Double {
        zip(logSoftmax(logits, row: 0), expected).map { abs($0 - $1) }.max()!
    }

    @Test("patching, steering and head ablation equal transformers' hooks", arguments: ["tiny_llama_hf", "tiny_gemma3"])
    func matchesTransformersHooks(_ name: String) throws {
        let ref = try #require(Self.reference.models.first { $0.name == name })
        let model = try ModelLoader.load(try #require(Bundle.module.url(forResource: "Fixtures/\(ref.folder)", withExtension: nil)).path).model
        let base = try model.forward([ref.prompt_a], logits: .lastToken).logits
        #expect(maxDifference(base, ref.baseline.a_last_logprobs) < 1e-4)
        let donor = try model.forward([ref.prompt_b], capture: .allPositions, logits: .none)
        var worst = 0.0
        for p in ref.patches {
            let vector = donor.hidden[p.layer + 1].row(p.position)
            let edit = Intervention(.residual(layer: p.layer), .replace(vector), position: p.position)
            let logits = try model.forward([ref.prompt_a], options: ForwardOptions(interventions: [edit])).logits
            worst = max(worst, maxDifference(logits, p.last_logprobs))
            // The patch did something the reference also saw.
            #expect(maxDifference(logits, ref.baseline.a_last_logprobs) > 1e-3)
        }
        for s in ref.steering {
            let edit = Intervention(.residual(layer: s.layer), .add(s.vector))
            worst = max(worst, maxDifference(try model.forward([ref.prompt_a], options: ForwardOptions(interventions: [edit])).logits, s.last_logprobs))
        }
        for a in ref.head_ablation {
            let edit = Intervention(.head(layer: a.layer, head: a.head), .zero)
            worst = max(worst, maxDifference(try model.forward([ref.prompt_a], options: ForwardOptions(interventions: [edit])).logits, a.last_logprobs))
        }
        print("\(name): interventions vs transformers hooks, largest log-prob difference \(worst)")
        #expect(worst < 1e-4)
    }

    let model = TransformerModel.random(config: TransformerModel.tinyAllFeaturesConfig, seed: 3)
    let sequences = [[1, 5, 9, 2, 33, 7, 7], [4, 4, 40]]

    @Test func noInterventionsChangeNothing() throws {
        let plain = try model.forward(sequences, capture: .allPositions, logits: .allPositions)
        let hooked = try model.forward(sequences, options: ForwardOptions(capture: .allPositions, logits: .allPositions, interventions: []))
        #expect(plain.logits == hooked.logits && plain.hidden == hooked.hidden)
    }

    @Test func projectingOutRemovesTheDirectionAtThatLayerOnly() throws {
        let c = model.config
        var direction = [Float](repeating: 0, count: c.hiddenSize)
        for j in 0..<c.hiddenSize { direction[j] = Float(j % 5) - 2 }
        let edit = Intervention(.residual(layer: 1), .projectOut(direction), sequence: 0)
        let r = try model.forward(sequences, options: ForwardOptions(capture: .allPositions, interventions: [edit]))
        let plain = try model.forward(sequences, capture: .allPositions)
        let norm = direction.reduce(0) { $0 + $1 * $1 }.squareRoot()
        for t in 0..<sequences[0].count {
            let h = r.hidden[2].row(t)
            let along = zip(h, direction).reduce(0) { $0 + $1.0 * $1.1 } / norm
            #expect(abs(along) < 1e-4)
        }
        // Layers before are untouched, and the other sequence is untouched everywhere.
        #expect(r.hidden[1] == plain.hidden[1])
        let second = r.rowOffsets[1]
        #expect(r.hidden[3].row(second) == plain.hidden[3].row(second))
    }

    @Test func badInterventionsAreRefused() throws {
        let c = model.config
        let bad: [Intervention] = [
            Intervention(.residual(layer: c.layerCount), .zero),
            Intervention(.residual(layer: 0), .add([1, 2])),
            Intervention(.head(layer: 0, head: c.headCount), .zero),
            Intervention(.residual(layer: 0), .projectOut(Array(repeating: 0, count: c.hiddenSize))),
            Intervention(.residual(layer: 0), .zero, sequence: 5),
        ]
        for edit in bad {
            #expect(throws: ModelError.self) { try model.forward(sequences, options: ForwardOptions(interventions: [edit])) }
        }
    }
}
