// What an experiment is (a Swift type with typed Parameters and a run function) and the registry that
// finds one by name.
import Foundation

public protocol Experiment {
    associatedtype Parameters: Codable & Sendable
    static var name: String { get }
    static var summary: String { get }
    /// The defaults that apply when config.yaml leaves a key out.
    static var defaultParameters: Parameters { get }
    /// Runs every stage, writing results through the context; returns the paths it wrote.
    static func run(parameters: Parameters, config: ExperimentConfig, context: ExperimentContext) throws -> [URL]
}

/// A registered experiment with its Parameters type erased.
public struct RegisteredExperiment: Sendable {
    public let name: String
    public let summary: String
    let decodeAndRun: @Sendable (ExperimentConfig, ExperimentContext) throws -> [URL]
    let parameterDump: @Sendable (ExperimentConfig) throws -> String

    init<E: Experiment>(_ type: E.Type) {
        name = E.name
        summary = E.summary
        decodeAndRun = { config, context in
            let params = try config.decodeParameters(E.Parameters.self, defaults: E.defaultParameters)
            return try E.run(parameters: params, config: config, context: context)
        }
        parameterDump = { config in
            let params = try config.decodeParameters(E.Parameters.self, defaults: E.defaultParameters)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            return String(decoding: try encoder.encode(params), as: UTF8.self)
        }
    }

    /// The decoded parameters (defaults filled in) as pretty JSON.
    public func resolvedParameters(_ config: ExperimentConfig) throws -> String { try parameterDump(config) }
}

public enum ExperimentRegistry {
    public static let all: [RegisteredExperiment] = [
        RegisteredExperiment(CoTVocabAlignment.self),
        RegisteredExperiment(ProbeClassifier.self),
        RegisteredExperiment(CausalInterventions.self),
    ]

    public static func named(_ name: String) throws -> RegisteredExperiment {
        guard let e = all.first(where: { $0.name == name }) else {
            throw ExperimentError.unknownExperiment(name, known: all.map(\.name))
        }
        return e
    }
}
