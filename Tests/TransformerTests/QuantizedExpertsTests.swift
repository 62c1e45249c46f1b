// Experts kept as blocks (`native` / `native-experts`) against the same files loaded Float32: the tiny GPT-OSS
// GGUF (MXFP4 experts) and its safetensors MXFP4 folder, and the tiny Mixtral GGUF rewritten with Q8_0 and Q4_0
// experts. Last-position log-probabilities over the whole vocabulary within a stated bound, the chosen experts
// identical at every layer and position; the safetensors blocks decode to exactly the GGUF's; a cut or
// mis-sized quantised expert tensor is one line naming it.
import Foundation
import Kernels
import ModelFiles
import Testing
import Transformer

/// How far native experts move a forward from the Float32 one, and whether every routing choice is the same.
struct NativeExpertsComparison {
    var logprob = 0.0
    var routingSame = true

    init(native: TransformerModel, f32: TransformerModel, prompts: [[Int]]) throws {
        for ids in prompts {
            let options = ForwardOptions(logits: .lastToken, routing: .allPositions)
            let a = try native.forward([ids], options: options), b = try f32.forward([ids], options: options)
            for (x, y) in zip(logSoftmax(a.logits, row: 0), logSoftmax(b.logits, row: 0)) { logprob = max(logprob, abs(x - y)) }
            routingSame = routingSame && a.routing.count == b.routing.count && zip(a.routing, b.routing).allSatisfy { $0.experts == $1.experts }
        }
    }
}

@Suite(.serialized) struct QuantizedExpertsTests {
    // Float activations on every MXFP4 path: the experts' values are the f32 path's exactly and only the order of
    // the sums differs (the fused kernels against sgemm), a few ulp of each expert output; 1e-5 is seven times
    // the largest difference measured on these models (1.4e-6, scalar). The int16-activation VNNI path on
    // Q8_0/Q4_0 experts adds its quantisation of the activations (relative 2^-16 a block): 1e-4, measured 4.6e-5.
    static let floatPathBound = 1e-5
    static let int16PathBound = 1e-4

    static func prompts(_ name: String) -> [[Int]] { MoEReference.model(name).gguf_prompts.map(\.ids) }

