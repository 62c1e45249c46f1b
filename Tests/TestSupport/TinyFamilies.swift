// The tiny random family models of tools/make_tiny_families.py (Tests/TransformerTests/Fixtures/families/),
// for the test targets beside TransformerTests that run them: their folders by path, read where they are
// committed rather than copied into every test bundle.
import Foundation
import Transformer

public enum TinyFamilies {
    /// The Hugging Face folders, one per family other than Llama (transformers-5 config.json form).
    public static let names = ["tiny_qwen2", "tiny_qwen3", "tiny_mistral", "tiny_gemma3"]

    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("TransformerTests/Fixtures/families")

    public static func folder(_ name: String) -> URL { root.appendingPathComponent(name) }

    public static func load(_ name: String) throws -> LoadedModel { try ModelLoader.load(folder(name).path) }
}
