// What an experiment is (a Swift type with typed Parameters and a run function) and the registry that
// finds one by name.
import Foundation

public protocol Experiment {
    associatedtype Parameters: Codable & Sendable
    static var name: String { get }
    static var summary: String { get }
    /// The defaults that apply when config.yaml leaves a key out.
    static var defaultParameters: Parameters { get }
    /// Checks the parameters before anything runs or is written; errors name the config key (`parameters.max_steps`).
    static func validate(_ parameters: Parameters, source: String) throws
    /// Runs every stage, writing results through the context; returns the paths it wrote.
    static func run(parameters: Parameters, config: ExperimentConfig, context: ExperimentContext) throws -> [URL]
}

/// A registered experiment with its Parameters type erased.
public struct RegisteredExperiment: Sendable {
    public let name: String
    public let summary: String
    let decodeAndRun: @Sendable (ExperimentConfig, ExperimentContext) throws -> [URL]
    let parameterDump: @Sendable (ExperimentConfig) throws -> String
    let check: @Sendable (ExperimentConfig) throws -> Void

    init<E: Experiment>(_ type: E.Type) {
        name = E.name
        summary = E.summary
        decodeAndRun = { config, context in
            let params = try config.decodeParameters(E.Parameters.self, defaults: E.defaultParameters)
            return try E.run(parameters: params, config: config, context: context)
        }
        check = { config in
            try E.validate(try config.decodeParameters(E.Parameters.self, defaults: E.defaultParameters), source: config.source)
        }
        parameterDump = { config in
            let params = try config.decodeParameters(E.Parameters.self, defaults: E.defaultParameters)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            return String(decoding: try encoder.encode(params), as: UTF8.self)
        }
    }

    /// Decodes and validates the parameters: what `run` would refuse, refused before any stage or folder.
    public func validate(_ config: ExperimentConfig) throws { try check(config) }

    /// The decoded parameters (defaults filled in) as pretty JSON.
    public func resolvedParameters(_ config: ExperimentConfig) throws -> String { try parameterDump(config) }
}

public enum ExperimentRegistry {
    public static let all: [RegisteredExperiment] = [
        RegisteredExperiment(CoTVocabAlignment.self),
        RegisteredExperiment(ProbeClassifier.self),
        RegisteredExperiment(CausalInterventions.self),
        RegisteredExperiment(VocabObjective.self),
        RegisteredExperiment(ScaleComparison.self),
    ]

    public static func named(_ name: String) throws -> RegisteredExperiment {
        guard let e = all.first(where: { $0.name == name }) else {
            throw ExperimentError.unknownExperiment(name, known: all.map(\.name))
        }
        return e
    }
}
