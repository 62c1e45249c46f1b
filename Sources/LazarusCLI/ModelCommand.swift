// `lazarus model info MODEL`: what a model file holds, read through the same loader every command uses (with native
// weights, which map the file and decode nothing), and its memory account (MemoryAccount.swift); `shape:gpt-oss-20b`
// prints the account of GPT-OSS-20B's shape as ggml-org's MXFP4 GGUF holds it, with no file.
import ArgumentParser
import Foundation
import Kernels
import Transformer

struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "model", abstract: "Inspect a model.", subcommands: [Info.self])

    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Architecture, widths, heads, vocabulary, tensor types, tokenizer.")
        @OptionGroup var model: ModelArgument
        @OptionGroup var format: JSONFlag
        @Option(help: "Memory account: prompts in one forward pass.") var batch = 1
        @Option(help: "Memory account: tokens of each prompt.") var tokens = 64
        @Option(name: .customLong("lens-prompts"), help: "Memory account: prompts of a lens sweep over every layer.") var lensPrompts = 300
        @Option(help: "Memory account: positions of the KV cache (default: the model's context length).") var context: Int?

        func validate() throws {
            guard batch >= 1, tokens >= 1, lensPrompts >= 1, (context ?? 1) >= 1 else {
                throw ValidationError("--batch, --tokens, --lens-prompts and --context must be at least 1")
            }
        }

        func workload(_ c: ModelConfig) -> MemoryAccount.Workload {
            MemoryAccount.Workload(batch: batch, tokens: tokens, lensPrompts: lensPrompts, context: context ?? c.contextLength)
        }

        struct Report: Encodable {
            var name: String, source: String, format: String, architecture: String
            var layers: Int, hidden_size: Int, intermediate_size: Int, heads: Int, kv_heads: Int, head_dim: Int
            var vocab_size: Int, rope_theta: Double, rope_scaling: String?, rms_norm_eps: Float, tied_embeddings: Bool, context_length: Int
            var tensor_types: [String: Int], tokenizer: String, tokenizer_vocab: Int, bos_token_id: Int?, eos_token_id: Int?, adds_bos: Bool
            var parameters: Int, load_seconds: Double
            var family: String, block: [String], layer_types: [String], sliding_window: Int?, local_rope_theta: Double?
            var attention_scale: Float, embedding_scale: Float?, final_logit_softcap: Float?
            var experts: Int?, experts_per_token: Int?
            var kernel_path: String, native_tensors: Int, native_max_logprob_delta_default_model: Double
            var memory: MemoryAccount
        }

        func run() throws {
            if model.model == "shape:gpt-oss-20b" { return try printShape() }
            let start = Date()
            let m = try model.load(weights: .native)
            let c = m.model.config
            let params = MemoryAccount.parameterCount(c)
            let account = MemoryAccount(model: m.model, workload: workload(c))
            let sliding = c.layerKinds.contains(.sliding)
            let attentionScale = c.attentionScale ?? 1 / Float(c.headDim).squareRoot()
            let path = KernelPath.current
            // Tensors `--weights native` keeps as blocks: those of a type the kernels multiply (GGUF only).
            let nativeTensors = m.format == .gguf ? m.tensorTypes.values.filter { name in
                QuantizedMatrix.BlockType.allCases.contains { $0.description == name }
            }.count : 0
            let scaling = c.ropeScaling.map { "llama3 factor \($0.factor)" } ?? (c.ropeFrequencyFactors != nil ? "rope_freqs tensor" : nil)
                ?? c.ropeYarn.map { "yarn factor \($0.factor) (original context \(Int($0.originalMaxPositions)))" }
            let r = Report(name: m.name, source: m.source.path, format: m.format.rawValue, architecture: m.architecture,
                           layers: c.layerCount, hidden_size: c.hiddenSize, intermediate_size: c.intermediateSize, heads: c.headCount,
                           kv_heads: c.kvHeadCount, head_dim: c.headDim, vocab_size: c.vocabularySize, rope_theta: c.ropeTheta,
                           rope_scaling: scaling, rms_norm_eps: c.rmsNormEps, tied_embeddings: c.tiedEmbeddings, context_length: c.contextLength,
                           tensor_types: m.tensorTypeCounts, tokenizer: m.tokenizer.kindDescription,
                           tokenizer_vocab: m.tokenizer.vocabularySize, bos_token_id: m.tokenizer.bosTokenId, eos_token_id: m.tokenizer.eosTokenId,
                           adds_bos: m.tokenizer.addsBosToken, parameters: params, load_seconds: Date().timeIntervalSince(start),
                           family: c.architecture.rawValue, block: c.block.featureList, layer_types: c.layerKinds.map(\.rawValue),
                           sliding_window: sliding ? c.slidingWindow : nil, local_rope_theta: sliding ? c.localRopeTheta : nil,
                           attention_scale: attentionScale, embedding_scale: c.embeddingScale, final_logit_softcap: c.finalLogitSoftcap,
                           experts: c.mixture?.experts, experts_per_token: c.mixture?.perToken,
                           kernel_path: path.description, native_tensors: nativeTensors,
                           native_max_logprob_delta_default_model: NativeAccuracy.defaultModelMaxLogProbDelta(path: path), memory: account)
            if format.json { return try JSONOutput.print(r) }
            func piece(_ id: Int?) -> String { id.map { "\($0) \(m.tokenizer.piece($0).debugDescription)" } ?? "none" }
            var lines: [(String, String)] = [
                ("model", "\(r.name) (\(r.format), \(r.source))"),
                ("architecture", "\(r.architecture) (runs as \(c.architecture.displayName))"),
                ("block", c.block.featureList.joined(separator: ", ")),
                ("parameters", String(format: "%.1fM", Double(params) / 1e6)),
                ("layers", "\(c.layerCount) blocks (residual stream: embed, L0…L\(c.layerCount - 1))"),
                ("width", "hidden \(c.hiddenSize), MLP \(c.intermediateSize)\(c.mixture.map { " per expert, \($0.experts) experts, \($0.perToken) per token" } ?? "")"),
                ("attention", "\(c.headCount) query heads, \(c.kvHeadCount) key-value heads of \(c.headDim), scale \(attentionScale)"),
                ("layer kinds", sliding ? "\(c.layerKinds.filter { $0 == .sliding }.count) sliding (window \(c.slidingWindow ?? 0)), global: "
                    + c.layerKinds.indices.filter { c.layerKinds[$0] == .global }.map { "L\($0)" }.joined(separator: ",") : "all global"),
                ("vocabulary", "\(c.vocabularySize)\(c.tiedEmbeddings ? ", unembedding tied to the embeddings" : "")"),
                ("rope", "base \(c.ropeTheta)\(sliding && c.localRopeTheta != nil ? " (sliding layers \(c.localRopeTheta!))" : "")\(scaling.map { ", " + $0 } ?? "")"),
                ("scales", "embedding \(c.embeddingScale.map { "×\($0)" } ?? "×1")\(c.finalLogitSoftcap.map { ", logits soft-capped at \($0)" } ?? "")"),
                ("rms norm eps", "\(c.rmsNormEps)"),
                ("context", "\(c.contextLength)"),
                ("tensor types", r.tensor_types.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")),
                ("tokenizer", "\(r.tokenizer), \(r.tokenizer_vocab) tokens"),
                ("BOS / EOS", "\(piece(r.bos_token_id)) / \(piece(r.eos_token_id)); BOS \(r.adds_bos ? "added" : "not added")"),
                ("kernels", "\(path) (native weights: \(nativeTensors) quantised tensors kept as blocks; on the default model they move "
                    + "log-probs from f32 by at most \(NativeAccuracy.defaultModelMaxLogProbDelta(path: path)) on this path)"),
                ("loaded in", formatDuration(r.load_seconds)),
            ]
            lines += Self.accountLines(account)
            for (k, v) in lines { print(k.padding(toLength: 14, withPad: " ", startingAt: 0) + v) }
        }

        /// The account of GPT-OSS-20B's shape, as ggml-org's MXFP4 GGUF holds it (experts MXFP4, attention and embeddings Q8_0).
        func printShape() throws {
            let c = ModelConfig.gptOss20BShape
            let account = MemoryAccount(config: c, workload: workload(c), blockType: ModelConfig.gptOss20BFileTypes)
            if format.json { return try JSONOutput.print(account) }
            var lines: [(String, String)] = [
                ("model", "GPT-OSS-20B's shape (no file): \(c.layerCount) blocks, hidden \(c.hiddenSize), \(c.mixture!.experts) experts of \(c.intermediateSize), "
                    + "\(c.mixture!.perToken) per token, \(c.headCount)/\(c.kvHeadCount) heads of \(c.headDim), vocabulary \(c.vocabularySize), window \(c.slidingWindow!)"),
                ("held as", "experts MXFP4; embeddings, unembedding and attention Q8_0; the rest F32 (ggml-org's gpt-oss-20b-mxfp4.gguf)"),
                ("parameters", String(format: "%.2fB", Double(account.parameters) / 1e9)),
            ]
            lines += Self.accountLines(account)
            for (k, v) in lines { print(k.padding(toLength: 14, withPad: " ", startingAt: 0) + v) }
        }

        static func accountLines(_ a: MemoryAccount) -> [(String, String)] {
            func gib(_ bytes: Int) -> String {
                if bytes >= 1 << 30 { return String(format: "%.2f GiB", Double(bytes) / Double(1 << 30)) }
                return bytes >= 1 << 20 ? String(format: "%.1f MiB", Double(bytes) / Double(1 << 20)) : String(format: "%.1f KiB", Double(bytes) / 1024)
            }
            let w = a.workload
            let fits = a.forwardAndLensTotal <= 16 << 30 ? "fits" : "does not fit"
            return [
                ("memory", "weights \(gib(a.weightsHeld)) as held (experts \(gib(a.expertsHeld))), \(gib(a.weightsFloat32)) as f32"),
                ("", "KV cache \(gib(a.kvCache)) (\(w.batch) × \(w.context) positions, f32)"),
                ("", "forward \(gib(a.forwardActivations)) (\(w.batch) × \(w.tokens) tokens); lens sweep \(gib(a.lensSweepActivations)) (\(w.lensPrompts) prompts, every layer)"),
                ("", "forward + lens sweep \(gib(a.forwardAndLensTotal)) as held (\(fits) in 16 GiB), \(gib(a.forwardAndLensTotalFloat32)) as f32; "
                    + "generation \(gib(a.generationTotal))"),
            ]
        }
    }
}
