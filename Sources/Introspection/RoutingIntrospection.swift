// What the routers of a mixture-of-experts model do: per prompt, layer and position the experts chosen,
// their weights and the router's distribution over every expert (softmax of its logits), from one batched
// forward pass that captures the routing as it captures the residual stream; and per layer how often each
// expert is chosen and the mean entropy of the router's distribution. The report is `lazarus introspect
// routing`'s JSON (docs/schemas/routing.schema.json).
import Foundation
import Kernels
import Tokenizer
import Transformer

public struct RoutingReport: Codable, Sendable, Equatable {
    public struct Position: Codable, Sendable, Equatable {
        public var tokenId: Int
        public var token: String
        /// The chosen experts, best first, and their routing weights.
        public var experts: [Int]
        public var weights: [Double]
        /// softmax of the router logits over every expert (what the router "thinks" before top-k).
        public var probabilities: [Double]
        enum CodingKeys: String, CodingKey { case tokenId = "token_id", token, experts, weights, probabilities }
    }
    public struct PromptLayer: Codable, Sendable, Equatable {
        public var name: String
        public var positions: [Position]
    }
    public struct Prompt: Codable, Sendable, Equatable {
        public var prompt: String
        public var tokenIds: [Int]
        public var layers: [PromptLayer]
        enum CodingKeys: String, CodingKey { case prompt, tokenIds = "token_ids", layers }
    }
    public struct LayerSummary: Codable, Sendable, Equatable {
        public var name: String
        /// Per expert: the fraction of all (position, slot) choices at this layer that went to it; sums to 1.
        public var expertShare: [Double]
        /// Mean over positions of the entropy (nats) of the router's distribution over every expert.
        public var meanRouterEntropy: Double
        enum CodingKeys: String, CodingKey { case name, expertShare = "expert_share", meanRouterEntropy = "mean_router_entropy" }
    }
    public var model: String
    public var architecture: String
    public var experts: Int
    public var expertsPerToken: Int
    /// How logits become weights ("softmax, top-k, renormalised" or "top-k, softmax").
    public var routing: String
    public var prompts: [Prompt]
    public var layers: [LayerSummary]
    enum CodingKeys: String, CodingKey {
        case model, architecture, experts, expertsPerToken = "experts_per_token", routing, prompts, layers
    }
}

public enum RoutingIntrospection {
    /// The routing of every position of `sequences` (the token ids of `prompts`) at every layer.
    public static func collect(model: TransformerModel, tokenizer: any TextTokenizer, prompts: [String], sequences: [[Int]],
                               adapters: LoRAAdapters? = nil, modelName: String) throws -> RoutingReport {
        let c = model.config
        guard let moe = c.block.moe, let shape = c.mixture else {
            throw IntrospectionError.badInput("\(modelName) is a dense \(c.architecture.displayName) model: it has no routers to introspect (Mixtral and GPT-OSS have)")
        }
        guard !sequences.isEmpty else { throw IntrospectionError.badInput("no prompts given") }
        if let empty = sequences.firstIndex(where: \.isEmpty) { throw IntrospectionError.badInput("prompt \(empty + 1) is empty") }
        let r = try model.forward(sequences, adapters: adapters, options: ForwardOptions(logits: .none, routing: .allPositions))
        let E = shape.experts
        var report = RoutingReport(model: modelName, architecture: c.architecture.displayName, experts: E, expertsPerToken: shape.perToken,
                                   routing: moe.routing.rawValue, prompts: [], layers: [])
        var counts = [[Int]](repeating: [Int](repeating: 0, count: E), count: r.routing.count)
        var entropy = [Double](repeating: 0, count: r.routing.count)
        for (b, ids) in sequences.enumerated() {
            var prompt = RoutingReport.Prompt(prompt: prompts[b], tokenIds: ids, layers: [])
            for (i, record) in r.routing.enumerated() {
                var positions: [RoutingReport.Position] = []
                for t in 0..<ids.count {
                    let row = r.rowOffsets[b] + t
                    var p = record.logits.row(row)
                    p.withUnsafeMutableBufferPointer { _ = Softmax.forward($0.baseAddress!, count: E) }
                    let experts = Array(record.experts(row: row))
                    for e in experts { counts[i][e] += 1 }
                    entropy[i] -= p.reduce(0.0) { $1 > 0 ? $0 + Double($1) * log(Double($1)) : $0 }
                    positions.append(.init(tokenId: ids[t], token: tokenizer.piece(ids[t]), experts: experts,
                                           weights: record.weights(row: row).map(Double.init), probabilities: p.map(Double.init)))
                }
                prompt.layers.append(.init(name: "L\(record.layer)", positions: positions))
            }
            report.prompts.append(prompt)
        }
        let rows = Double(sequences.reduce(0) { $0 + $1.count })
        report.layers = r.routing.enumerated().map { i, record in
            let total = Double(counts[i].reduce(0, +))
            return .init(name: "L\(record.layer)", expertShare: counts[i].map { Double($0) / total }, meanRouterEntropy: entropy[i] / rows)
        }
        return report
    }
}
