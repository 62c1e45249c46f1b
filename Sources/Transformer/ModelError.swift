// Errors of model assembly and running: each names the file or field and says what to do.

public enum ModelError: Error, CustomStringConvertible {
    case invalidConfig(file: String, field: String, reason: String)
    case missingTensor(file: String, name: String)
    case tensorShape(file: String, name: String, expected: [Int], found: [Int])
    case unsupportedModel(file: String, reason: String)
    case tokenOutOfRange(id: Int, vocabularySize: Int)
    case emptyInput(String)
    case contextOverflow(needed: Int, capacity: Int)
    case unusedTensor(file: String, name: String, count: Int, model: String)
    case invalidIntervention(String)
    /// A prompt (plus the tokens to generate) longer than the model's context length.
    case contextTooLong(what: String, promptTokens: Int, newTokens: Int, contextLength: Int)

    public var description: String {
        switch self {
        case let .invalidConfig(file, field, reason): return "\(file): \(field): \(reason)"
        case let .missingTensor(file, name): return "\(file): tensor '\(name)' is missing (is the file complete, and of the architecture its metadata names?)"
        case let .tensorShape(file, name, expected, found): return "\(file): tensor '\(name)' has shape \(found), expected \(expected)"
        case let .unsupportedModel(file, reason): return "\(file): \(reason)"
        case let .tokenOutOfRange(id, v): return "token id \(id) is outside the vocabulary (0..<\(v))"
        case let .emptyInput(what): return "empty input: \(what)"
        case let .contextOverflow(needed, capacity): return "sequence needs \(needed) positions but the cache holds \(capacity)"
        case let .unusedTensor(file, name, count, model):
            return "\(file): tensor '\(name)' (one of \(count) unused) is not part of the model its metadata describes (\(model)); the file's metadata or tensors are corrupt — re-download it"
        case let .invalidIntervention(why): return "intervention: \(why)"
        case let .contextTooLong(what, prompt, new, context):
            if new > 0 {
                return "\(what) has \(prompt) tokens; with \(new) new tokens that is \(prompt + new) positions, more than the model's context length of \(context); shorten the prompt or lower --max-tokens"
            }
            return "\(what) has \(prompt) tokens, more than the model's context length of \(context); shorten it"
        }
    }
}
