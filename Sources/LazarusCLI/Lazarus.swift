// `lazarus`: the command line. Every failure ends as one line on stderr naming the file, the place and
// the fix, and a non-zero exit code; argument mistakes get swift-argument-parser's usage message.
import ArgumentParser
import Foundation
import Kernels

@main
struct Lazarus: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lazarus",
        abstract: "Interpretability experiments on small Llama-family models, on the CPU.",
        subcommands: [ModelCommand.self, TokenizeCommand.self, GenerateCommand.self, IntrospectCommand.self,
                      TrainCommand.self, ExperimentCommand.self, BenchCommand.self])

    static func main() {
        AllocatorPolicy.keepFreedMemory()
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
        do {
            try command.run()
        } catch let error as ExitCode {
            exit(withError: error)
        } catch let error as CleanExit {
            exit(withError: error)
        } catch {
            let line = String(describing: error).replacingOccurrences(of: "\n", with: " ")
            FileHandle.standardError.write(Data("lazarus: \(line)\n".utf8))
            Foundation.exit(1)
        }
    }
}
