// The tiny random Mixtral and GPT-OSS models of tools/make_tiny_moe.py (Tests/TransformerTests/Fixtures/moe/)
// and the routing transformers recorded for them, for the test targets beside TransformerTests.
import Foundation
import Transformer

public enum TinyMixtures {
    public static let names = ["tiny_mixtral", "tiny_gpt_oss"]

    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("TransformerTests/Fixtures/moe")

    public static func folder(_ name: String) -> URL { root.appendingPathComponent(name) }

    public static func load(_ name: String) throws -> LoadedModel { try ModelLoader.load(folder(name).path) }

    /// transformers' routing of one prompt: per layer, per position, the chosen experts and their weights.
    public struct PromptRouting: Decodable, Sendable {
        public struct Layer: Decodable, Sendable {
            public var layer: Int
            public var top_k: [[Int]]
            public var weights: [[Double]]
        }
        public var ids: [Int]
        public var router: [Layer]
    }

    /// The folder prompts of `name` in tiny_moe_reference.json.
    public static func referenceRouting(_ name: String) throws -> [PromptRouting] {
        struct Model: Decodable { var name: String; var prompts: [PromptRouting] }
        struct Reference: Decodable { var models: [Model] }
        let data = try Data(contentsOf: root.appendingPathComponent("tiny_moe_reference.json"))
        guard let model = try JSONDecoder().decode(Reference.self, from: data).models.first(where: { $0.name == name }) else {
            throw CocoaError(.fileReadCorruptFile)
        }
        return model.prompts
    }
}
