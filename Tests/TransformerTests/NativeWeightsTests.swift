// `native` weights (the GGUF blocks kept in memory, fused kernels) against `f32` (every weight decoded) on the
// default model: how far the next-token log-probabilities move on the reference prompts, on every kernel path.
import Foundation
import Kernels
import Transformer
import Testing
import LazarusTestSupport

enum NativeDefaultModel {
    static let loaded: Result<LoadedModel, Error> = Result { try ModelLoader.load("default", weights: .native) }
}

func logSoftmax(_ row: ArraySlice<Float>) -> [Double] {
    let m = Double(row.max()!)
    let lse = m + log(row.reduce(0.0) { $0 + exp(Double($1) - m) })
    return row.map { Double($0) - lse }
}

@Suite(.serialized) struct NativeWeightsTests {
    /// The largest |Δ log-prob| over the whole vocabulary at the last token of each reference prompt.
    func maxLogProbDelta(_ native: LoadedModel, _ f32: LoadedModel, prompts: [[Int]]) throws -> Double {
        var worst = 0.0
        for ids in prompts {
            let a = try native.model.forward([ids], logits: .lastToken).logits.values
            let b = try f32.model.forward([ids], logits: .lastToken).logits.values
            for (x, y) in zip(logSoftmax(a[...]), logSoftmax(b[...])) { worst = max(worst, abs(x - y)) }
        }
        return worst
    }

    @Test func nativeHoldsTheFileBlocksAndF32None() throws {
        let native = try NativeDefaultModel.loaded.get(), f32 = try DefaultModel.get()
        #expect(native.model.weights.isNative && !f32.model.weights.isNative)
        #expect(native.model.weights.quantizedEmbedding?.type == .q8_0)
        #expect(native.model.weights.layers[0].quantized[.query]?.type == .q4_1)
        #expect(native.model.weights.embedding.values.isEmpty)
        // Decoding the native blocks gives the f32 model's weights bit for bit (Q/K rows un-permuted the same way).
        let decoded = native.model.weights.dequantized()
        #expect(decoded.embedding == f32.model.weights.embedding)
        for p in Projection.linearModules { #expect(decoded.layers[3].weight(of: p) == f32.model.weights.layers[3].weight(of: p), "\(p)") }
    }

    /// Measured on an AMD EPYC with AVX-512 VNNI (NativeAccuracy, docs/performance.md); scalar and avx2 below 1e-4
    /// (their weights are the f32 ones; only the order of the sums differs). The bounds are those with a margin of 2×.
    @Test func nativeLogProbsStayCloseToF32OnEveryPath() throws {
        let native = try NativeDefaultModel.loaded.get(), f32 = try DefaultModel.get()
        let prompts = try SmolLM2Reference.load().prompts.map(\.ids)
        defer { KernelPath.force(nil) }
        for path in KernelPath.allCases where path.isSupported {
            KernelPath.force(path)
            let delta = try maxLogProbDelta(native, f32, prompts: prompts)
            print("native (\(path)) vs f32: max |Δ log-prob| = \(delta) over \(prompts.count) prompts")
            let bound: Double
            switch path {
            case .scalar, .avx2: bound = 2e-4
            case .avx512vnni: bound = 2 * NativeAccuracy.defaultModelMaxLogProbDelta
            case .avx512vnniInt8: bound = 2 * NativeAccuracy.defaultModelMaxLogProbDeltaInt8
            }
            #expect(delta <= bound, "\(path): \(delta)")
        }
    }

    @Test func nativeGenerationMatchesF32OnTheReferenceContinuations() throws {
        let native = try NativeDefaultModel.loaded.get(), f32 = try DefaultModel.get()
        for g in try SmolLM2Reference.load().greedy {
            let opts = GenerationOptions(maxTokens: g.max_new_tokens)
            let a = try native.model.generateGreedy(prompts: [g.ids], options: opts)[0]
            let b = try f32.model.generateGreedy(prompts: [g.ids], options: opts)[0]
            // Greedy decoding can flip where two tokens are nearly tied; count agreement instead of demanding it.
            let agree = zip(a, b).prefix { $0 == $1 }.count
            print("native vs f32 greedy \(g.text.debugDescription): \(agree)/\(b.count) leading tokens agree")
            #expect(agree >= min(4, b.count))
        }
    }

    /// On the float paths, prefill batches beyond the fused kernels' 8 rows go through decoded tiles and sgemm: the
    /// f32 product. (Forced to the scalar path, so the one-row readout is exact too and only the order of sums
    /// separates the two; the VNNI paths take such batches themselves, measured above.)
    @Test func largeBatchesAreTheF32Product() throws {
        let native = try NativeDefaultModel.loaded.get(), f32 = try DefaultModel.get()
        KernelPath.force(.scalar)
        defer { KernelPath.force(nil) }
        let prompts = try SmolLM2Reference.load().prompts.map(\.ids).filter { $0.count > 8 }
        try #require(!prompts.isEmpty)
        let delta = try maxLogProbDelta(native, f32, prompts: prompts)
        #expect(delta <= 2 * NativeAccuracy.defaultModelMaxLogProbDeltaFloat, "\(delta)")
    }
}

/// The K-quants and Q5_0 end to end: Gemma 3 270M Q4_K_M (Q4_K, Q5_0, Q6_K, Q8_0 tensors) native against f32.
@Suite(.serialized) struct GemmaNativeWeightsTests {
    /// Measured on an AMD EPYC with AVX-512 VNNI (docs/performance.md), the bounds twice these.
    static let measured: [KernelPath: Double] = [.scalar: 7.3e-5, .avx2: 5.5e-5, .avx512vnni: 0.0037, .avx512vnniInt8: 0.75]

    @Test func nativeLogProbsStayCloseToF32() throws {
        guard let f32 = try GemmaModel.get(), let path = GemmaModel.path else { return }
        let native = try ModelLoader.load(path, weights: .native)
        #expect(native.model.weights.layers[0].quantized.count == 7)
        let prompts = try GemmaReference.load().prompts.map(\.ids).filter { $0.count < 64 }
        defer { KernelPath.force(nil) }
        for path in KernelPath.allCases where path.isSupported {
            KernelPath.force(path)
            var worst = 0.0
            for ids in prompts {
                let a = try native.model.forward([ids], logits: .lastToken).logits.values
                let b = try f32.model.forward([ids], logits: .lastToken).logits.values
                for (x, y) in zip(logSoftmax(a[...]), logSoftmax(b[...])) { worst = max(worst, abs(x - y)) }
            }
            print("Gemma native (\(path)) vs f32: max |Δ log-prob| = \(worst) over \(prompts.count) prompts")
            #expect(worst <= 2 * Self.measured[path]!, "\(path): \(worst)")
        }
    }
}
