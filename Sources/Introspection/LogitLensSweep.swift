// The logit lens over prompts × layers, as `lazarus introspect logit-lens` reports it: per prompt, per layer,
// the top-k tokens and each target word's probability (with the token ids used), and the model's own top-k.
import Kernels
import Transformer
import Tokenizer

public struct TokenProbability: Codable, Sendable, Equatable {
    public var id: Int
    public var token: String
    public var prob: Double
}

public struct TokenLogProbability: Codable, Sendable, Equatable {
    public var id: Int
    public var token: String
    public var logprob: Double
}

public struct TargetReading: Codable, Sendable, Equatable {
    public var prob: Double
    public var tokenIds: [Int]
    enum CodingKeys: String, CodingKey { case prob, tokenIds = "token_ids" }
}

public struct LensLayerReading: Codable, Sendable, Equatable {
    public var name: String
    public var index: Int
    public var top: [TokenProbability]
    public var targets: [String: TargetReading]
}

public struct LensPromptReading: Codable, Sendable, Equatable {
    public var prompt: String
    public var tokenIds: [Int]
    public var layers: [LensLayerReading]
    public var finalTop: [TokenLogProbability]
    enum CodingKeys: String, CodingKey { case prompt, tokenIds = "token_ids", layers, finalTop = "final_top" }
}

public struct LensReport: Codable, Sendable, Equatable {
    public var model: String
    public var prompts: [LensPromptReading]
}

public enum LogitLensSweep {
    /// Reads every prompt at its last token through the lens at `layers` (-1 = embed).
    public static func run(model: TransformerModel, tokenizer: any TextTokenizer, prompts: [String], targets: [String], layers: [Int],
                           topK: Int = 5, adapters: LoRAAdapters? = nil, modelName: String) throws -> LensReport {
        guard !prompts.isEmpty else { throw IntrospectionError.badInput("no prompts given") }
        let ids = prompts.map { tokenizer.encode($0) }
        if let empty = ids.firstIndex(where: \.isEmpty) { throw IntrospectionError.badInput("prompt \(empty + 1) is empty") }
        let states = try HiddenStateCollector.collect(model: model, prompts: ids, adapters: adapters)
        let words = targets.map { LensTargetWord(word: $0, tokenizer: tokenizer) }
        var readings = prompts.enumerated().map { i, p in
            LensPromptReading(prompt: p, tokenIds: ids[i], layers: [], finalTop: [])
        }
        for layer in layers {
            guard let hidden = states.state(layer: layer) else { throw IntrospectionError.badLayer("layer \(layer) was not captured") }
            LogitLens.forEachChunk(model: model, hidden: hidden) { offset, probs in
                for r in 0..<probs.rows {
                    let top = TopK.row(probs, r, k: topK).map { TokenProbability(id: $0.index, token: tokenizer.piece($0.index), prob: Double($0.value)) }
                    var t: [String: TargetReading] = [:]
                    for w in words { t[w.word] = TargetReading(prob: Double(w.probability(in: probs, row: r)), tokenIds: w.tokenIds) }
                    readings[offset + r].layers.append(LensLayerReading(name: LayerSelection.name(layer), index: layer, top: top, targets: t))
                }
            }
        }
        var logProbs = states.finalLogits
        Softmax.logRows(&logProbs)
        for r in 0..<logProbs.rows {
            readings[r].finalTop = TopK.row(logProbs, r, k: topK).map { TokenLogProbability(id: $0.index, token: tokenizer.piece($0.index), logprob: Double($0.value)) }
        }
        return LensReport(model: modelName, prompts: readings)
    }
}
