// An experiment's config.yaml: the original experiment's keys (name, description, model, parameters), with
// `parameters` decoded into the experiment's typed Parameters. Unknown keys are errors that list the
// valid ones; `--set parameters.key=value` overrides a value before decoding.
import Foundation
import Yams

public struct ExperimentConfig: Sendable {
    public var name: String
    public var description: String
    public var model: String
    /// The parameters as plain values (Int, Double, Bool, String, [Any], [String: Any]) after overrides.
    public var parameters: [String: any Sendable]
    public var source: String

    static let topLevelKeys = ["name", "description", "model", "parameters"]

    /// Reads and checks the top level of a config file, then applies the overrides.
    public static func load(_ url: URL, overrides: [String] = []) throws -> ExperimentConfig {
        let file = url.path
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            throw ExperimentError.configFile(file: file, reason: "cannot be read as UTF-8 text")
        }
        return try parse(text, source: file, overrides: overrides)
    }

    public static func parse(_ text: String, source: String, overrides: [String] = []) throws -> ExperimentConfig {
        let loaded = try boundedYAML(text, what: source, fail: { ExperimentError.configFile(file: source, reason: $0) })
        guard var root = loaded as? [String: Any] else {
            throw ExperimentError.configFile(file: source, reason: "must be a mapping with keys \(topLevelKeys.joined(separator: ", "))")
        }
        for o in overrides { try applyOverride(o, to: &root) }
        let unknown = root.keys.filter { !topLevelKeys.contains($0) }.sorted()
        if !unknown.isEmpty { throw ExperimentError.unknownKeys(file: source, keys: unknown, valid: topLevelKeys) }
        func string(_ key: String, default d: String? = nil) throws -> String {
            if let v = root[key] as? String { return v }
            if root[key] == nil, let d { return d }
            throw ExperimentError.badValue(file: source, key: key, reason: "must be a string")
        }
        let params = root["parameters"] ?? [String: Any]()
        guard let parameters = params as? [String: Any] else {
            throw ExperimentError.badValue(file: source, key: "parameters", reason: "must be a mapping")
        }
        return ExperimentConfig(name: try string("name"), description: try string("description", default: ""),
                                model: try string("model", default: "default"),
                                parameters: parameters.mapValues { SendableBox.wrap($0) }, source: source)
    }

    /// `a.b.c=value`: the value is read as YAML, so numbers, booleans and lists keep their types.
    static func applyOverride(_ text: String, to root: inout [String: Any]) throws {
        guard let eq = text.firstIndex(of: "=") else { throw ExperimentError.badOverride("'\(text)': expected key=value, e.g. parameters.max_steps=50") }
        let path = text[..<eq].split(separator: ".").map(String.init)
        let raw = String(text[text.index(after: eq)...])
        guard !path.isEmpty else { throw ExperimentError.badOverride("'\(text)': empty key") }
        let value = try boundedYAML(raw, what: "the value", fail: { ExperimentError.badOverride("'\(text)': \($0)") }) ?? NSNull()
        func set(_ dict: inout [String: Any], _ keys: ArraySlice<String>) throws {
            let k = keys.first!
            if keys.count == 1 { dict[k] = value; return }
            var child = (dict[k] as? [String: Any]) ?? [:]
            if dict[k] != nil && !(dict[k] is [String: Any]) {
                throw ExperimentError.badOverride("'\(text)': '\(k)' is not a mapping")
            }
            try set(&child, keys.dropFirst())
            dict[k] = child
        }
        try set(&root, path[...])
    }

    /// Decodes `parameters` into a typed value: keys the config leaves out take their values from `defaults`,
    /// and a key that `defaults` does not have (at any depth) is an error listing the valid ones.
    public func decodeParameters<P: Codable>(_ type: P.Type, defaults: P) throws -> P {
        let plain = parameters.mapValues { SendableBox.unwrap($0) }
        guard let defaultTree = try? JSONSerialization.jsonObject(with: JSONEncoder().encode(defaults)) as? [String: Any] else {
            throw ExperimentError.configFile(file: source, reason: "internal: the default parameters do not encode")
        }
        try Self.checkKeys(plain, against: defaultTree, path: "parameters", source: source)
        let merged = Self.merge(plain, over: defaultTree)
        // Dates, binary and other YAML-only types have no JSON form: refuse them before serialising.
        guard JSONSerialization.isValidJSONObject(merged),
              let data = try? JSONSerialization.data(withJSONObject: merged, options: [.sortedKeys]) else {
            throw ExperimentError.badValue(file: source, key: "parameters", reason: "holds a value that is not a number, string, boolean, list or mapping")
        }
        do { return try JSONDecoder().decode(P.self, from: data) } catch let error as DecodingError {
            // Foundation reports some mismatches (2.5 for an integer) with no key at all: find the key whose
            // value, put back to its default, makes the parameters decode, and name it.
            if Self.codingPath(of: error)?.isEmpty ?? true, let (key, value, fallback) = Self.culprit(plain, defaults: defaultTree, type: P.self) {
                let expected = Self.isWholeNumber(fallback) && !Self.isWholeNumber(value) ? "a whole number" : "a value like \(Self.shown(fallback))"
                throw ExperimentError.badValue(file: source, key: key, reason: "has the wrong type: \(Self.shown(value)) is not \(expected)")
            }
            try rethrowDecoding(error)
        }
    }

    /// The decoding error as one naming its key (Foundation's coding path), for the cases that carry one.
    private func rethrowDecoding(_ error: DecodingError) throws -> Never {
        do { throw error } catch let DecodingError.typeMismatch(_, ctx) {
            throw ExperimentError.badValue(file: source, key: Self.path(ctx.codingPath), reason: "has the wrong type (\(ctx.debugDescription))")
        } catch let DecodingError.valueNotFound(_, ctx) {
            throw ExperimentError.badValue(file: source, key: Self.path(ctx.codingPath), reason: "must not be null")
        } catch let DecodingError.dataCorrupted(ctx) {
            throw ExperimentError.badValue(file: source, key: Self.path(ctx.codingPath), reason: ctx.debugDescription)
        } catch let DecodingError.keyNotFound(key, ctx) {
            throw ExperimentError.badValue(file: source, key: Self.path(ctx.codingPath + [key]), reason: "is required")
        } catch {
            throw ExperimentError.badValue(file: source, key: "parameters", reason: "\(error)")
        }
    }

    /// The first key (sorted, depth first) of `input` whose value alone stops `type` from decoding:
    /// `(parameters.key, its value, the default's value)`.
    static func culprit<P: Decodable>(_ input: [String: Any], defaults: [String: Any], type: P.Type) -> (String, Any, Any)? {
        func decodes(_ tree: [String: Any]) -> Bool {
            let merged = merge(tree, over: defaults)
            guard JSONSerialization.isValidJSONObject(merged), let data = try? JSONSerialization.data(withJSONObject: merged) else { return false }
            return (try? JSONDecoder().decode(P.self, from: data)) != nil
        }
        func search(_ node: [String: Any], _ defaultNode: [String: Any], path: [String], rebuild: ([String: Any]) -> [String: Any]) -> (String, Any, Any)? {
            for key in node.keys.sorted() {
                guard let value = node[key], let fallback = defaultNode[key] else { continue }
                if let child = value as? [String: Any], let defaultChild = fallback as? [String: Any] {
                    let found = search(child, defaultChild, path: path + [key]) { replaced in
                        var copy = node
                        copy[key] = replaced
                        return rebuild(copy)
                    }
                    if let found { return found }
                    continue
                }
                var copy = node
                copy[key] = fallback
                if decodes(rebuild(copy)) { return ((["parameters"] + path + [key]).joined(separator: "."), value, fallback) }
            }
            return nil
        }
        return search(input, defaults, path: []) { $0 }
    }

    static func codingPath(of error: DecodingError) -> [CodingKey]? {
        switch error {
        case let .typeMismatch(_, ctx), let .valueNotFound(_, ctx), let .dataCorrupted(ctx): return ctx.codingPath
        case let .keyNotFound(key, ctx): return ctx.codingPath + [key]
        @unknown default: return nil
        }
    }

    static func isWholeNumber(_ v: Any) -> Bool {
        let number: Double?
        if type(of: v) == Bool.self { number = nil }
        else if let i = v as? Int { number = Double(i) }
        else if let d = v as? Double { number = d }
        else { number = (v as? NSNumber)?.doubleValue }
        return number.map { $0.rounded() == $0 } ?? false
    }

    static func shown(_ v: Any) -> String {
        if let s = v as? String { return s.debugDescription }
        return "\(v)"
    }

    static func path(_ keys: [CodingKey]) -> String {
        "parameters" + keys.map { k in k.intValue.map { "[\($0)]" } ?? ".\(k.stringValue)" }.joined()
    }

    /// Mappings merge key by key; anything else in `input` replaces the default.
    static func merge(_ input: Any, over defaults: Any) -> Any {
        guard let i = input as? [String: Any], let d = defaults as? [String: Any] else { return input }
        var out = d
        for (k, v) in i { out[k] = d[k].map { merge(v, over: $0) } ?? v }
        return out
    }

    /// Keys of `input` must exist in `known`; list elements are checked against the first default element.
    static func checkKeys(_ input: Any, against known: Any, path: String, source: String) throws {
        if let dict = input as? [String: Any], let knownDict = known as? [String: Any] {
            let unknown = dict.keys.filter { knownDict[$0] == nil }.sorted()
            if !unknown.isEmpty {
                throw ExperimentError.unknownKeys(file: source, keys: unknown.map { "\(path).\($0)" }, valid: knownDict.keys.sorted())
            }
            for (k, v) in dict { try checkKeys(v, against: knownDict[k]!, path: "\(path).\(k)", source: source) }
        } else if let list = input as? [Any], let knownList = known as? [Any], let template = knownList.first {
            for (i, element) in list.enumerated() { try checkKeys(element, against: template, path: "\(path)[\(i)]", source: source) }
        }
    }

    /// Config files are small and hand-written; these limits keep hostile ones from exhausting the machine.
    static let maximumYAMLBytes = 1 << 20
    /// Yams composes and constructs recursively: deeper nesting would overflow the stack.
    static let maximumNesting = 256
    /// Nodes after aliases are expanded: a few lines of anchors can stand for billions ("billion laughs").
    static let maximumNodes = 100_000

    /// Parses YAML text into plain values after checking its size, its nesting and its expanded node count.
    static func boundedYAML(_ text: String, what: String, fail: (String) -> ExperimentError) throws -> Any? {
        guard text.utf8.count <= maximumYAMLBytes else { throw fail("is \(text.utf8.count) bytes, more than the \(maximumYAMLBytes) a config may have") }
        let nesting = nestingBound(text)
        guard nesting <= maximumNesting else {
            throw fail("nests too deeply (up to \(nesting) levels by its brackets, dashes and indentation; at most \(maximumNesting))")
        }
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch {
            throw fail("is not valid YAML (\(yamlReason(error)))")
        }
        guard let root else { return nil }
        guard expandedNodeCount(root, limit: maximumNodes) <= maximumNodes else {
            throw fail("expands to more than \(maximumNodes) values through its aliases (*name)")
        }
        if let key = badMappingKey(root) { throw fail("has a mapping key \(key) that is a list, a mapping or a repeat; keys must be distinct plain names") }
        return root.any
    }

    /// An upper bound on the nesting depth of YAML text, read before parsing: every level is an open flow
    /// bracket, a leading "- ", "? " or ": " indicator, or more indentation (a block sequence may share its
    /// parent key's indentation, hence the factor 2). Brackets inside quotes count too; it never under-counts.
    static func nestingBound(_ text: String) -> Int {
        var openers = 0, deepestLine = 0
        for slice in text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
            let line = Array(slice)
            var i = 0, levels = 0
            while i < line.count, line[i] == UInt8(ascii: " ") || line[i] == UInt8(ascii: "\t") { levels += 1; i += 1 }
            while i < line.count, [UInt8(ascii: "-"), UInt8(ascii: "?"), UInt8(ascii: ":")].contains(line[i]),
                  i + 1 == line.count || line[i + 1] == UInt8(ascii: " ") {
                levels += 1
                i += 1
                while i < line.count, line[i] == UInt8(ascii: " ") { i += 1 }
            }
            deepestLine = max(deepestLine, levels)
            openers += line.count { $0 == UInt8(ascii: "[") || $0 == UInt8(ascii: "{") }
        }
        return 2 * deepestLine + openers + 1
    }

    /// The first mapping key that is not a scalar or repeats one before it: Yams traps on such mappings
    /// (found by the experiment_config fuzz target). Runs after the node budget, so the walk is bounded.
    static func badMappingKey(_ root: Node) -> String? {
        var pending = [root]
        while let node = pending.popLast() {
            if let mapping = node.mapping {
                var seen = Set<String>()
                for (key, value) in mapping {
                    guard let name = key.scalar?.string, seen.insert(name).inserted else { return "'\(key.scalar?.string ?? "(collection)")'" }
                    pending.append(value)
                }
            } else if let sequence = node.sequence {
                pending.append(contentsOf: sequence)
            }
        }
        return nil
    }

    /// Counts nodes with aliases expanded, stopping once past `limit` so the count itself stays cheap.
    static func expandedNodeCount(_ root: Node, limit: Int) -> Int {
        var count = 0
        var pending = [root]
        while let node = pending.popLast(), count <= limit {
            count += 1
            if let mapping = node.mapping {
                for (key, value) in mapping { pending.append(key); pending.append(value) }
            } else if let sequence = node.sequence {
                pending.append(contentsOf: sequence)
            }
        }
        return count
    }

    static func yamlReason(_ error: Error) -> String {
        String(describing: error).split(separator: "\n").first.map(String.init) ?? "parse error"
    }
}

/// Wraps the plain values Yams produces so the config can be Sendable.
struct SendableBox: @unchecked Sendable {
    let value: Any
    static func wrap(_ v: Any) -> any Sendable { SendableBox(value: v) }
    static func unwrap(_ v: any Sendable) -> Any { (v as? SendableBox)?.value ?? v }
}
