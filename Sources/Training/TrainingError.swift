// Errors of data loading, training and adapter files: each names the file (and line or field) and the fix.

public enum TrainingError: Error, CustomStringConvertible, Equatable {
    /// A JSONL record that cannot be used: file, 1-based line, what is wrong, what to do.
    case malformedData(file: String, line: Int, reason: String, fix: String)
    case missingData(file: String, reason: String)
    case invalidSetting(String)
    /// The loss (or a gradient) at `step` was NaN or infinite; the last good adapters were kept.
    case nonFiniteLoss(step: Int, loss: Double, keptCheckpointAt: String?)
    case adapterFile(file: String, field: String, reason: String)
    case checkpoint(file: String, reason: String)
    /// Another run holds the folder's lock (its pid, when it could be read).
    case folderInUse(folder: String, pid: Int?)

    public var description: String {
        switch self {
        case let .malformedData(file, line, reason, fix): return "\(file):\(line): \(reason) (\(fix))"
        case let .missingData(file, reason): return "\(file): \(reason)"
        case let .invalidSetting(why): return why
        case let .nonFiniteLoss(step, loss, kept):
            let where_ = kept.map { "; the last good adapters are in \($0)" } ?? ""
            return "training stopped at step \(step): the loss is \(loss) (lower the learning rate or set a gradient clip norm)\(where_)"
        case let .adapterFile(file, field, reason): return "\(file): \(field): \(reason)"
        case let .checkpoint(file, reason): return "\(file): \(reason)"
        case let .folderInUse(folder, pid):
            let holder = pid.map { "another lazarus run (pid \($0))" } ?? "another lazarus run"
            return "\(folder): is being written by \(holder); wait for it to finish or use another adapter folder"
        }
    }
}
