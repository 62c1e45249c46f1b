// The tiny random Qwen2, Qwen3, Mistral and Gemma 3 models of tools/make_tiny_families.py, loaded from the
// folders (config.json in the transformers-5 and the hub's transformers-4 form) and GGUF files that
// transformers and gguf-py wrote, against transformers' last-position log-probabilities, per-layer
// residual norms at every position (embed and each block's output, before the final norm) and greedy
// continuations; every prompt set includes one longer than the sliding window.
import Foundation
import Kernels
import Testing
import Transformer

struct FamilyReference: Decodable {
    struct Prompt: Decodable {
        var ids: [Int]
        var last_logprobs: [Double]
        var hidden_l2: [[Double]]
        var greedy_ids: [Int]
    }
    struct GGUFReading: Decodable {
        var logprobs_full_attention: [[Double]]?
    }
    struct Model: Decodable {
        var name: String
        var family: String
        var folders: [String]
        var gguf: String
        var layer_types: [String]
        var prompts: [Prompt]
        var gguf_reading: GGUFReading
    }
    var models: [Model]

    static func load() throws -> FamilyReference {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/families/tiny_families_reference.json", withExtension: nil))
        return try JSONDecoder().decode(FamilyReference.self, from: Data(contentsOf: url))
    }

    static func path(_ relative: String) throws -> String {
        try #require(Bundle.module.url(forResource: "Fixtures/families/\(relative)", withExtension: nil)).path
    }
}

/// log_softmax of one logit row, in Double.
func logSoftmax(_ logits: Matrix, row: Int) -> [Double] {
    let values = (0..<logits.cols).map { Double(logits[row, $0]) }
    let m = values.max()!
    let lse = m + log(values.reduce(0) { $0 + exp($1 - m) })
    return values.map { $0 - lse }
}

@Suite struct FamilyReferenceTests {
    static let reference = try! FamilyReference.load()
    static let names = reference.models.map(\.name)

    func entry(_ name: String) -> FamilyReference.Model { Self.reference.models.first { $0.name == name }! }

    /// Largest differences of (log-prob, relative residual norm) over every prompt, and whether greedy ids match.
    func compare(_ loaded: LoadedModel, _ e: FamilyReference.Model, logprobs: [[Double]]? = nil) throws -> (logprob: Double, norm: Double, greedy: Bool) {
        var worstLogprob = 0.0, worstNorm = 0.0, greedySame = true
        for (i, p) in e.prompts.enumerated() {
            let r = try loaded.model.forward([p.ids], capture: .allPositions, logits: .lastToken)
            let expected = logprobs?[i] ?? p.last_logprobs
            for (a, b) in zip(logSoftmax(r.logits, row: 0), expected) { worstLogprob = max(worstLogprob, abs(a - b)) }
            #expect(r.hidden.count == p.hidden_l2.count)
            for (layer, norms) in p.hidden_l2.enumerated() {
                for (t, n) in norms.enumerated() {
                    let row = r.hidden[layer].row(t)
                    let ours = row.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
                    worstNorm = max(worstNorm, abs(ours - n) / max(n, 1e-6))
                }
            }
            if logprobs == nil {
                let greedy = try loaded.model.generateGreedy(prompts: [p.ids], options: GenerationOptions(maxTokens: p.greedy_ids.count))
                greedySame = greedySame && greedy[0] == p.greedy_ids
            }
        }
        return (worstLogprob, worstNorm, greedySame)
    }

    @Test("each family's Hugging Face folders match transformers", arguments: names)
    func folders(_ name: String) throws {
        let e = entry(name)
        for folder in e.folders {
            let loaded = try ModelLoader.load(try FamilyReference.path(folder))
            // transformers' MistralConfig reports no layer types; its sliding_window applies to every layer.
            let kinds = e.family == "mistral" ? Array(repeating: "sliding_attention", count: e.layer_types.count) : e.layer_types
            #expect(loaded.model.config.layerKinds.map(\.rawValue) == kinds, "\(folder): layer kinds")
            let d = try compare(loaded, e)
            print("\(folder) vs transformers: log-prob \(d.logprob), residual norm (relative) \(d.norm), greedy identical: \(d.greedy)")
            #expect(d.logprob < 1e-4, "\(folder): log-probs differ by \(d.logprob)")
            #expect(d.norm < 1e-5, "\(folder): residual norms differ by \(d.norm)")
            #expect(d.greedy, "\(folder): greedy continuation differs")
        }
    }

    @Test("each family's GGUF (as llama.cpp's converter writes it) matches transformers",
          arguments: ["tiny_qwen2", "tiny_qwen3", "tiny_gemma3"])
    func gguf(_ name: String) throws {
        let e = entry(name)
        let loaded = try ModelLoader.load(try FamilyReference.path(e.gguf))
        let d = try compare(loaded, e)
        print("\(e.gguf) vs transformers: log-prob \(d.logprob), residual norm (relative) \(d.norm), greedy identical: \(d.greedy)")
        #expect(d.logprob < 1e-4 && d.norm < 1e-5 && d.greedy)
    }

    @Test("a Mistral GGUF (arch llama, no window key) runs with full attention, as llama.cpp runs it")
    func mistralGGUFIsFullAttention() throws {
        let e = entry("tiny_mistral")
        let loaded = try ModelLoader.load(try FamilyReference.path(e.gguf))
        #expect(loaded.model.config.architecture == .llama && !loaded.model.config.layerKinds.contains(.sliding))
        let full = try #require(e.gguf_reading.logprobs_full_attention)
        let d = try compare(loaded, e, logprobs: full)
        #expect(d.logprob < 1e-4, "full-attention log-probs differ by \(d.logprob)")
    }

    @Test("a Gemma 3 GGUF whose head_dim the missing query_pre_attn_scalar cannot be read for is refused")
    func gemmaGGUFWithUnreadableScaleIsRefused() throws {
        let path = try FamilyReference.path("tiny_gemma3_scaled.gguf")
        do {
            _ = try ModelLoader.load(path)
            Issue.record("loaded a Gemma 3 GGUF with head_dim 16, whose attention scale the file does not give")
        } catch let error as ModelError {
            #expect("\(error)".contains("gemma3.attention.key_length"), "\(error)")
        }
    }

    @Test("GGUF and safetensors of the same family weights give the same logits", arguments: names.filter { $0 != "tiny_mistral" && $0 != "tiny_gemma3_scaled" })
    func formatsAgree(_ name: String) throws {
        let e = entry(name)
        let a = try ModelLoader.load(try FamilyReference.path(e.folders[0])).model
        let b = try ModelLoader.load(try FamilyReference.path(e.gguf)).model
        let ids = e.prompts.last!.ids
        let la = try a.forward([ids], logits: .allPositions).logits, lb = try b.forward([ids], logits: .allPositions).logits
        var worst: Float = 0
        for i in 0..<la.count { worst = max(worst, abs(la.values[i] - lb.values[i])) }
        #expect(worst < 1e-5, "\(name): GGUF vs safetensors logits differ by \(worst)")
    }
}
