// The tiny random Llamas of tools/make_tiny_llama.py, loaded from the files transformers and gguf-py wrote
// (GGUF F32 and F16 with llama.cpp's Q/K row order, a safetensors folder, one with llama3 RoPE scaling and an
// untied lm_head), against transformers' full logits at every position, and their tokenizers' ids.
import Foundation
import Transformer
import Testing

struct TinyLlamaReference: Decodable {
    struct Config: Decodable {
        var hidden_size: Int
        var intermediate_size: Int
        var num_hidden_layers: Int
        var num_attention_heads: Int
        var num_key_value_heads: Int
        var head_dim: Int
        var vocab_size: Int
        var rope_theta: Double
        var rms_norm_eps: Double
        var tie_word_embeddings: Bool
    }
    struct Sequence: Decodable {
        var text: String
        var ids: [Int]
        var logits: [[Double]]
    }
    struct Model: Decodable {
        var name: String
        var files: [String]
        var weights: String
        var config: Config
        var sequences: [Sequence]
    }
    var models: [Model]

    static func load() throws -> TinyLlamaReference {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/tiny_llama_reference.json", withExtension: nil))
        return try JSONDecoder().decode(TinyLlamaReference.self, from: Data(contentsOf: url))
    }

    static func fixture(_ relative: String) throws -> String {
        try #require(Bundle.module.url(forResource: "Fixtures/\(relative)", withExtension: nil)).path
    }
}

@Suite struct TinyLlamaReferenceTests {
    /// The largest |Lazarus − transformers| over every logit of every position of every sequence.
    func largestLogitDifference(_ loaded: LoadedModel, _ entry: TinyLlamaReference.Model) throws -> Float {
        var worst: Float = 0
        for seq in entry.sequences {
            let logits = try loaded.model.forward([seq.ids], logits: .allPositions).logits
            #expect(logits.rows == seq.ids.count && seq.logits.count == seq.ids.count)
            #expect(logits.cols == seq.logits.first?.count)
            for (t, row) in seq.logits.enumerated() {
                for (v, expected) in row.enumerated() { worst = max(worst, abs(logits[t, v] - Float(expected))) }
            }
        }
        return worst
    }

    func checkConfig(_ loaded: LoadedModel, _ c: TinyLlamaReference.Config) {
        let m = loaded.model.config
        #expect(m.hiddenSize == c.hidden_size && m.intermediateSize == c.intermediate_size && m.layerCount == c.num_hidden_layers)
        #expect(m.headCount == c.num_attention_heads && m.kvHeadCount == c.num_key_value_heads && m.headDim == c.head_dim)
        #expect(m.vocabularySize == c.vocab_size && m.ropeTheta == c.rope_theta && m.tiedEmbeddings == c.tie_word_embeddings)
        #expect(abs(Double(m.rmsNormEps) - c.rms_norm_eps) < 1e-12)
    }

    /// Each file listed for a float32 entry (the safetensors folder, and the F32 GGUF of the same weights).
    @Test(arguments: ["tiny_llama_hf", "tiny_llama_hf_scaled"])
    func float32FilesMatchTransformers(name: String) throws {
        let ref = try TinyLlamaReference.load()
        let entry = try #require(ref.models.first { $0.name == name })
        #expect(entry.weights == "float32")
        for file in entry.files {
            // "tiny_llama_hf/model.safetensors" names the folder; a .gguf names itself.
            let path = try TinyLlamaReference.fixture(file.hasSuffix(".gguf") ? file : String(file.split(separator: "/")[0]))
            let loaded = try ModelLoader.load(path)
            #expect(loaded.format == (file.hasSuffix(".gguf") ? .gguf : .safetensors))
            checkConfig(loaded, entry.config)
            #expect((loaded.model.config.ropeScaling != nil) == name.hasSuffix("scaled"), "\(file) RoPE scaling")
            for seq in entry.sequences {
                #expect(loaded.tokenizer.encode(seq.text) == seq.ids, "\(file): ids of \(seq.text.debugDescription)")
            }
            let worst = try largestLogitDifference(loaded, entry)
            print("tiny Llama \(file) vs transformers: largest logit difference \(worst)")
            #expect(worst <= 1e-4, "\(file): largest logit difference \(worst)")
        }
    }

    /// tiny_llama_f16.gguf against transformers on the same weights rounded to float16: the rounding is in
    /// the reference too, so the float32 tolerance holds; against the float32 logits only the rounding's size.
    @Test func float16GGUFMatchesTransformersOnRoundedWeights() throws {
        let ref = try TinyLlamaReference.load()
        let entry = try #require(ref.models.first { $0.name == "tiny_llama_hf (f16)" })
        #expect(entry.files == ["tiny_llama_f16.gguf"])
        let loaded = try ModelLoader.load(try TinyLlamaReference.fixture("tiny_llama_f16.gguf"))
        #expect(loaded.tensorTypeCounts["F16"] ?? 0 > 0)
        checkConfig(loaded, entry.config)
        for seq in entry.sequences { #expect(loaded.tokenizer.encode(seq.text) == seq.ids) }
        let worst = try largestLogitDifference(loaded, entry)
        let fromFloat32 = try largestLogitDifference(loaded, try #require(ref.models.first { $0.name == "tiny_llama_hf" }))
        print("tiny Llama F16 GGUF vs transformers (f16-rounded weights): \(worst); vs the float32 model: \(fromFloat32)")
        #expect(worst <= 1e-4, "largest logit difference \(worst)")
        // Rounding the 2-D weights to float16 (relative 2^-11) moves these logits by a few 1e-3 (3.5e-3 measured).
        #expect(fromFloat32 > worst && fromFloat32 < 2e-2, "F16 against the float32 logits: \(fromFloat32)")
    }
}
