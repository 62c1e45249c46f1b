// A checker for the subset of JSON Schema (draft 2020-12) that docs/schemas/ uses: type, required,
// properties, additionalProperties, items, enum, and $ref into the file's own $defs. Annotations
// (title, description, $schema, $id) are read past; any other keyword is an error, so a schema never
// says more than this checker checks. Not a general validator.
import Foundation

indirect enum JSONValue: Decodable, Equatable, CustomStringConvertible {
    case null, bool(Bool), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Double.self) { self = .number(n) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    static func parse(_ data: Data) throws -> JSONValue { try JSONDecoder().decode(JSONValue.self, from: data) }

    var description: String {
        switch self {
        case .null: return "null"
        case let .bool(b): return "\(b)"
        case let .number(n): return "\(n)"
        case let .string(s): return s.debugDescription
        case let .array(a): return "[\(a.count) items]"
        case let .object(o): return "{\(o.keys.sorted().joined(separator: ", "))}"
        }
    }
}

struct JSONSchemaCheck {
    static let annotations: Set<String> = ["$schema", "$id", "title", "description", "$defs"]
    static let assertions: Set<String> = ["type", "required", "properties", "additionalProperties", "items", "enum", "$ref"]

    let root: [String: JSONValue]

    init(schema: JSONValue) throws {
        guard case let .object(o) = schema else { throw TestFailure("a schema is an object") }
        root = o
    }

    init(contentsOf url: URL) throws { try self.init(schema: JSONValue.parse(Data(contentsOf: url))) }

    /// Every way `value` breaks the schema, as "path: reason"; empty when it conforms.
    func violations(of value: JSONValue) -> [String] {
        var out: [String] = []
        check(value, against: .object(root), at: "$", into: &out)
        return out
    }

    private func check(_ value: JSONValue, against schema: JSONValue, at path: String, into out: inout [String]) {
        if case .bool(true) = schema { return }
        if case .bool(false) = schema { out.append("\(path): not allowed"); return }
        guard case let .object(s) = schema else { out.append("\(path): the schema here is not an object"); return }
        for key in s.keys where !Self.annotations.contains(key) && !Self.assertions.contains(key) {
            out.append("\(path): the schema uses '\(key)', which this checker does not know")
        }
        if case let .string(reference)? = s["$ref"] {
            let prefix = "#/$defs/"
            guard reference.hasPrefix(prefix), case let .object(defs)? = root["$defs"], let target = defs[String(reference.dropFirst(prefix.count))] else {
                out.append("\(path): unresolved $ref \(reference)"); return
            }
            check(value, against: target, at: path, into: &out)
        }
        if let type = s["type"] {
            let names: [String]
            switch type {
            case let .string(name): names = [name]
            case let .array(list): names = list.compactMap { if case let .string(n) = $0 { return n } else { return nil } }
            default: names = []
            }
            guard names.contains(where: { Self.matches(value, type: $0) }) else {
                out.append("\(path): \(value) is not of type \(names.joined(separator: " or "))"); return
            }
        }
        if case let .array(allowed)? = s["enum"], !allowed.contains(value) {
            out.append("\(path): \(value) is not one of \(allowed.map(\.description).joined(separator: ", "))")
        }
        if case let .object(object) = value {
            if case let .array(required)? = s["required"] {
                for case let .string(key) in required where object[key] == nil { out.append("\(path): missing required '\(key)'") }
            }
            var properties: [String: JSONValue] = [:]
            if case let .object(p)? = s["properties"] { properties = p }
            for (key, member) in object.sorted(by: { $0.key < $1.key }) {
                if let p = properties[key] {
                    check(member, against: p, at: "\(path).\(key)", into: &out)
                } else if let extra = s["additionalProperties"] {
                    check(member, against: extra, at: "\(path).\(key)", into: &out)
                }
            }
        }
        if case let .array(items) = value, let itemSchema = s["items"] {
            for (i, item) in items.enumerated() { check(item, against: itemSchema, at: "\(path)[\(i)]", into: &out) }
        }
    }

    static func matches(_ value: JSONValue, type: String) -> Bool {
        switch (type, value) {
        case ("null", .null), ("boolean", .bool), ("number", .number), ("string", .string), ("array", .array), ("object", .object): return true
        case let ("integer", .number(n)): return n.rounded() == n
        default: return false
        }
    }
}
