// `lazarus model info MODEL`: what a model file holds, read through the same loader every command uses.
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
        }

        func run() throws {
            let start = Date()
            let m = try model.load()
            let c = m.model.config
            let perLayer = BlockTensor.roles(for: c).reduce(0) { $0 + $1.shape(c)[0] * $1.shape(c)[1] }
            let params = c.vocabularySize * c.hiddenSize * (c.tiedEmbeddings ? 1 : 2) + c.layerCount * perLayer + c.hiddenSize
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
                           native_max_logprob_delta_default_model: NativeAccuracy.defaultModelMaxLogProbDelta(path: path))
            if format.json { return try JSONOutput.print(r) }
            func piece(_ id: Int?) -> String { id.map { "\($0) \(m.tokenizer.piece($0).debugDescription)" } ?? "none" }
            let lines = [
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
            for (k, v) in lines { print(k.padding(toLength: 14, withPad: " ", startingAt: 0) + v) }
        }
    }
}
