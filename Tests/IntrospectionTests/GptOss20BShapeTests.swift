// A model of GPT-OSS-20B's full per-layer shapes (tools/make_gpt_oss_20b_shape.py: 2 layers, random weights,
// MXFP4 experts, Q8_0 attention and embeddings, vocabulary 201088) loaded with native weights: a forward pass and
// a logit-lens sweep, peak RSS against the memory account (MemoryAccount.swift). Runs when
// $LAZARUS_GPT_OSS_20B_SHAPE names that GGUF (2 GB: too big for CI); docs/moe.md has its figures.
import Foundation
import Introspection
import Kernels
import Testing
import Transformer

@Suite struct GptOss20BShapeTests {
    /// Peak RSS of a forward pass and a lens sweep on GPT-OSS-20B's full per-layer shapes against the account.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["LAZARUS_GPT_OSS_20B_SHAPE"] != nil))
    func fullShapeLayersMeasuredAgainstTheAccount() throws {
        let path = try #require(ProcessInfo.processInfo.environment["LAZARUS_GPT_OSS_20B_SHAPE"])
        // Peak RSS from here on: writing 5 to clear_refs resets VmHWM to the current RSS (Linux ≥ 4.0).
        try "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
        let baseline = try Self.status("VmRSS")
        let start = Date()
        let loaded = try ModelLoader.load(path, weights: .native)
        let m = loaded.model, c = m.config
        #expect(c.hiddenSize == 2880 && c.intermediateSize == 2880 && c.mixture == MixtureShape(experts: 32, perToken: 4))
        #expect(c.headCount == 64 && c.kvHeadCount == 8 && c.headDim == 64 && c.vocabularySize == 201_088 && c.slidingWindow == 128)
        #expect(m.weights.hasQuantizedExperts && m.weights.layers.allSatisfy { $0.quantized[.expertDown]?.type == .mxfp4 })
        // 128 arithmetic prompts through the lens at every layer (LogitLensSweep, as `introspect logit-lens` runs it),
        // after one forward pass of 4 of them; every expert of every layer is chosen, so all their pages are read.
        var rng = SeededRandom(seed: 20)
        let ops = ["*", "+", "-"]
        let texts = (0..<128).map { _ in "\(2 + rng.next() % 48) \(ops[Int(rng.next() % 3)]) \(2 + rng.next() % 48) = " }
        let ids = texts.map { loaded.tokenizer.encode($0) }
        let forward = try m.forward(Array(ids[0..<4]), options: ForwardOptions(logits: .lastToken, routing: .allPositions))
        let finite = forward.logits.values.allSatisfy { $0.isFinite }
        #expect(finite)
        let chosen = Set(forward.routing.flatMap(\.experts))
        let report = try LogitLensSweep.run(model: m, tokenizer: loaded.tokenizer, prompts: texts, targets: ["multiply", "add"],
                                            layers: Array(-1..<c.layerCount), modelName: "gpt-oss-20b shape")
        #expect(report.prompts.count == 128 && report.prompts.allSatisfy { $0.layers.count == c.layerCount + 1 })
        let tokens = ids.map(\.count).max()!
        let seconds = Date().timeIntervalSince(start)
        let peak = try Self.status("VmHWM")
        let account = MemoryAccount(model: m, workload: MemoryAccount.Workload(batch: 4, tokens: tokens, lensPrompts: 128, context: 4096))
        let measured = peak - baseline
        let load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
        print("GPT-OSS-20B shape, \(c.layerCount) layers: peak RSS − baseline \(measured) B (baseline \(baseline) B); account: weights \(account.weightsHeld) B, "
              + "forward \(account.forwardActivations) B, lens \(account.lensSweepActivations) B, forward + lens \(account.forwardAndLensTotal) B; "
              + "measured / account \(Double(measured) / Double(account.forwardAndLensTotal)); \(chosen.count) experts chosen in the forward; "
              + "\(String(format: "%.1f", seconds)) s; load average \(load); prompts of at most \(tokens) tokens")
        // The account counts every weight byte; the map's pages count once read, and the token embedding is read
        // only at the prompts' rows, so the measurement may fall short of the account by up to the embedding.
        let embedding = m.weights.quantizedEmbedding?.byteCount ?? 0
        #expect(measured <= account.forwardAndLensTotal + (64 << 20), "peak above the account")
        #expect(measured >= account.forwardAndLensTotal - embedding - (256 << 20), "peak far below the account")
    }

    /// A line of /proc/self/status in bytes ("VmRSS:   123 kB").
    static func status(_ key: String) throws -> Int {
        let text = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let line = try #require(text.split(separator: "\n").first { $0.hasPrefix(key + ":") })
        let kb = try #require(Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]))
        return kb * 1024
    }
}
