// The one error every model-file reader throws: which file, where in it, which field, and what to do.
// It is not a catalogue of cases: readers phrase the reason, this type only carries and prints it.
import Foundation

public struct ModelFileError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file's path as the user gave it (its folder too: "optimizer.safetensors" alone does not say which run).
    public var file: String
    /// Byte offset in the file where the bad field starts, when the reader knows it.
    public var offset: Int?
    /// The field, key or tensor concerned, e.g. `tensor 'blk.0.attn_q.weight'` or `hidden_size`.
    public var field: String?
    /// What is wrong and, where there is one, the fix.
    public var reason: String

    public init(file: String, offset: Int? = nil, field: String? = nil, reason: String) {
        self.file = file
        self.offset = offset
        self.field = field
        self.reason = reason
    }

    /// One line: `model.gguf: at byte 1234 (tensor 'x'): data runs past the end of the file …`.
    public var description: String {
        var line = file + ":"
        if let offset { line += " at byte \(offset)" }
        if let field { line += offset == nil ? " \(field):" : " (\(field)):" } else if offset != nil { line += ":" }
        line += " " + reason
        return line.replacingOccurrences(of: "\n", with: " ")
    }
}
