// The routing report against transformers' routers on the tiny MoE models (the experts chosen at every
// layer and position, their weights), and its summaries against counts made here from that reference.
import Foundation
import Introspection
import LazarusTestSupport
import Testing
import Transformer

@Suite struct RoutingIntrospectionTests {
    @Test("the report's choices are transformers'", arguments: TinyMixtures.names)
    func matchesTransformers(_ name: String) throws {
        let m = try TinyMixtures.load(name)
        let reference = try TinyMixtures.referenceRouting(name)
        let report = try RoutingIntrospection.collect(model: m.model, tokenizer: m.tokenizer, prompts: reference.indices.map { "p\($0)" },
                                                      sequences: reference.map(\.ids), modelName: name)
        let E = m.model.config.mixture!.experts
        #expect(report.experts == 4 && report.expertsPerToken == 2 && report.prompts.count == reference.count)
        var counts = [[Int]](repeating: [Int](repeating: 0, count: E), count: 3)
        var worstWeight = 0.0
        for (p, ref) in zip(report.prompts, reference) {
            #expect(p.layers.map(\.name) == ["L0", "L1", "L2"] && p.tokenIds == ref.ids)
            for (layer, refLayer) in zip(p.layers, ref.router) {
                for (t, position) in layer.positions.enumerated() {
                    #expect(position.experts == refLayer.top_k[t], "\(name) \(layer.name) position \(t)")
                    for (a, b) in zip(position.weights, refLayer.weights[t]) { worstWeight = max(worstWeight, abs(a - b)) }
                    #expect(abs(position.probabilities.reduce(0, +) - 1) < 1e-5)
                    // The chosen experts are the router's most probable ones.
                    let ranked = position.probabilities.indices.sorted { position.probabilities[$0] > position.probabilities[$1] }
                    #expect(Array(ranked.prefix(2)) == position.experts)
                }
                for row in refLayer.top_k { for e in row { counts[refLayer.layer][e] += 1 } }
            }
        }
        #expect(worstWeight < 1e-5)
        for (l, summary) in report.layers.enumerated() {
            let total = Double(counts[l].reduce(0, +))
            for e in 0..<E { #expect(abs(summary.expertShare[e] - Double(counts[l][e]) / total) < 1e-12) }
            #expect(summary.meanRouterEntropy > 0 && summary.meanRouterEntropy < log(Double(E)))
        }
    }

    @Test func aDenseModelHasNoRouters() throws {
        let m = try TinyFamilies.load("tiny_qwen2")
        #expect { try RoutingIntrospection.collect(model: m.model, tokenizer: m.tokenizer, prompts: ["a"], sequences: [[3, 4]], modelName: "q") } throws: {
            String(describing: $0).contains("no routers")
        }
    }
}
