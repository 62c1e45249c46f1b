// `--help` on every command the built binary has, and the three ways a run ends: help (stdout, 0), an
// argument mistake (message and usage on stderr, 64 = EX_USAGE), any other failure (one line, 1).
import Foundation
import Testing

@Suite struct HelpAndExitCodeTests {
    /// The subcommand names listed under SUBCOMMANDS: in a help screen (two-space indent, then the name).
    static func subcommands(inHelp text: String) -> [String] {
        var names: [String] = []
        var inSection = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("SUBCOMMANDS:") { inSection = true; continue }
            guard inSection else { continue }
            if line.trimmingCharacters(in: .whitespaces).isEmpty { break }
            // A wrapped abstract is indented further than a name.
            guard line.hasPrefix("  "), !line.hasPrefix("   "), let name = line.split(separator: " ").first else { continue }
            names.append(String(name))
        }
        return names
    }

    /// Every command path reachable from the root's help, found by reading each help screen in turn.
    static func allCommandPaths() throws -> [[String]] {
        var found: [[String]] = []
        var queue: [[String]] = [[]]
        while let path = queue.first {
            queue.removeFirst()
            found.append(path)
            let run = try LazarusProcess.run(path + ["--help"])
            queue += subcommands(inHelp: run.stdout).filter { $0 != "help" }.map { path + [$0] }
        }
        return found
    }

    @Test func helpOnEveryCommandPrintsUsageAndExitsZero() throws {
        let paths = try Self.allCommandPaths()
        // The discovery itself must not come up short: these are the commands the README promises.
        let expected: [[String]] = [[], ["model"], ["model", "info"], ["tokenize"], ["generate"], ["introspect"],
                                    ["introspect", "logit-lens"], ["introspect", "probe"], ["introspect", "hidden-states"],
                                    ["train"], ["train", "lora"], ["experiment"], ["experiment", "list"], ["experiment", "run"],
                                    ["experiment", "show"], ["bench"]]
        for path in expected { #expect(paths.contains(path), "help does not list \(path.joined(separator: " "))") }
        for path in paths {
            for flag in ["--help", "-h"] {
                let run = try LazarusProcess.run(path + [flag])
                let name = (["lazarus"] + path).joined(separator: " ")
                #expect(run.reason == .exit && run.status == 0, "\(name) \(flag): status \(run.status), stderr \(run.stderr)")
                #expect(run.stdout.contains("USAGE: \(name)"), "\(name) \(flag) prints no usage: \(run.stdout.prefix(200))")
                #expect(run.stderr.isEmpty, "\(name) \(flag) wrote to stderr: \(run.stderr)")
            }
        }
        // `lazarus help PATH` is the same screen.
        let viaHelp = try LazarusProcess.run(["help", "introspect", "probe"])
        let viaFlag = try LazarusProcess.run(["introspect", "probe", "--help"])
        #expect(viaHelp.status == 0 && viaHelp.stdout == viaFlag.stdout)
    }

    /// An argument mistake: exit 64, the message and the failing command's usage on stderr, nothing on stdout.
    static func expectUsageError(_ arguments: [String], usageOf command: String, mentions: String,
                                 sourceLocation: SourceLocation = #_sourceLocation) throws {
        let run = try LazarusProcess.run(arguments)
        #expect(run.reason == .exit && run.status == 64, "\(arguments): status \(run.status), stderr \(run.stderr)", sourceLocation: sourceLocation)
        #expect(run.stderr.hasPrefix("Error: "), "\(arguments): \(run.stderr)", sourceLocation: sourceLocation)
        #expect(run.stderr.contains(mentions), "\(arguments): '\(run.stderr)' does not mention \(mentions)", sourceLocation: sourceLocation)
        #expect(run.stderr.contains("Usage: \(command)"), "\(arguments): no usage of \(command) in \(run.stderr)", sourceLocation: sourceLocation)
        #expect(run.stderr.contains("See '\(command) --help'"), "\(arguments): \(run.stderr)", sourceLocation: sourceLocation)
        #expect(run.stdout.isEmpty, "\(arguments): stdout \(run.stdout)", sourceLocation: sourceLocation)
    }

    @Test func argumentErrorsPrintUsageAndExit64() throws {
        let tiny = LazarusProcess.tinyModel.path
        try Self.expectUsageError(["tokenize"], usageOf: "lazarus tokenize", mentions: "Missing expected argument")
        try Self.expectUsageError(["introspect", "logit-lens", "--prompts", "a", "--no-such-option"],
                                  usageOf: "lazarus introspect logit-lens", mentions: "--no-such-option")
        try Self.expectUsageError(["no-such-command"], usageOf: "lazarus", mentions: "no-such-command")
        try Self.expectUsageError(["generate", tiny, "hi", "--max-tokens", "many"], usageOf: "lazarus generate", mentions: "many")
        // validate() of a nested command.
        try Self.expectUsageError(["generate", tiny, "hi", "--max-tokens", "0"], usageOf: "lazarus generate", mentions: "--max-tokens")
        try Self.expectUsageError(["train", "lora", "--model", tiny, "--data", "x", "--rank", "0"], usageOf: "lazarus train lora", mentions: "rank")
        // A ValidationError found by run() (after the model loaded) still gets that command's usage, not the root's.
        try Self.expectUsageError(["bench", "--model", tiny, "--only", "nothing"], usageOf: "lazarus bench", mentions: "--only")
    }

    @Test func runtimeFailureIsOneLineAndExit1() throws {
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("lazarus-absent-\(UUID().uuidString).gguf").path
        for arguments in [["model", "info", missing], ["introspect", "logit-lens", "--model", missing, "--prompts", "a"]] {
            let run = try LazarusProcess.run(arguments)
            #expect(run.reason == .exit && run.status == 1, "\(arguments): status \(run.status)")
            #expect(run.stderrLines.count == 1 && run.stderr.hasPrefix("lazarus: "), "\(arguments): \(run.stderr)")
            #expect(!run.stderr.contains("Usage"), "\(arguments): a file failure is not a usage error: \(run.stderr)")
            #expect(run.stderr.contains("lazarus-absent-"), "\(arguments): the line does not name the file: \(run.stderr)")
        }
    }

    @Test func doubleDashPassesATextThatStartsWithADash() throws {
        let tiny = LazarusProcess.tinyModel.path
        try Self.expectUsageError(["tokenize", tiny, "-273.15"], usageOf: "lazarus tokenize", mentions: "<text>")
        let run = try LazarusProcess.run(["tokenize", tiny, "--json", "--", "-273.15"])
        #expect(run.status == 0, "\(run.stderr)")
        struct Output: Decodable { var ids: [Int]; var pieces: [String] }
        let output = try JSONDecoder().decode(Output.self, from: Data(run.stdout.utf8))
        #expect(output.pieces.joined().contains("273"), "\(output.pieces)")
        // An option's value that starts with '-' is attached with '='.
        let lens = try LazarusProcess.run(["introspect", "logit-lens", "--model", tiny, "--prompts=-1+2", "--layers", "L0", "--json"])
        #expect(lens.status == 0 && lens.stdout.contains("\"-1+2\""), "\(lens.stderr)")
        // The help says so, on the commands that take a text and at the root.
        for path in [["tokenize"], ["generate"], []] {
            let help = try LazarusProcess.run(path + ["--help"]).stdout
            #expect(help.contains("after '--': lazarus tokenize default -- -273.15"), "\(path) help does not mention '--': \(help)")
        }
        #expect(try LazarusProcess.run(["introspect", "logit-lens", "--help"]).stdout.contains("--prompts=-1+2"))
    }
}
