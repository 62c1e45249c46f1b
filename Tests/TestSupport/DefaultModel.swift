// The default model for the suites that compare with transformers and PEFT, loaded once per test process
// ($LAZARUS_DEFAULT_MODEL or models/ in the package folder, as `ModelLoader.resolve` finds it).
import Foundation
import Transformer

public enum DefaultModel {
    static let loaded: Result<LoadedModel, Error> = Result { try ModelLoader.load("default") }
    public static func get() throws -> LoadedModel { try loaded.get() }
}
