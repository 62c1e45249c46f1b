// The tiny random Mixtral and GPT-OSS models of tools/make_tiny_moe.py against transformers (float32,
// eager): last-position log-probabilities, residual norms at every position, greedy continuations, and
// at every layer and position the router's chosen experts (identical), their weights and the router logits.
// From the Hugging Face folders and from the GGUF files gguf-py wrote (Mixtral as llama.cpp's `llama` with
// experts, full attention; GPT-OSS with MXFP4 experts, against the model with those experts dequantised).
import Foundation
import Kernels
import Testing
import Transformer

struct MoEReference: Decodable {
    struct Router: Decodable {
        var layer: Int
        var top_k: [[Int]]
        var weights: [[Double]]
        var logits: [[Double]]
    }
    struct Prompt: Decodable {
        var ids: [Int]
        var last_logprobs: [Double]
        var hidden_l2: [[Double]]?
        var greedy_ids: [Int]
        var router: [Router]
    }
    struct Model: Decodable {
        var name: String
        var family: String
        var folder: String
        var gguf: String
        var layer_types: [String]
        var prompts: [Prompt]
        var gguf_prompts: [Prompt]
        var mxfp4_folder: String?
        var mxfp4_prompts: [Prompt]?
    }
    var models: [Model]

    static let shared: MoEReference = {
        let url = Bundle.module.url(forResource: "Fixtures/moe/tiny_moe_reference.json", withExtension: nil)!
        return try! JSONDecoder().decode(MoEReference.self, from: Data(contentsOf: url))
    }()

    static func path(_ relative: String) throws -> String {
        try #require(Bundle.module.url(forResource: "Fixtures/moe/\(relative)", withExtension: nil)).path
    }

    static func model(_ name: String) -> Model { shared.models.first { $0.name == name }! }
}

/// Worst differences against one reference set.
struct MoEComparison {
    var logprob = 0.0, norm = 0.0, routerWeight = 0.0, routerLogit = 0.0
    var routingSame = true, greedySame = true

    init(_ loaded: LoadedModel, _ prompts: [MoEReference.Prompt]) throws {
        for p in prompts {
            let r = try loaded.model.forward([p.ids], options: ForwardOptions(capture: .allPositions, logits: .lastToken, routing: .allPositions))
            for (a, b) in zip(logSoftmax(r.logits, row: 0), p.last_logprobs) { logprob = max(logprob, abs(a - b)) }
            if let norms = p.hidden_l2 {
                for (layer, row) in norms.enumerated() {
                    for (t, n) in row.enumerated() {
                        let ours = r.hidden[layer].row(t).reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
                        norm = max(norm, abs(ours - n) / max(n, 1e-6))
                    }
                }
            }
            if r.routing.count != p.router.count { routingSame = false }
            for (ours, theirs) in zip(r.routing, p.router) {
                if ours.layer != theirs.layer { routingSame = false }
                for t in 0..<p.ids.count {
                    if Array(ours.experts(row: t)) != theirs.top_k[t] { routingSame = false }
                    for (a, b) in zip(ours.weights(row: t), theirs.weights[t]) { routerWeight = max(routerWeight, abs(Double(a) - b)) }
                    for (a, b) in zip(ours.logits.row(t), theirs.logits[t]) { routerLogit = max(routerLogit, abs(Double(a) - b)) }
                }
            }
            let greedy = try loaded.model.generateGreedy(prompts: [p.ids], options: GenerationOptions(maxTokens: p.greedy_ids.count))
            greedySame = greedySame && greedy[0] == p.greedy_ids
        }
    }

    func expectMatch(_ what: String) {
        #expect(logprob < 1e-4, "\(what): last-position log-probs differ by \(logprob)")
        #expect(norm < 1e-5, "\(what): residual norms differ by \(norm) (relative)")
        #expect(routingSame, "\(what): chosen experts differ from transformers'")
        #expect(routerWeight < 1e-5, "\(what): routing weights differ by \(routerWeight)")
        #expect(routerLogit < 1e-5, "\(what): router logits differ by \(routerLogit)")
        #expect(greedySame, "\(what): greedy tokens differ from transformers'")
        print("\(what): log-prob \(logprob), residual norm \(norm), router weight \(routerWeight), router logit \(routerLogit)")
    }
}

@Suite struct MixtureOfExpertsReferenceTests {
    @Test("the Hugging Face folders match transformers", arguments: ["tiny_mixtral", "tiny_gpt_oss"])
    func folders(_ name: String) throws {
        let e = MoEReference.model(name)
        let loaded = try ModelLoader.load(try MoEReference.path(e.folder))
        #expect(loaded.model.config.architecture == (e.family == "mixtral" ? .mixtral : .gptOss))
        #expect(loaded.model.config.layerKinds.map(\.rawValue) == e.layer_types)
        try MoEComparison(loaded, e.prompts).expectMatch("\(name) folder")
    }

    @Test("the GGUF files match their references", arguments: ["tiny_mixtral", "tiny_gpt_oss"])
    func ggufFiles(_ name: String) throws {
        let e = MoEReference.model(name)
        let loaded = try ModelLoader.load(try MoEReference.path(e.gguf))
        #expect(loaded.model.config.architecture == (e.family == "mixtral" ? .mixtral : .gptOss))
        try MoEComparison(loaded, e.gguf_prompts).expectMatch("\(name) GGUF")
    }

    @Test func gptOssMXFP4SafetensorsMatchTransformers() throws {
        // The released checkpoints' layout: MXFP4 experts (U8 blocks and scales, transformers' nibble order).
        let e = MoEReference.model("tiny_gpt_oss")
        let loaded = try ModelLoader.load(try MoEReference.path(try #require(e.mxfp4_folder)))
        #expect(loaded.tensorTypes["model.layers.0.mlp.experts.gate_up_proj_blocks"] == "U8")
        try MoEComparison(loaded, try #require(e.mxfp4_prompts)).expectMatch("tiny_gpt_oss MXFP4 safetensors")
    }

    @Test func routingCaptureAtTheLastTokenIsTheLastRowOfEveryPosition() throws {
        let loaded = try ModelLoader.load(try MoEReference.path("tiny_gpt_oss"))
        let prompts = [[5, 6, 7, 8, 9], [10, 11, 12]]
        let all = try loaded.model.forward(prompts, options: ForwardOptions(routing: .allPositions))
        let last = try loaded.model.forward(prompts, options: ForwardOptions(routing: .lastToken))
        #expect(all.routing.count == 3 && last.routing.count == 3)
        for (a, l) in zip(all.routing, last.routing) {
            #expect(l.logits.rows == 2 && a.logits.rows == 8)
            #expect(Array(l.experts(row: 0)) == Array(a.experts(row: 4)))
            #expect(Array(l.experts(row: 1)) == Array(a.experts(row: 7)))
            #expect(l.logits.row(1) == a.logits.row(7))
        }
        let dense = try ModelLoader.load(try FamilyReference.path("tiny_qwen2"))
        #expect(try dense.model.forward(prompts, options: ForwardOptions(routing: .allPositions)).routing.isEmpty)
    }
}
