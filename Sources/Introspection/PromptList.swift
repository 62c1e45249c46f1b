// The prompts of a lens or hidden-states run as the command line gives them: "a|b|c", or @FILE with one
// prompt per line (blank lines skipped). Not a tokenizer: the prompts stay text.
import Foundation
import ModelFiles

public enum PromptList {
    public static func parse(_ argument: String) throws -> [String] {
        if argument.hasPrefix("@") {
            let path = String(argument.dropFirst())
            guard !path.isEmpty else { throw IntrospectionError.badInput("--prompts @: give a file after @, e.g. @prompts.txt") }
            let lines: [TextLines.Line]
            do { lines = try TextLines.read(URL(fileURLWithPath: path), kind: "prompt file (one prompt per line)") } catch let error as ModelFileError {
                throw IntrospectionError.badInput(error.description)
            }
            let prompts = lines.map(\.text).filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
            guard !prompts.isEmpty else { throw IntrospectionError.badInput("\(path): holds no prompts (give one prompt per line)") }
            return prompts
        }
        let items = argument.split(separator: "|", omittingEmptySubsequences: true).map(String.init)
        guard !items.isEmpty else { throw IntrospectionError.badInput("--prompts is empty: give \"a|b\" or @file") }
        return items
    }
}
