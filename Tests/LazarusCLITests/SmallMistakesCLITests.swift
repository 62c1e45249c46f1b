// The small ones: --top-k, --layers "", a missing or non-UTF-8 @file, a JSONL file bad on line 8, an argument
// that is not UTF-8. Each has its one precise line.
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized) struct SmallMistakesCLITests {
    static let tiny = LazarusProcess.tinyModel.path

    @Test func smallArgumentMistakesHavePreciseMessages() throws {
        let folder = try temporaryFolder("small")
        defer { try? FileManager.default.removeItem(at: folder) }
        try CLIExpect.error(CLIExpect.lens(["--top-k", "0"]), "lazarus: --top-k must be at least 1, got 0")
        try CLIExpect.error(CLIExpect.lens(["--top-k=-3"]), "lazarus: --top-k must be at least 1, got -3")
        try CLIExpect.error(["introspect", "logit-lens", "--model", Self.tiny, "--prompts", "ab", "--targets", "add", "--layers", ""],
                             "lazarus: --layers: is empty: use all, embed, an index like 4 or L4, or a fraction like 0.5")
        let missing = folder.appendingPathComponent("prompts.txt")
        try CLIExpect.error(["introspect", "logit-lens", "--model", Self.tiny, "--prompts", "@" + missing.path, "--targets", "add"],
                             "lazarus: \(missing.path): does not exist; give the path of a prompt file (one prompt per line)")
        try Data([0x61, 0x0A, 0x62, 0xFF, 0x0A]).write(to: missing)
        try CLIExpect.error(["introspect", "logit-lens", "--model", Self.tiny, "--prompts", "@" + missing.path, "--targets", "add"],
                             "lazarus: \(missing.path):2: byte 2 (0xFF) is not UTF-8 text; save the prompt file (one prompt per line) as UTF-8")

        // A probe that would train nothing is refused, not reported at chance level.
        let probeData = folder.appendingPathComponent("probe.jsonl")
        try Data((1...6).map { "{\"prompt\": \"\($0) + 1 =\", \"task\": \"add\"}\n{\"prompt\": \"\($0) * 2 =\", \"task\": \"multiply\"}\n" }.joined().utf8).write(to: probeData)
        try CLIExpect.error(["introspect", "probe", "--model", Self.tiny, "--data", probeData.path, "--epochs", "0"], "lazarus: probe epochs must be positive, got 0")
        try CLIExpect.error(["introspect", "probe", "--model", Self.tiny, "--data", probeData.path, "--learning-rate=-1"],
                            "lazarus: the probe learning rate must be a positive number, got -1.0")

        // Line 8 of a JSONL file holds the bad byte.
        let data = folder.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        var jsonl = Data(String(repeating: "{\"text\": \"7 * 8 = 56\"}\n", count: 7).utf8)
        jsonl.append(contentsOf: [0x7B, 0x22, 0x74, 0x65, 0x78, 0x74, 0x22, 0x3A, 0x22, 0xFF, 0x22, 0x7D, 0x0A])
        try jsonl.write(to: data.appendingPathComponent("train.jsonl"))
        let before = snapshot(folder)
        try CLIExpect.error(CLIExpect.train(data, folder.appendingPathComponent("out"), ["--steps", "1"]),
                             "lazarus: \(data.path)/train.jsonl:8: byte 10 (0xFF) is not UTF-8 text (save the file as UTF-8 JSON Lines)")
        #expect(snapshot(folder) == before)
    }

    @Test func anArgumentThatIsNotUTF8IsRefused() throws {
        // Foundation's Process passes Swift strings (always UTF-8): the shell's printf makes the raw byte.
        let (status, text) = try CLIExpect.wrapped("/bin/sh", ["-c", "exec \"$0\" generate \"$1\" \"$(printf 'a\\377b')\"", try LazarusProcess.executable().path, Self.tiny],
                                                  standardError: true)
        #expect(status == 64)
        #expect(text == "lazarus: argument 3 (\("a\u{FFFD}b".debugDescription)) is not UTF-8 text: byte 2 is 0xFF; give prompts and paths as UTF-8\n", "\(text)")
    }
}
