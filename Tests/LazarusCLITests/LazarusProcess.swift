// The built `lazarus` executable run as a child process: where to find it, and a run that collects its
// exit status and output. Not a test of any library: these tests see only what a user of the CLI sees.
import Foundation
import Testing

struct LazarusProcess {
    struct Finished {
        var status: Int32
        var reason: Process.TerminationReason
        var stdout: String
        var stderr: String
        var stderrLines: [Substring] { stderr.split(separator: "\n", omittingEmptySubsequences: true) }
    }

    /// `swift build -c release --build-tests` puts the executable beside the test bundle; LAZARUS_BINARY overrides.
    static func executable() throws -> URL {
        var candidates: [URL] = []
        if let path = ProcessInfo.processInfo.environment["LAZARUS_BINARY"], !path.isEmpty { candidates.append(URL(fileURLWithPath: path)) }
        if let bundle = Bundle.main.executableURL?.deletingLastPathComponent() { candidates.append(bundle.appendingPathComponent("lazarus")) }
        for bundle in Bundle.allBundles { candidates.append(bundle.bundleURL.deletingLastPathComponent().appendingPathComponent("lazarus")) }
        candidates.append(packageRoot.appendingPathComponent(".build/release/lazarus"))
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw TestFailure("no lazarus executable in \(candidates.map(\.path)); build it with swift build -c release --build-tests")
        }
        return found
    }

    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The committed tiny Llama (2 layers, hidden 32, its own 301-token byte-level tokenizer) as GGUF.
    static let tinyModel = packageRoot.appendingPathComponent("Tests/TransformerTests/Fixtures/tiny_llama.gguf")

    let process = Process()
    private let out = Pipe(), err = Pipe()

    /// Starts `lazarus ARGUMENTS`; output is drained as it comes so a full pipe never stalls the child.
    init(_ arguments: [String], environment: [String: String] = [:]) throws {
        process.executableURL = try Self.executable()
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    var isRunning: Bool { process.isRunning }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    func wait() -> Finished {
        // Read both pipes to their ends before waiting: the child exits only once it has written everything.
        // stderr is drained on another thread into a box that only that thread writes before `group.wait()`.
        final class Collected: @unchecked Sendable { var data = Data() }
        let group = DispatchGroup()
        let errorBytes = Collected()
        let errorHandle = err.fileHandleForReading
        DispatchQueue.global().async(group: group) { errorBytes.data = errorHandle.readDataToEndOfFile() }
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        let stderr = errorBytes.data
        process.waitUntilExit()
        return Finished(status: process.terminationStatus, reason: process.terminationReason,
                        stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
    }

    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Finished {
        try LazarusProcess(arguments, environment: environment).wait()
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

func temporaryFolder(_ name: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("lazarus-cli-\(name)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}
