// The loader on small models the tests write themselves: a random Llama saved as GGUF (Q/K permuted as
// llama.cpp's converter does, F32 and F16) and as a Hugging Face folder (config.json, safetensors,
// tokenizer.json) must load back to the same logits, and broken files must fail with a clear error.
import Foundation
import Kernels
import Transformer
import ModelFiles
import Testing
import Tokenizer

/// Writes random models to temporary files in the two formats.
enum TinyModelFiles {
    static let tokenizerJSON = Bundle.module.url(forResource: "Fixtures/tiny_smollm_tokenizer/tokenizer.json", withExtension: nil)!

    static func config(tied: Bool, vocabulary: Int) -> ModelConfig {
        var c = TransformerModel.tinyTestConfig
        c.vocabularySize = vocabulary
        c.tiedEmbeddings = tied
        return c
    }

    static func temporaryFolder(_ name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lazarus-tests-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// The tokenizer fixture's vocabulary in id order, its merges and which ids are added (special) tokens.
    static func vocabulary() throws -> (tokens: [String], merges: [String], special: Set<Int>) {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: tokenizerJSON)) as! [String: Any]
        let model = json["model"] as! [String: Any]
        let vocab = model["vocab"] as! [String: Int]
        var tokens = Array(repeating: "", count: vocab.count)
        for (t, id) in vocab { tokens[id] = t }
        let merges = (model["merges"] as! [Any]).map { m -> String in
            if let s = m as? String { return s }
            return (m as! [String]).joined(separator: " ")
        }
        let special = Set((json["added_tokens"] as! [[String: Any]]).map { $0["id"] as! Int })
        return (tokens, merges, special)
    }

    /// A GGUF file of `model` in llama.cpp's conventions for its architecture: `<arch>.*` keys, ggml dims
    /// fastest-first, Q/K rows permuted for the archs llama.cpp permutes, norms (Gemma's already `1 + w`) as F32.
    static func writeGGUF(_ model: TransformerModel, to url: URL, halfPrecision: Bool = false,
                          metadata overrides: [String: GGUFValue] = [:]) throws {
        let c = model.config
        let names = TensorNames(c.architecture)
        let arch = c.architecture.ggufName ?? "llama"
        let vocab = try vocabulary()
        var w = GGUFWriter()
        w.set("general.architecture", .string(arch))
        w.set("general.name", .string("tiny-test"))
        w.set("\(arch).block_count", .uint32(UInt32(c.layerCount)))
        w.set("\(arch).embedding_length", .uint32(UInt32(c.hiddenSize)))
        w.set("\(arch).feed_forward_length", .uint32(UInt32(c.intermediateSize)))
        w.set("\(arch).attention.head_count", .uint32(UInt32(c.headCount)))
        w.set("\(arch).attention.head_count_kv", .uint32(UInt32(c.kvHeadCount)))
        w.set("\(arch).attention.key_length", .uint32(UInt32(c.headDim)))
        w.set("\(arch).attention.value_length", .uint32(UInt32(c.headDim)))
        w.set("\(arch).rope.freq_base", .float32(Float(c.ropeTheta)))
        w.set("\(arch).attention.layer_norm_rms_epsilon", .float32(c.rmsNormEps))
        w.set("\(arch).context_length", .uint32(UInt32(c.contextLength)))
        if let window = c.slidingWindow { w.set("\(arch).attention.sliding_window", .uint32(UInt32(window))) }
        w.set("tokenizer.ggml.model", .string("gpt2"))
        w.set("tokenizer.ggml.pre", .string("smollm"))
        w.set("tokenizer.ggml.tokens", .array(vocab.tokens.map { .string($0) }))
        w.set("tokenizer.ggml.merges", .array(vocab.merges.map { .string($0) }))
        w.set("tokenizer.ggml.token_type", .array(vocab.tokens.indices.map { .int32(vocab.special.contains($0) ? 3 : 1) }))
        w.set("tokenizer.ggml.eos_token_id", .uint32(0))
        w.set("tokenizer.ggml.bos_token_id", .uint32(0))

        func add(_ t: ModelTensor, _ m: Matrix) {
            if m.rows == 1 {
                // Vectors (norms, biases) stay F32, as llama.cpp writes them.
                w.addFloat32Tensor(name: names.gguf(t), shape: [m.cols], values: m.values)
            } else if halfPrecision {
                var bytes = Data(capacity: m.values.count * 2)
                for v in m.values { withUnsafeBytes(of: HalfFloat.fromFloat(v).littleEndian) { bytes.append(contentsOf: $0) } }
                w.addTensor(name: names.gguf(t), dimensions: [m.cols, m.rows], type: .f16, bytes: bytes)
            } else {
                w.addFloat32Tensor(name: names.gguf(t), shape: [m.rows, m.cols], values: m.values)
            }
        }
        add(.embedding, model.weights.embedding)
        if !c.tiedEmbeddings { add(.unembedding, model.weights.unembedding) }
        add(.finalNorm, Matrix(rows: 1, cols: c.hiddenSize, values: model.weights.finalNorm))
        for (i, l) in model.weights.layers.enumerated() {
            for role in BlockTensor.roles(for: c) {
                var m = l[role]
                if names.ggufPermutesQK && role == .query { m = QKPermutation.toLlamaCpp(m, heads: c.headCount) }
                if names.ggufPermutesQK && role == .key { m = QKPermutation.toLlamaCpp(m, heads: c.kvHeadCount) }
                add(.block(layer: i, role), m)
            }
        }
        for (key, value) in overrides { w.set(key, value) }
        try w.write(to: url)
    }

    /// config.json as transformers 5 writes it for the model's family (rope_parameters, layer_types).
    static func configJSON(_ c: ModelConfig) -> [String: Any] {
        var config: [String: Any] = [
            "architectures": [c.architecture.huggingFaceClass], "model_type": c.architecture.huggingFaceModelTypes[0],
            "vocab_size": c.vocabularySize, "hidden_size": c.hiddenSize,
            "intermediate_size": c.intermediateSize, "num_hidden_layers": c.layerCount, "num_attention_heads": c.headCount,
            "num_key_value_heads": c.kvHeadCount, "head_dim": c.headDim, "rms_norm_eps": Double(c.rmsNormEps), "rope_theta": c.ropeTheta,
            "tie_word_embeddings": c.tiedEmbeddings, "max_position_embeddings": c.contextLength, "bos_token_id": 0, "eos_token_id": 0,
            "torch_dtype": "float32",
        ]
        if c.layerKinds.contains(.sliding) {
            config["layer_types"] = c.layerKinds.map(\.rawValue)
            config["sliding_window"] = c.slidingWindow
        }
        if c.architecture == .qwen2 { config["attention_bias"] = true }
        if c.architecture == .gemma3 {
            config["hidden_activation"] = "gelu_pytorch_tanh"
            config["rope_parameters"] = ["full_attention": ["rope_type": "default", "rope_theta": c.ropeTheta],
                                         "sliding_attention": ["rope_type": "default", "rope_theta": c.localRopeTheta ?? c.ropeTheta]]
            config.removeValue(forKey: "rope_theta")
            if let s = c.attentionScale { config["query_pre_attn_scalar"] = Double(1 / (s * s)) }
            if let cap = c.finalLogitSoftcap { config["final_logit_softcapping"] = Double(cap) }
        }
        return config
    }

    /// A Hugging Face folder of `model`: config.json, model.safetensors (or two shards) and tokenizer.json.
    static func writeHuggingFaceFolder(_ model: TransformerModel, to folder: URL, sharded: Bool = false, ropeScaling: Bool = false) throws {
        let c = model.config
        let names = TensorNames(c.architecture)
        var config = configJSON(c)
        if ropeScaling, let s = c.ropeScaling {
            config["rope_scaling"] = ["rope_type": "llama3", "factor": s.factor, "low_freq_factor": s.lowFrequencyFactor,
                                      "high_freq_factor": s.highFrequencyFactor, "original_max_position_embeddings": Int(s.originalMaxPositions)]
        }
        try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys]).write(to: folder.appendingPathComponent("config.json"))
        try FileManager.default.copyItem(at: tokenizerJSON, to: folder.appendingPathComponent("tokenizer.json"))

        var tensors: [(String, [Int], [Float])] = []
        // Safetensors norms are stored without the family's offset (Gemma: w where the kernel multiplies by 1 + w).
        func add(_ t: ModelTensor, _ m: Matrix, isNorm: Bool = false) {
            let values = isNorm ? m.values.map { $0 - names.safetensorsNormOffset } : m.values
            tensors.append((names.huggingFace(t)!, m.rows == 1 ? [m.cols] : [m.rows, m.cols], values))
        }
        add(.embedding, model.weights.embedding)
        if !c.tiedEmbeddings { add(.unembedding, model.weights.unembedding) }
        add(.finalNorm, Matrix(rows: 1, cols: c.hiddenSize, values: model.weights.finalNorm), isNorm: true)
        for (i, l) in model.weights.layers.enumerated() {
            for role in BlockTensor.roles(for: c) { add(.block(layer: i, role), l[role], isNorm: role.isNorm) }
        }
        if !sharded {
            var writer = SafetensorsWriter()
            for (n, s, v) in tensors { writer.add(name: n, shape: s, values: v) }
            try writer.write(to: folder.appendingPathComponent("model.safetensors"))
            return
        }
        var weightMap: [String: String] = [:]
        let half = tensors.count / 2
        for (k, part) in [tensors[..<half], tensors[half...]].enumerated() {
            let name = "model-0000\(k + 1)-of-00002.safetensors"
            var writer = SafetensorsWriter()
            for (n, s, v) in part { writer.add(name: n, shape: s, values: v); weightMap[n] = name }
            try writer.write(to: folder.appendingPathComponent(name))
        }
        let index: [String: Any] = ["metadata": ["total_size": 0], "weight_map": weightMap]
        try JSONSerialization.data(withJSONObject: index).write(to: folder.appendingPathComponent("model.safetensors.index.json"))
    }
}

