// The one error type of the Tokenizer target: what was wrong, in which file, in which field.
// It is not thrown by encode/decode, which accept any text and any ids.

/// A rejected tokenizer description: the file (or caller-supplied source name), the field or
/// JSON path that was wrong, and why.
public struct TokenizerError: Error, CustomStringConvertible, Equatable, Sendable {
    public let file: String
    public let field: String
    public let reason: String

    public init(file: String, field: String, reason: String) {
        self.file = file
        self.field = field
        self.reason = reason
    }

    public var description: String { "\(file): \(field): \(reason)" }
}
