// The memory account (MemoryAccount.swift) against independent figures: the tiny GPT-OSS GGUF's tensor bytes
// (every tensor F32 or MXFP4, so the weights held natively are exactly the file's tensor data), the parameter
// count from the file, GPT-OSS-20B's published sizes (20.9B parameters; ggml-org's MXFP4 GGUF 12.1 GB), and the
// claim that its forward pass and lens sweep fit 16 GiB with native MXFP4 experts. The measured side is
// Tests/IntrospectionTests/GptOss20BShapeTests.swift.
import Foundation
import Kernels
import ModelFiles
import Testing
import Transformer

@Suite struct MemoryAccountTests {
    @Test func tinyGptOssWeightsAreTheFilesTensorBytes() throws {
        let path = try MoEReference.path("tiny_gpt_oss.gguf")
        let file = try GGUFFile(contentsOf: URL(fileURLWithPath: path))
        let native = try ModelLoader.load(path, weights: .native), f32 = try ModelLoader.load(path)
        let workload = MemoryAccount.Workload(batch: 2, tokens: 8, lensPrompts: 10, context: 64)
        let a = MemoryAccount(model: native.model, workload: workload), b = MemoryAccount(model: f32.model, workload: workload)
        #expect(a.weightsHeld == file.tensors.reduce(0) { $0 + $1.byteCount })
        let expertBytes = file.tensors.filter { $0.name.contains("_exps.weight") }.reduce(0) { $0 + $1.byteCount }
        let expertBiasBytes = file.tensors.filter { $0.name.contains("_exps.bias") }.reduce(0) { $0 + $1.byteCount }
        #expect(a.expertsHeld == expertBytes + expertBiasBytes)
        let elements = file.tensors.reduce(0) { $0 + $1.dimensions.reduce(1, *) }
        #expect(a.parameters == elements && b.weightsHeld == 4 * elements && b.weightsFloat32 == b.weightsHeld)
        // The account of the config with the file's types is the loaded model's.
        let byType = MemoryAccount(config: native.model.config, workload: workload) { t in
            if case let .block(_, role) = t, role == .expertGate || role == .expertUp || role == .expertDown { return .mxfp4 }
            return nil
        }
        #expect(byType == a)
        #expect(a.kvCache == 4 * 3 * 2 * 2 * 64 * native.model.config.kvWidth)
    }

    @Test func gptOss20BFitsSixteenGiBWithNativeExperts() throws {
        let c = ModelConfig.gptOss20BShape
        let a = MemoryAccount(config: c, workload: MemoryAccount.Workload(batch: 1, tokens: 64, lensPrompts: 300, context: 4096),
                              blockType: ModelConfig.gptOss20BFileTypes)
        // Published: 20.9B parameters; ggml-org's gpt-oss-20b-mxfp4.gguf is 12.1 GB.
        #expect(abs(Double(a.parameters) - 20.9e9) < 0.05e9, "\(a.parameters)")
        #expect(abs(Double(a.weightsHeld) - 12.1e9) < 0.1e9, "\(a.weightsHeld)")
        let gib = 1 << 30
        #expect(a.forwardAndLensTotal < 16 * gib && a.generationTotal < 16 * gib)
        #expect(a.forwardAndLensTotalFloat32 > 64 * gib)
        print("GPT-OSS-20B account: weights native \(a.weightsHeld) B (experts \(a.expertsHeld)), f32 \(a.weightsFloat32) B; "
              + "KV at 4096 \(a.kvCache) B; forward \(a.forwardActivations) B; lens sweep \(a.lensSweepActivations) B; "
              + "forward + lens \(Double(a.forwardAndLensTotal) / Double(gib)) GiB")
    }
}
