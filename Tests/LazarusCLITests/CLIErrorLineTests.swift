// Every failure of the CLI on a bad input file is one line on stderr that names the file, and a non-zero exit.
import Foundation
import Testing

@Suite struct CLIErrorLineTests {
    /// Runs lazarus and checks the error contract; returns the line for further checks.
    @discardableResult
    static func expectOneErrorLine(_ arguments: [String], naming file: String, environment: [String: String] = [:],
                                   sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let run = try LazarusProcess.run(arguments, environment: environment)
        let lines = run.stderrLines
        #expect(run.reason == .exit && run.status != 0, "\(arguments): status \(run.status)", sourceLocation: sourceLocation)
        #expect(lines.count == 1, "\(arguments): stderr is \(lines.count) lines: \(run.stderr)", sourceLocation: sourceLocation)
        #expect(lines.first?.contains(file) == true, "\(arguments): '\(lines.first ?? "")' does not name \(file)", sourceLocation: sourceLocation)
        return String(lines.first ?? "")
    }

    @Test func truncatedAndMissingModelFiles() throws {
        let folder = try temporaryFolder("gguf")
        defer { try? FileManager.default.removeItem(at: folder) }
        let whole = try Data(contentsOf: LazarusProcess.tinyModel)
        for cut in [0, 3, 8, 23, 100, 1000, whole.count / 2, whole.count - 1] {
            let file = folder.appendingPathComponent("cut-\(cut).gguf")
            try whole.prefix(cut).write(to: file)
            try Self.expectOneErrorLine(["model", "info", file.path], naming: file.lastPathComponent)
            try Self.expectOneErrorLine(["tokenize", file.path, "7 * 8 ="], naming: file.lastPathComponent)
        }
        let missing = folder.appendingPathComponent("absent.gguf")
        try Self.expectOneErrorLine(["model", "info", missing.path], naming: "absent.gguf")
        try Self.expectOneErrorLine(["generate", missing.path, "hello"], naming: "absent.gguf")
    }

    @Test func badTrainingData() throws {
        let folder = try temporaryFolder("data")
        defer { try? FileManager.default.removeItem(at: folder) }
        let cases: [(String, String)] = [
            ("{\"text\": \"fine\"}\n{\"text\": \"cut", "train.jsonl:2"),
            ("{\"text\": \"fine\"}\n[1, 2]\n", "train.jsonl:2"),
            ("{\"text\": \"a\"}\n{\"txt\": \"b\"}\n", "train.jsonl:2"),
            ("{\"text\": \"\u{FF}\"}", "train.jsonl"),
        ]
        for (text, place) in cases {
            var bytes = Data(text.utf8)
            if text.contains("\u{FF}") { bytes = Data([0x7B, 0x22, 0x74, 0x65, 0x78, 0x74, 0x22, 0x3A, 0x22, 0xFF, 0xFE, 0x22, 0x7D]) }
            try bytes.write(to: folder.appendingPathComponent("train.jsonl"))
            try Self.expectOneErrorLine(["train", "lora", "--model", LazarusProcess.tinyModel.path, "--data", folder.path,
                                         "--adapter-path", folder.appendingPathComponent("out").path, "--steps", "1"], naming: place)
        }
    }

    @Test func malformedExperimentConfigs() throws {
        let root = try temporaryFolder("experiments")
        defer { try? FileManager.default.removeItem(at: root) }
        let config = root.appendingPathComponent("cot_vocab_alignment/config.yaml")
        try FileManager.default.createDirectory(at: config.deletingLastPathComponent(), withIntermediateDirectories: true)
        let good = "name: cot_vocab_alignment\nmodel: default\nparameters:\n  max_steps: 2\n  lora:\n    rank: 2\n"
        let cases: [(yaml: String, overrides: [String], mentions: String)] = [
            ("name: [unclosed\n", [], "YAML"),
            (good.replacingOccurrences(of: "max_steps", with: "max_stpes"), [], "parameters.max_stpes"),
            (good.replacingOccurrences(of: "max_steps: 2", with: "max_steps: many"), [], "parameters.max_steps"),
            (good + "extra: 1\n", [], "extra"),
            ("- a\n- b\n", [], "mapping"),
            (good, ["parameters.no_such_key=3"], "parameters.no_such_key"),
            (good, ["parameters.lora.rank=[1"], "parameters.lora.rank"),
        ]
        for c in cases {
            try Data(c.yaml.utf8).write(to: config)
            let line = try Self.expectOneErrorLine(["experiment", "run", "cot_vocab_alignment"] + c.overrides.flatMap { ["--set", $0] },
                                                   naming: c.overrides.isEmpty ? "config.yaml" : c.mentions, environment: ["LAZARUS_EXPERIMENTS": root.path])
            #expect(line.contains(c.mentions), "'\(line)' should mention \(c.mentions)")
        }
        // Nothing was run: no results folder appears for a rejected config.
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("cot_vocab_alignment/results").path))
    }
}
