// Prompts with a label, read from a JSONL file of objects (`{"prompt": …, "task": …}`, the label field
// chosen by the caller). A malformed line is an error naming the file, the line and the fix.
import Foundation
// The jsonl fuzz target compiles this file together with ModelFiles' sources, as one module.
#if canImport(ModelFiles)
import ModelFiles
#endif

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
        let lines: [TextLines.Line]
        do { lines = try TextLines.read(url, kind: "JSONL file") } catch let error as ModelFileError {
            throw IntrospectionError.badInput(error.description)
        }
        var prompts: [String] = [], labels: [String] = []
        for line in lines {
            let trimmed = line.text.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty { continue }
            let place = "\(url.path):\(line.number)"
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
