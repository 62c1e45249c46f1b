// config.json of LlamaForCausalLM: SmolLM2- and Llama-3.2-shaped files, defaults, and each malformed
// field reported by file and name. Also the error's one-line format and AtomicWrite.
import Foundation
import Testing
import ModelFiles

struct HFModelConfigTests {
    static let smolLM2 = """
    {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 49152, "hidden_size": 576,
     "intermediate_size": 1536, "num_hidden_layers": 30, "num_attention_heads": 9, "num_key_value_heads": 3,
     "rms_norm_eps": 1e-05, "rope_theta": 100000, "rope_scaling": null, "tie_word_embeddings": true,
     "max_position_embeddings": 8192, "bos_token_id": 0, "eos_token_id": 0, "head_dim": 64}
    """

    func config(_ json: String) throws -> HFModelConfig {
        try HFModelConfig.decode(Data(json.utf8), name: "config.json")
    }

    @Test func smolLM2Shape() throws {
        let c = try config(Self.smolLM2)
        #expect(c.architectures == ["LlamaForCausalLM"] && c.modelType == "llama")
        #expect(c.vocabSize == 49152 && c.hiddenSize == 576 && c.intermediateSize == 1536)
        #expect(c.numHiddenLayers == 30 && c.numAttentionHeads == 9 && c.numKeyValueHeads == 3)
        #expect(c.headDim == 64 && c.resolvedHeadDim == 64)
        #expect(c.rmsNormEps == 1e-5 && c.ropeTheta == 100000 && c.ropeScaling == nil)
        #expect(c.tieWordEmbeddings && c.maxPositionEmbeddings == 8192)
        #expect(c.bosTokenId == 0 && c.eosTokenIds == [0])
    }

    @Test func llama3ScalingAndEosList() throws {
        let c = try config("""
        {"vocab_size": 128256, "hidden_size": 2048, "intermediate_size": 8192, "num_hidden_layers": 16,
         "num_attention_heads": 32, "num_key_value_heads": 8, "rope_theta": 500000.0,
         "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                          "original_max_position_embeddings": 8192, "rope_type": "llama3"},
         "eos_token_id": [128001, 128008, 128009], "bos_token_id": 128000}
        """)
        #expect(c.ropeScaling == .init(ropeType: "llama3", factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192))
        #expect(c.eosTokenIds == [128001, 128008, 128009] && c.ropeTheta == 500000)
        #expect(c.headDim == nil && c.resolvedHeadDim == 64)
        // Defaults of transformers' ModelConfig where the file is silent.
        #expect(c.rmsNormEps == 1e-6 && !c.tieWordEmbeddings && c.maxPositionEmbeddings == 2048 && c.architectures.isEmpty)
    }

    @Test func transformers5RopeParameters() throws {
        let c = try config("""
        {"vocab_size": 10, "hidden_size": 8, "intermediate_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2,
         "rope_parameters": {"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0, "low_freq_factor": 1.0,
                             "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}}
        """)
        #expect(c.ropeTheta == 500000 && c.ropeScaling?.factor == 8 && c.numKeyValueHeads == 2)
    }

    @Test func malformedConfigsNameFileAndField() {
        func without(_ key: String) -> String {
            Self.smolLM2.replacingOccurrences(of: "\"\(key)\"", with: "\"removed_\(key)\"")
        }
        let cases: [(String, [String])] = [
            (without("hidden_size"), ["hidden_size", "missing", "re-download"]),
            (without("num_hidden_layers"), ["num_hidden_layers", "missing"]),
            (Self.smolLM2.replacingOccurrences(of: "\"hidden_size\": 576", with: "\"hidden_size\": \"576\""),
             ["hidden_size", "must be a whole number", "a string"]),
            (Self.smolLM2.replacingOccurrences(of: "\"hidden_size\": 576", with: "\"hidden_size\": 57.5"), ["hidden_size", "whole number"]),
            (Self.smolLM2.replacingOccurrences(of: "\"hidden_size\": 576", with: "\"hidden_size\": -576"), ["hidden_size"]),
            (Self.smolLM2.replacingOccurrences(of: "\"tie_word_embeddings\": true", with: "\"tie_word_embeddings\": 1"),
             ["tie_word_embeddings", "true or false"]),
            (Self.smolLM2.replacingOccurrences(of: "\"num_key_value_heads\": 3", with: "\"num_key_value_heads\": 4"),
             ["num_key_value_heads", "does not divide"]),
            (Self.smolLM2.replacingOccurrences(of: "\"eos_token_id\": 0", with: "\"eos_token_id\": [0, \"x\"]"), ["eos_token_id"]),
            (Self.smolLM2.replacingOccurrences(of: "\"rope_scaling\": null", with: "\"rope_scaling\": {\"factor\": 2}"),
             ["rope_scaling.rope_type", "missing"]),
            (Self.smolLM2.replacingOccurrences(of: "\"rope_scaling\": null", with: "\"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 2}"),
             ["rope_scaling", "low_freq_factor"]),
            (Self.smolLM2.replacingOccurrences(of: "\"rope_scaling\": null", with: "\"rope_scaling\": {\"rope_type\": \"linear\", \"factor\": true}"),
             ["rope_scaling.factor", "a boolean"]),
            ("{\"hidden_size\": ", ["not valid JSON"]),
            ("[]", ["not an object"]),
        ]
        for (json, mentions) in cases {
            expectRejection("config.json") {
                do { _ = try config(json) } catch let error as ModelFileError {
                    for mention in mentions {
                        #expect(error.description.contains(mention), "“\(error.description)” should mention “\(mention)”")
                    }
                    throw error
                }
            }
        }
    }

    @Test func loadsFromDisk() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("config.json")
        try AtomicWrite.write(Data(Self.smolLM2.utf8), to: url)
        #expect(try HFModelConfig.load(url).hiddenSize == 576)
        expectRejection("missing.json", "no such file") { _ = try HFModelConfig.load(folder.appendingPathComponent("missing.json")) }
    }
}

struct ModelFileErrorTests {
    @Test func oneLineFormat() {
        let full = ModelFileError(file: "model.gguf", offset: 1234, field: "tensor 'blk.0.attn_q.weight'",
                                  reason: "data runs past the end of the file (size 9000)")
        #expect(full.description == "model.gguf: at byte 1234 (tensor 'blk.0.attn_q.weight'): data runs past the end of the file (size 9000)")
        #expect(ModelFileError(file: "config.json", field: "hidden_size", reason: "is missing").description == "config.json: hidden_size: is missing")
        #expect(ModelFileError(file: "a.gguf", offset: 0, reason: "bad").description == "a.gguf: at byte 0: bad")
        #expect(ModelFileError(file: "a", reason: "x\ny").description == "a: x y")
    }
}
