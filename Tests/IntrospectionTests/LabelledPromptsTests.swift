// The probes' JSONL reader on bad files: each rejection names the file and the line, none traps.
import Foundation
import Introspection
import Testing

@Suite struct LabelledPromptsTests {
    static func message(_ bytes: Data) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lazarus-probes-\(UUID().uuidString).jsonl")
        try bytes.write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        do {
            let loaded = try LabelledPrompts.load(url, labelField: "task")
            return "loaded \(loaded.prompts.count)"
        } catch let error as IntrospectionError {
            return error.description.replacingOccurrences(of: url.path, with: "FILE")
                .replacingOccurrences(of: url.lastPathComponent, with: "FILE")
        }
    }

    @Test func goodLinesLoad() throws {
        #expect(try Self.message(Data("{\"prompt\": \"7 * 8 =\", \"task\": \"multiply\"}\n\n{\"prompt\": \"1 + 1 =\", \"task\": 3}\n".utf8)) == "loaded 2")
    }

    @Test func badFilesNameTheLine() throws {
        let cases: [(String, String)] = [
            ("{\"prompt\": \"a\", \"task\": \"x\"}\n{\"prompt\": \"b\", \"ta", "FILE:2: not a JSON object"),
            ("{\"prompt\": \"a\", \"task\": \"x\"}\n[\"prompt\", \"task\"]\n", "FILE:2: not a JSON object"),
            ("\"just a string\"\n", "FILE:1: not a JSON object"),
            ("{\"prompt\": \"a\"}\n", "FILE:1: missing the label field \"task\""),
            ("{\"task\": \"x\"}\n", "FILE:1: missing a non-empty string field \"prompt\""),
            ("{\"prompt\": 7, \"task\": \"x\"}\n", "FILE:1: missing a non-empty string field \"prompt\""),
            ("{\"prompt\": \"\", \"task\": \"x\"}\n", "FILE:1: missing a non-empty string field \"prompt\""),
            ("{\"prompt\": \"a\", \"task\": [1]}\n", "FILE:1: missing the label field"),
            ("\n  \n", "FILE: no records"),
            ("", "FILE: no records"),
        ]
        for (text, expected) in cases {
            let message = try Self.message(Data(text.utf8))
            #expect(message.hasPrefix(expected), "\(text.debugDescription): \(message)")
        }
        // Bytes that are not UTF-8 (a lone continuation byte, an overlong encoding) and a NUL inside a line.
        #expect(try Self.message(Data([0x7B, 0x22, 0x80, 0x22, 0x7D, 0x0A])) == "FILE:1: byte 3 (0x80) is not UTF-8 text; save the JSONL file as UTF-8")
        #expect(try Self.message(Data([0xC0, 0xAF])) == "FILE:1: byte 1 (0xC0) is not UTF-8 text; save the JSONL file as UTF-8")
        #expect(try Self.message(Data("{\"prompt\": \"a\", \"task\": \"x\"}\r\n{\"prompt\": \"\u{E9}\", \"task\": \"y\"}\n".utf8) + Data([0x7B, 0xFF])) == "FILE:3: byte 2 (0xFF) is not UTF-8 text; save the JSONL file as UTF-8")
        // Lines ending in \r\n are lines too (a String split on "\n" would keep "\r\n" as one character).
        #expect(try Self.message(Data("{\"prompt\": \"a\", \"task\": \"x\"}\r\n{\"prompt\": \"b\", \"task\": \"y\"}\r\n".utf8)) == "loaded 2")
        #expect(try Self.message(Data([0x7B, 0x00, 0x7D])).hasPrefix("FILE:1: not a JSON object"))
    }
}