    @Test func gptOssGGUFKeepsItsMXFP4ExpertsAndMatches() throws {
        let path = try MoEReference.path("tiny_gpt_oss.gguf")
        let native = try ModelLoader.load(path, weights: .native), f32 = try ModelLoader.load(path)
        #expect(native.model.weights.hasQuantizedExperts && !f32.model.weights.hasQuantizedExperts)
        for l in native.model.weights.layers {
            for role in [BlockTensor.expertGate, .expertUp, .expertDown] { #expect(l.quantized[role]?.type == .mxfp4) }
            #expect(l.tensors[.expertGateBias] != nil && l.tensors[.router] != nil)
        }
        // Decoded, the kept blocks are the f32 model's experts bit for bit.
        let decoded = native.model.weights.dequantized()
        for (a, b) in zip(decoded.layers, f32.model.weights.layers) {
            for role in [BlockTensor.expertGate, .expertUp, .expertDown] { #expect(a[role].values.map(\.bitPattern) == b[role].values.map(\.bitPattern)) }
        }
        for path in [KernelPath.scalar, KernelPath.best] {
            KernelPath.force(path)
            defer { KernelPath.force(nil) }
            let c = try NativeExpertsComparison(native: native.model, f32: f32.model, prompts: Self.prompts("tiny_gpt_oss"))
            print("tiny_gpt_oss GGUF native MXFP4 experts vs f32 (\(path)): max |Δ log-prob| \(c.logprob), routing identical \(c.routingSame)")
            #expect(c.logprob <= Self.floatPathBound && c.routingSame, "\(path): \(c.logprob)")
        }
        // And still transformers' model (the GGUF reference: experts dequantised by gguf-py).
        try MoEComparison(native, MoEReference.model("tiny_gpt_oss").gguf_prompts).expectMatch("tiny_gpt_oss GGUF, native experts")
    }

    @Test func gptOssSafetensorsMXFP4MapToTheGGUFBlocks() throws {
        let e = MoEReference.model("tiny_gpt_oss")
        let folder = try MoEReference.path(try #require(e.mxfp4_folder))
        let native = try ModelLoader.load(folder, weights: .nativeExperts), f32 = try ModelLoader.load(folder)
        let gguf = try ModelLoader.load(try MoEReference.path("tiny_gpt_oss.gguf"), weights: .native)
        #expect(!native.model.weights.quantizesMoreThanExperts && native.model.weights.hasQuantizedExperts)
        for (s, g) in zip(native.model.weights.layers, gguf.model.weights.layers) {
            for role in [BlockTensor.expertGate, .expertUp, .expertDown] {
                let a = try #require(s.quantized[role]), b = try #require(g.quantized[role])
                #expect(a.type == .mxfp4 && a.rows == b.rows && a.cols == b.cols && a.byteCount == b.byteCount)
                #expect(a.dequantized().values.map(\.bitPattern) == b.dequantized().values.map(\.bitPattern), "\(role)")
            }
        }
        let c = try NativeExpertsComparison(native: native.model, f32: f32.model, prompts: try #require(e.mxfp4_prompts).map(\.ids))
        print("tiny_gpt_oss MXFP4 safetensors native experts vs f32: max |Δ log-prob| \(c.logprob), routing identical \(c.routingSame)")
        #expect(c.logprob <= Self.floatPathBound && c.routingSame)
    }

    /// tiny_mixtral.gguf with its gate experts as Q8_0 and its up experts as Q4_0 blocks of random bytes (their
    /// width D = 32 is one block; down's F = 48 is not whole blocks and stays F32).
    static func mixtralWithQuantisedExperts() throws -> URL {
        let file = try GGUFFile(contentsOf: URL(fileURLWithPath: try MoEReference.path("tiny_mixtral.gguf")))
        var writer = GGUFWriter(version: file.version, alignment: file.alignment)
        for key in file.metadataKeys { writer.set(key, file.metadata[key]!) }
        var rng = SeededRandom(seed: 16)
        func blocks(_ count: Int, bytes: Int, scale: Float) -> Data {
            var out = [UInt8](repeating: 0, count: count * bytes)
            for i in out.indices { out[i] = UInt8(truncatingIfNeeded: rng.next()) }
            let bits = Float16(scale).bitPattern
            for b in 0..<count { out[b * bytes] = UInt8(bits & 0xFF); out[b * bytes + 1] = UInt8(bits >> 8) }
            return Data(out)
        }
        for t in file.tensors {
            let rows = t.dimensions.dropFirst().reduce(1, *)
            if t.name.hasSuffix("ffn_gate_exps.weight") {
                writer.addTensor(name: t.name, dimensions: t.dimensions, type: .q8_0, bytes: blocks(rows, bytes: 34, scale: 0.002))
            } else if t.name.hasSuffix("ffn_up_exps.weight") {
                writer.addTensor(name: t.name, dimensions: t.dimensions, type: .q4_0, bytes: blocks(rows, bytes: 18, scale: 0.03))
            } else {
                writer.addTensor(name: t.name, dimensions: t.dimensions, type: t.type, bytes: file.rawBytes(of: t))
            }
        }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lazarus-moe-qexperts-\(ProcessInfo.processInfo.processIdentifier).gguf")
        try writer.write(to: url)
        return url
    }

    @Test func mixtralGGUFWithQ8AndQ4ExpertsMatchesItsF32Load() throws {
        let url = try Self.mixtralWithQuantisedExperts()
        defer { try? FileManager.default.removeItem(at: url) }
        let native = try ModelLoader.load(url.path, weights: .native), f32 = try ModelLoader.load(url.path)
        let l0 = native.model.weights.layers[0]
        #expect(l0.quantized[.expertGate]?.type == .q8_0 && l0.quantized[.expertUp]?.type == .q4_0 && l0.tensors[.expertDown] != nil)
        for path in KernelPath.allCases where path.isSupported && path != .avx512vnniInt8 {
            KernelPath.force(path)
            defer { KernelPath.force(nil) }
            let c = try NativeExpertsComparison(native: native.model, f32: f32.model, prompts: Self.prompts("tiny_mixtral"))
            print("tiny_mixtral GGUF native Q8_0/Q4_0 experts vs f32 (\(path)): max |Δ log-prob| \(c.logprob), routing identical \(c.routingSame)")
            let bound = path == .avx512vnni ? Self.int16PathBound : Self.floatPathBound
            #expect(c.logprob <= bound && c.routingSame, "\(path): \(c.logprob)")
        }
    }

    @Test func aCutOrMisSizedQuantisedExpertIsOneLineNamingIt() throws {
        let url = try Self.mixtralWithQuantisedExperts()
        defer { try? FileManager.default.removeItem(at: url) }
        let file = try GGUFFile(contentsOf: url)
        // Cut inside the last expert tensor's bytes.
        let last = try #require(file.tensors.max { $0.offset < $1.offset })
        let cut = FileManager.default.temporaryDirectory.appendingPathComponent("lazarus-moe-qcut-\(ProcessInfo.processInfo.processIdentifier).gguf")
        try Data(contentsOf: url).prefix(file.dataOffset + last.offset + last.byteCount / 2).write(to: cut)
        defer { try? FileManager.default.removeItem(at: cut) }
        for weights in [WeightStorage.native, .nativeExperts] {
            do {
                _ = try ModelLoader.load(cut.path, weights: weights)
                Issue.record("a cut file loaded")
            } catch {
                let line = String(describing: error)
                #expect(!line.contains("\n") && line.contains("'\(last.name)'"), "\(line)")
            }
        }
        // Blocks that do not tile the shape: a Q8_0 gate tensor one block short, its dimensions claiming the full shape.
        let short = FileManager.default.temporaryDirectory.appendingPathComponent("lazarus-moe-qshort-\(ProcessInfo.processInfo.processIdentifier).gguf")
        var writer = GGUFWriter(version: file.version, alignment: file.alignment)
        for key in file.metadataKeys { writer.set(key, file.metadata[key]!) }
        for t in file.tensors {
            let bytes = file.rawBytes(of: t)
            writer.addTensor(name: t.name, dimensions: t.name == "blk.1.ffn_gate_exps.weight" ? [32, 47, 4] : t.dimensions, type: t.type,
                             bytes: t.name == "blk.1.ffn_gate_exps.weight" ? bytes.prefix(4 * 47 * 34) : bytes)
        }
        try writer.write(to: short)
        defer { try? FileManager.default.removeItem(at: short) }
        do {
            _ = try ModelLoader.load(short.path, weights: .native)
            Issue.record("a mis-sized expert tensor loaded")
        } catch {
            let line = String(describing: error)
            #expect(!line.contains("\n") && line.contains("'blk.1.ffn_gate_exps.weight'") && line.contains("[4, 47, 32]"), "\(line)")
        }
    }
}
