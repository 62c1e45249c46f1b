// libFuzzer entry: arbitrary bytes as an experiment's config.yaml (and as a --set override) must parse or be
// rejected with an ExperimentError, and a config that parses must decode its parameters or reject them by key.
import Foundation

/// A small parameter set with the shapes the real experiments use: numbers, strings, lists, a nested mapping.
private struct FuzzParameters: Codable {
    struct Nested: Codable { var rank = 8; var targets = ["q_proj"] }
    var max_steps = 10
    var learning_rate = 0.001
    var prompt_style = "aligned"
    var layers = [0.5]
    var lora = Nested()
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzExperimentConfig(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let text = String(validating: bytes, as: UTF8.self) else { return 0 }
    do {
        let config = try ExperimentConfig.parse(text, source: "config.yaml")
        _ = try? config.decodeParameters(FuzzParameters.self, defaults: FuzzParameters())
    } catch is ExperimentError {
    } catch {
        fatalError("parse threw something other than an ExperimentError: \(error)")
    }
    // The same bytes as the value (and, before the first '=', the key) of an override.
    let base = "name: fuzz\nparameters:\n  max_steps: 3\n  lora:\n    rank: 4\n"
    do {
        let config = try ExperimentConfig.parse(base, source: "config.yaml", overrides: ["parameters.lora.rank=" + text, text])
        _ = try? config.decodeParameters(FuzzParameters.self, defaults: FuzzParameters())
    } catch is ExperimentError {
    } catch {
        fatalError("an override threw something other than an ExperimentError: \(error)")
    }
    return 0
}
