// Typed reads from JSONSerialization's `Any` values that refuse to guess: a bool is not a number,
// 1.5 is not an integer, and every refusal becomes a ModelFileError naming the file and field.
import Foundation

enum JSONFields {
    /// Parses `data` as a JSON object.
    static func object(_ data: Data, file: String, what: String) throws -> [String: Any] {
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw ModelFileError(file: file, reason: "\(what) is not valid JSON (\(describeJSONError(error))); the file is corrupt — re-download it")
        }
        guard let object = parsed as? [String: Any] else {
            throw ModelFileError(file: file, reason: "\(what) is JSON but not an object ({…}); the file is corrupt or of another kind")
        }
        return object
    }

    private static func describeJSONError(_ error: Error) -> String {
        let nsError = error as NSError
        if let detail = nsError.userInfo[NSDebugDescriptionErrorKey] as? String { return detail }
        return nsError.localizedDescription
    }

    static func isBool(_ value: Any) -> Bool {
        guard let number = value as? NSNumber else { return false }
        return type(of: number) == type(of: NSNumber(value: true))
    }

    /// An integer, or a float with an exactly integral value; never a bool.
    static func int(_ value: Any) -> Int? {
        guard !isBool(value), let number = value as? NSNumber else { return nil }
        if let exact = value as? Int { return exact }
        return Int(exactly: number.doubleValue)
    }

    /// Any number; never a bool.
    static func double(_ value: Any) -> Double? {
        guard !isBool(value), let number = value as? NSNumber else { return nil }
        return number.doubleValue
    }

    static func bool(_ value: Any) -> Bool? {
        guard isBool(value) else { return nil }
        return (value as? NSNumber)?.boolValue
    }

    /// The JSON type of a value, for messages.
    static func typeName(_ value: Any) -> String {
        if value is NSNull { return "null" }
        if isBool(value) { return "a boolean" }
        if value is NSNumber { return "a number" }
        if value is String { return "a string" }
        if value is [Any] { return "an array" }
        if value is [String: Any] { return "an object" }
        return "an unknown value"
    }
}
