// Prompts with a label, read from a JSONL file of objects (`{"prompt": …, "task": …}`, the label field
// chosen by the caller). A malformed line is an error naming the file, the line and the fix.
import Foundation

public struct LabelledPrompts: Sendable {
    public var prompts: [String]
    public var labels: [String]

    /// The distinct labels in order of first appearance.
    public var classes: [String] {
        var seen: [String] = []
        for l in labels where !seen.contains(l) { seen.append(l) }
        return seen
    }

    public static func load(_ url: URL, promptField: String = "prompt", labelField: String) throws -> LabelledPrompts {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw IntrospectionError.badInput("\(url.path): cannot be read")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw IntrospectionError.badInput("\(url.path): is not UTF-8 text")
        }
        var prompts: [String] = [], labels: [String] = []
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty { continue }
            let place = "\(url.lastPathComponent):\(i + 1)"
            guard let object = (try? JSONSerialization.jsonObject(with: Data(trimmed.utf8))) as? [String: Any] else {
                throw IntrospectionError.badInput("\(place): not a JSON object (each line must be one object like {\"\(promptField)\": \"7 * 8 =\", \"\(labelField)\": \"multiply\"})")
            }
            guard let prompt = object[promptField] as? String, !prompt.isEmpty else {
                throw IntrospectionError.badInput("\(place): missing a non-empty string field \"\(promptField)\"")
            }
            let label: String
            if let s = object[labelField] as? String { label = s }
            else if let n = object[labelField] as? NSNumber { label = n.stringValue }
            else { throw IntrospectionError.badInput("\(place): missing the label field \"\(labelField)\" (choose another with --label)") }
            prompts.append(prompt)
            labels.append(label)
        }
        guard !prompts.isEmpty else { throw IntrospectionError.badInput("\(url.path): no records") }
        return LabelledPrompts(prompts: prompts, labels: labels)
    }
}
