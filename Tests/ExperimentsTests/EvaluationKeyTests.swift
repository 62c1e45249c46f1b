// The flagship's evaluation cache key: a dense model's encodes without any routing field (so its cached
// evaluations are found again), and a mixture-of-experts model's differs by the routing probe's version alone.
import Experiments
import Foundation
import Testing

@Suite struct EvaluationKeyTests {
    static let model = ModelIdentity(path: "/models/smollm2.gguf", bytes: 1000, layers: 30, vocabulary: 49152)

    static func json(_ key: EvalStageKey) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(key), as: UTF8.self)
    }

    @Test func aDenseModelsKeyHasNoRoutingField() throws {
        let p = CoTVocabAlignment.defaultParameters
        let dense = try Self.json(CoTVocabAlignment.evaluationKey(p, model: Self.model, stage: "baseline", dataSeed: 42, trainingSeed: 42,
                                                                  mixtureOfExperts: false))
        let tree = try #require(try JSONSerialization.jsonObject(with: Data(dense.utf8)) as? [String: Any])
        // EvalStageKey v5's fields, as they were before the routing probe (the baseline's has no training key).
        #expect(Set(tree.keys) == ["model", "seed", "promptStyle", "evalSamples", "maxNewTokens", "testPrompts", "probe",
                                   "probeSamplesPerOperation", "matchedRanges", "lens", "version"])
        #expect(tree["version"] as? Int == 5)
        let moe = try Self.json(CoTVocabAlignment.evaluationKey(p, model: Self.model, stage: "baseline", dataSeed: 42, trainingSeed: 42,
                                                                mixtureOfExperts: true))
        #expect(moe != dense)
        // Sorted keys: "routing" falls between "promptStyle" and "seed".
        #expect(moe.replacingOccurrences(of: #","routing":1"#, with: "") == dense)
        for stage in ["direct_sft", "cot_sft"] {
            let trained = try Self.json(CoTVocabAlignment.evaluationKey(p, model: Self.model, stage: stage, dataSeed: 42, trainingSeed: 42,
                                                                        mixtureOfExperts: false))
            #expect(!trained.contains("routing") && trained.contains(#""train":{"#))
        }
    }
}
