// YaRN RoPE from config.json against transformers' _compute_yarn_parameters (yarn_reference.json from
// tools/make_tiny_moe.py): the inverse frequencies and the cos/sin multiplier on five configs, read the way a
// model's config.json is read (truncate given false and left to its default true, an explicit
// attention_factor, mscale with mscale_all_dim).
import Foundation
import Kernels
import ModelFiles
import Testing
import Transformer

@Suite struct YarnRopeTests {
    struct Case: Decodable {
        var name: String
        var head_dim: Int
        var rope_theta: Double
        var parameters: [String: JSONNumberOrBool]
        var inv_freq_bits: [UInt32]
        var attention_factor: Double
    }
    enum JSONNumberOrBool: Decodable {
        case number(Double), bool(Bool)
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let b = try? c.decode(Bool.self) { self = .bool(b) } else { self = .number(try c.decode(Double.self)) }
        }
        var json: Any { switch self { case let .number(v): return v; case let .bool(b): return b } }
    }
    struct Reference: Decodable { var cases: [Case] }

    @Test func inverseFrequenciesAndMagnitudeAreTransformers() throws {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/moe/yarn_reference.json", withExtension: nil))
        let reference = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
        #expect(reference.cases.count == 5)
        for c in reference.cases {
            var rope: [String: Any] = ["rope_type": "yarn", "rope_theta": c.rope_theta]
            for (k, v) in c.parameters { rope[k] = v.json }
            let json: [String: Any] = ["architectures": ["LlamaForCausalLM"], "vocab_size": 16, "hidden_size": 2 * c.head_dim,
                                       "intermediate_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2,
                                       "head_dim": c.head_dim, "max_position_embeddings": 131072, "rope_parameters": rope]
            let hf = try HFModelConfig.decode(try JSONSerialization.data(withJSONObject: json), name: c.name)
            let config = try ModelConfig.fromHuggingFace(hf, source: c.name)
            let rotary = config.makeRotaryEmbedding()
            let ulps = zip(rotary.inverseFrequencies, c.inv_freq_bits).map { a, b in
                abs(Int64(a.bitPattern) - Int64(b))
            }.max() ?? 0
            #expect(rotary.inverseFrequencies.count == c.inv_freq_bits.count)
            #expect(ulps <= 1, "\(c.name): inverse frequencies differ by \(ulps) ulp")
            #expect(abs(Double(rotary.magnitude) - c.attention_factor) < 1e-6, "\(c.name): magnitude \(rotary.magnitude) vs \(c.attention_factor)")
        }
    }
}
