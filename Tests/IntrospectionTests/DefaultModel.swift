// The default model for the Introspection suites that compare with transformers and PEFT, loaded once per
// test process ($LAZARUS_DEFAULT_MODEL or models/ in the package folder, as `ModelLoader.resolve` finds it).
import Foundation
import Transformer
import Testing

enum DefaultModel {
    static let loaded: Result<LoadedModel, Error> = Result { try ModelLoader.load("default") }
    static func get() throws -> LoadedModel { try loaded.get() }
}

/// A committed fixture file or folder of this test target.
func introspectionFixture(_ relative: String) throws -> URL {
    try #require(Bundle.module.url(forResource: "Fixtures/\(relative)", withExtension: nil), "missing fixture \(relative)")
}