@Suite struct ModelLoaderTests {
    let sequences = [[5, 17, 200, 31, 9], [400, 2, 77]]

    func maxDifference(_ a: TransformerModel, _ b: TransformerModel) throws -> Float {
        let x = try a.forward(sequences, logits: .allPositions).logits
        let y = try b.forward(sequences, logits: .allPositions).logits
        #expect(x.rows == y.rows && x.cols == y.cols)
        return zip(x.values, y.values).map { abs($0 - $1) }.max() ?? .infinity
    }

    @Test(arguments: [true, false]) func ggufRoundTripGivesTheSameLogits(tied: Bool) throws {
        let model = TransformerModel.random(config: TinyModelFiles.config(tied: tied, vocabulary: 544), seed: 11)
        let folder = try TinyModelFiles.temporaryFolder("gguf")
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("tiny.gguf")
        try TinyModelFiles.writeGGUF(model, to: file)
        let loaded = try ModelLoader.load(file.path)
        #expect(loaded.model.config == model.config)
        #expect(loaded.format == .gguf)
        #expect(loaded.architecture == "llama")
        // Exactly the stored weights, Q/K back in Hugging Face order.
        #expect(loaded.model.weights.layers[1][.query] == model.weights.layers[1][.query])
        #expect(loaded.model.weights.layers[2][.key] == model.weights.layers[2][.key])
        #expect(try maxDifference(loaded.model, model) == 0)
    }

