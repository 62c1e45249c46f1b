// `lazarus model info MODEL`: what a model file holds, read through the same loader every command uses.
import ArgumentParser
import Foundation
import Transformer

struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "model", abstract: "Inspect a model.", subcommands: [Info.self])

    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Architecture, widths, heads, vocabulary, tensor types, tokenizer.")
        @Argument(help: "A .gguf file, a Hugging Face folder, or 'default'.") var model: String
        @Flag(help: "Print JSON.") var json = false

        struct Report: Encodable {
            var name: String, source: String, format: String, architecture: String
            var layers: Int, hidden_size: Int, intermediate_size: Int, heads: Int, kv_heads: Int, head_dim: Int
            var vocab_size: Int, rope_theta: Double, rope_scaling: String?, rms_norm_eps: Float, tied_embeddings: Bool, context_length: Int
            var tensor_types: [String: Int], tokenizer: String, tokenizer_vocab: Int, bos_token_id: Int?, eos_token_id: Int?, adds_bos: Bool
            var parameters: Int, load_seconds: Double
        }

        func run() throws {
            let start = Date()
            let m = try ModelLoader.load(model)
            let c = m.model.config
            let perLayer = 2 * c.hiddenSize + Projection.allCases.reduce(0) { $0 + $1.shape(c)[0] * $1.shape(c)[1] }
            let params = c.vocabularySize * c.hiddenSize * (c.tiedEmbeddings ? 1 : 2) + c.layerCount * perLayer + c.hiddenSize
            let scaling = c.ropeScaling.map { "llama3 factor \($0.factor)" } ?? (c.ropeFrequencyFactors != nil ? "rope_freqs tensor" : nil)
            let r = Report(name: m.name, source: m.source.path, format: m.format.rawValue, architecture: m.architecture,
                           layers: c.layerCount, hidden_size: c.hiddenSize, intermediate_size: c.intermediateSize, heads: c.headCount,
                           kv_heads: c.kvHeadCount, head_dim: c.headDim, vocab_size: c.vocabularySize, rope_theta: c.ropeTheta,
                           rope_scaling: scaling, rms_norm_eps: c.rmsNormEps, tied_embeddings: c.tiedEmbeddings, context_length: c.contextLength,
                           tensor_types: m.tensorTypeCounts, tokenizer: m.tokenizer.kindDescription,
                           tokenizer_vocab: m.tokenizer.vocabularySize, bos_token_id: m.tokenizer.bosTokenId, eos_token_id: m.tokenizer.eosTokenId,
                           adds_bos: m.tokenizer.addsBosToken, parameters: params, load_seconds: Date().timeIntervalSince(start))
            if json { return try JSONOutput.print(r) }
            func piece(_ id: Int?) -> String { id.map { "\($0) \(m.tokenizer.piece($0).debugDescription)" } ?? "none" }
            let lines = [
                ("model", "\(r.name) (\(r.format), \(r.source))"),
                ("architecture", r.architecture),
                ("parameters", String(format: "%.1fM", Double(params) / 1e6)),
                ("layers", "\(c.layerCount) blocks (residual stream: embed, L0…L\(c.layerCount - 1))"),
                ("width", "hidden \(c.hiddenSize), MLP \(c.intermediateSize)"),
                ("attention", "\(c.headCount) query heads, \(c.kvHeadCount) key-value heads of \(c.headDim)"),
                ("vocabulary", "\(c.vocabularySize)\(c.tiedEmbeddings ? ", unembedding tied to the embeddings" : "")"),
                ("rope", "base \(c.ropeTheta)\(scaling.map { ", " + $0 } ?? "")"),
                ("rms norm eps", "\(c.rmsNormEps)"),
                ("context", "\(c.contextLength)"),
                ("tensor types", r.tensor_types.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")),
                ("tokenizer", "\(r.tokenizer), \(r.tokenizer_vocab) tokens"),
                ("BOS / EOS", "\(piece(r.bos_token_id)) / \(piece(r.eos_token_id)); BOS \(r.adds_bos ? "added" : "not added")"),
                ("loaded in", formatDuration(r.load_seconds)),
            ]
            for (k, v) in lines { print(k.padding(toLength: 14, withPad: " ", startingAt: 0) + v) }
        }
    }
}
