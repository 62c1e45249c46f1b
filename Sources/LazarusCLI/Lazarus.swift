// `lazarus`: the command line. Three kinds of ending, as swift-argument-parser's own `main` and the Unix
// conventions have them: help and version print to stdout and exit 0; argument mistakes (parse errors and
// `ValidationError`, also when `run()` finds them) print the message and the command's usage and exit 64
// (EX_USAGE); every other failure is one line on stderr naming the file, the place and the fix, exit 1.
import ArgumentParser
import Foundation
import Kernels

@main
struct Lazarus: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lazarus",
        abstract: "Interpretability experiments on small language models (Llama, Mistral, Qwen2/3, Gemma 3, Mixtral, GPT-OSS), on the CPU.",
        discussion: dashNote,
        subcommands: [ModelCommand.self, TokenizeCommand.self, GenerateCommand.self, IntrospectCommand.self,
                      TrainCommand.self, LensCommand.self, ExperimentCommand.self, BenchCommand.self])

    static func main() {
        if let line = ArgumentEncoding.firstInvalid() {
            FileHandle.standardError.write(Data("lazarus: \(line)\n".utf8))
            Foundation.exit(64)
        }
        var command: ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            exit(withError: error)
        }
        // A diagnostic kernel choice that cannot be honoured is said once, whatever the command.
        if let note = KernelPath.environmentNote { FileHandle.standardError.write(Data("lazarus: \(note)\n".utf8)) }
        do {
            try command.run()
        } catch let error as ValidationError {
            // Thrown by run() rather than the parser, it would get the root's usage; the failing command's is the useful one.
            let usage = usageString(for: type(of: command))
            let name = ([configuration.commandName ?? "lazarus"] + commandPath(of: type(of: command))).joined(separator: " ")
            FileHandle.standardError.write(Data("Error: \(error.message)\nUsage: \(usage)\n  See '\(name) --help' for more information.\n".utf8))
            Foundation.exit(ExitCode.validationFailure.rawValue)
        } catch {
            // The parser's own endings (`--help` runs a help command that throws its request, CleanExit, ExitCode)
            // have an exit code other than the generic failure; everything else is ours and gets one line.
            if error is ExitCode || exitCode(for: error) != .failure { exit(withError: error) }
            let line = String(describing: error).replacingOccurrences(of: "\n", with: " ")
            FileHandle.standardError.write(Data("lazarus: \(line)\n".utf8))
            Foundation.exit(ExitCode.failure.rawValue)
        }
    }

    /// The subcommand names from the root down to `command` (empty for the root itself).
    static func commandPath(of command: ParsableCommand.Type) -> [String] {
        func search(_ node: ParsableCommand.Type, _ path: [String]) -> [String]? {
            if node == command { return path }
            for sub in node.configuration.subcommands {
                if let found = search(sub, path + [sub._commandName]) { return found }
            }
            return nil
        }
        return search(self, []) ?? []
    }
}
