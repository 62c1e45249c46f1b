// Errors of the experiments framework: each names the file or key and says what to do.

public enum ExperimentError: Error, CustomStringConvertible {
    case unknownExperiment(String, known: [String])
    case configFile(file: String, reason: String)
    case unknownKeys(file: String, keys: [String], valid: [String])
    case badValue(file: String, key: String, reason: String)
    case badOverride(String)
    case stageFailed(stage: String, reason: String)
    case experimentInUse(folder: String, pid: Int?)

    public var description: String {
        switch self {
        case let .unknownExperiment(name, known):
            return "no experiment named '\(name)'; known: \(known.joined(separator: ", "))"
        case let .configFile(file, reason):
            return "\(file): \(reason)"
        case let .unknownKeys(file, keys, valid):
            return "\(file): unknown key\(keys.count > 1 ? "s" : "") \(keys.map { "'\($0)'" }.joined(separator: ", ")); valid keys: \(valid.joined(separator: ", "))"
        case let .badValue(file, key, reason):
            return "\(file): \(key): \(reason)"
        case let .badOverride(s):
            return "--set \(s)"
        case let .stageFailed(stage, reason):
            return "stage \(stage) failed: \(reason)"
        case let .experimentInUse(folder, pid):
            let holder = pid.map { "another run (pid \($0))" } ?? "another run"
            return "\(folder): \(holder) of this experiment is using its data and stage cache; wait for it to finish, "
                + "or run a copy of the experiment folder"
        }
    }
}
