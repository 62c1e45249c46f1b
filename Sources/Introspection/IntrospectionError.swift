// Errors of the introspection tools, each one line that says what to change.

public enum IntrospectionError: Error, CustomStringConvertible {
    case badLayer(String)
    case badInput(String)
    case notEnoughData(String)

    public var description: String {
        switch self {
        case let .badLayer(s): return "--layers: \(s)"
        case let .badInput(s): return s
        case let .notEnoughData(s): return s
        }
    }
}