    @Test func ggufHalfPrecisionLoadsWithinRounding() throws {
        let model = TransformerModel.random(config: TinyModelFiles.config(tied: false, vocabulary: 544), seed: 12)
        let folder = try TinyModelFiles.temporaryFolder("gguf16")
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("tiny-f16.gguf")
        try TinyModelFiles.writeGGUF(model, to: file, halfPrecision: true)
        let loaded = try ModelLoader.load(file.path)
        #expect(loaded.tensorTypes["blk.0.attn_q.weight"] == "F16")
        // Half precision keeps 11 significant bits: weights within 2^-11 relative, logits close.
        let w = loaded.model.weights.layers[0][.up].values, w0 = model.weights.layers[0][.up].values
        for i in 0..<w.count { #expect(abs(w[i] - w0[i]) <= abs(w0[i]) * 0.0005 + 1e-7) }
        #expect(try maxDifference(loaded.model, model) < 2e-3)
    }

    @Test(arguments: [false, true]) func huggingFaceFolderGivesTheSameLogits(sharded: Bool) throws {
        // tokenizer.json holds 545 entries (an added token past the BPE vocabulary); the model may have more rows.
        var config = TinyModelFiles.config(tied: false, vocabulary: 560)
        config.ropeScaling = Llama3RopeScaling(factor: 8, lowFrequencyFactor: 1, highFrequencyFactor: 4, originalMaxPositions: 16)
        let model = TransformerModel.random(config: config, seed: 13)
        let folder = try TinyModelFiles.temporaryFolder("hf")
        defer { try? FileManager.default.removeItem(at: folder) }
        try TinyModelFiles.writeHuggingFaceFolder(model, to: folder, sharded: sharded, ropeScaling: true)
        let loaded = try ModelLoader.load(folder.path)
        #expect(loaded.format == .safetensors)
        #expect(loaded.model.config.ropeScaling == config.ropeScaling)
        #expect(loaded.model.config == model.config)
        #expect(try maxDifference(loaded.model, model) == 0)
    }

    @Test func ggufAndTokenizerJSONTokenizeAlike() throws {
        let model = TransformerModel.random(config: TinyModelFiles.config(tied: true, vocabulary: 544), seed: 14)
        let folder = try TinyModelFiles.temporaryFolder("tok")
        defer { try? FileManager.default.removeItem(at: folder) }
        try TinyModelFiles.writeGGUF(model, to: folder.appendingPathComponent("m.gguf"))
        let fromGGUF = try ModelLoader.load(folder.appendingPathComponent("m.gguf").path).tokenizer
        let fromJSON = try BPETokenizer.load(tokenizerJSON: TinyModelFiles.tokenizerJSON)
        for text in ["7 * 8 = multiply: 56", "The quick brown fox", "a  12 b", "<|im_start|>user\nhi<|im_end|>", "naïve café 🙂"] {
            #expect(fromGGUF.encode(text) == fromJSON.encode(text), "\(text)")
            #expect(fromGGUF.decode(fromGGUF.encode(text)) == text)
        }
        #expect(fromGGUF.addsBosToken == false)
    }

    @Test func truncatedModelFileFailsWithItsName() throws {
        let model = TransformerModel.random(config: TinyModelFiles.config(tied: true, vocabulary: 544), seed: 15)
        let folder = try TinyModelFiles.temporaryFolder("trunc")
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("whole.gguf")
        try TinyModelFiles.writeGGUF(model, to: file)
        let bytes = try Data(contentsOf: file)
        for cut in [3, 20, 300, bytes.count / 2, bytes.count - 1] {
            let broken = folder.appendingPathComponent("cut-\(cut).gguf")
            try bytes.prefix(cut).write(to: broken)
            do {
                _ = try ModelLoader.load(broken.path)
                Issue.record("a file cut at byte \(cut) loaded")
            } catch {
                #expect(String(describing: error).contains("cut-\(cut).gguf"), "\(error)")
            }
        }
    }

    @Test func missingTensorAndWrongShapeAreNamed() throws {
        let model = TransformerModel.random(config: TinyModelFiles.config(tied: false, vocabulary: 560), seed: 16)
        let folder = try TinyModelFiles.temporaryFolder("shape")
        defer { try? FileManager.default.removeItem(at: folder) }
        try TinyModelFiles.writeHuggingFaceFolder(model, to: folder)
        // Claim one more layer than the file holds.
        let configURL = folder.appendingPathComponent("config.json")
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: configURL)) as! [String: Any]
        config["num_hidden_layers"] = model.config.layerCount + 1
        try JSONSerialization.data(withJSONObject: config).write(to: configURL)
        #expect { try ModelLoader.load(folder.path) } throws: { String(describing: $0).contains("model.layers.3.") }
        // And a width that disagrees with the tensors.
        config["num_hidden_layers"] = model.config.layerCount
        config["intermediate_size"] = 50
        try JSONSerialization.data(withJSONObject: config).write(to: configURL)
        #expect { try ModelLoader.load(folder.path) } throws: { String(describing: $0).contains("shape") }
    }

    @Test func fewerBlocksInTheMetadataThanInTheFileIsRefused() throws {
        let model = TransformerModel.random(config: TinyModelFiles.config(tied: true, vocabulary: 560), seed: 17)
        let folder = try TinyModelFiles.temporaryFolder("blocks")
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("edited.gguf")
        try TinyModelFiles.writeGGUF(model, to: url, metadata: ["llama.block_count": .uint32(UInt32(model.config.layerCount - 1))])
        #expect { try ModelLoader.load(url.path) } throws: { error in
            let line = String(describing: error)
            return line.contains("edited.gguf") && line.contains("'llama.block_count'") && line.contains("is 2, but the file holds tensors of block 2")
        }
    }

    @Test func aTensorTheModelDoesNotUseIsRefused() throws {
        // A Llama folder holding a Qwen2-style bias: a model of another variant must not load with it ignored.
        let model = TransformerModel.random(config: TinyModelFiles.config(tied: true, vocabulary: 560), seed: 18)
        let folder = try TinyModelFiles.temporaryFolder("unused")
        defer { try? FileManager.default.removeItem(at: folder) }
        try TinyModelFiles.writeHuggingFaceFolder(model, to: folder)
        let single = folder.appendingPathComponent("model.safetensors")
        let file = try SafetensorsFile(contentsOf: single)
        var writer = SafetensorsWriter()
        for n in file.tensorNames { writer.add(name: n, shape: file.shape(of: n)!, values: try file.floatTensor(named: n)) }
        writer.add(name: "model.layers.0.self_attn.q_proj.bias", shape: [model.config.queryWidth], values: Array(repeating: 0, count: model.config.queryWidth))
        try writer.write(to: single)
        #expect { try ModelLoader.load(folder.path) } throws: { error in
            String(describing: error).contains("tensor 'model.layers.0.self_attn.q_proj.bias' (one of 1 unused) is not part of the model")
        }
    }

    @Test func unknownPathIsAClearError() {
        #expect { try ModelLoader.load("/no/such/model.gguf") } throws: { String(describing: $0).contains("/no/such/model.gguf") }
    }
}
