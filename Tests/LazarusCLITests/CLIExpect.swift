// Shared by the CLI tests of refused inputs: one exact error line, a snapshot of the files around it, the kind of
// a special file, and the small lens and training commands on the tiny model the cases start from.
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Every regular file under a folder and its bytes, to show that a refused command changed nothing. The
/// adapter folder's lock file is left out: each run that takes the lock writes its pid there, refused or not.
func snapshot(_ folder: URL) -> [String: Data] {
    var files: [String: Data] = [:]
    guard let walker = FileManager.default.enumerator(atPath: folder.path) else { return files }
    while let relative = walker.nextObject() as? String {
        let url = folder.appendingPathComponent(relative)
        var isFolder: ObjCBool = false
        if url.lastPathComponent != ".lazarus.lock", FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder), !isFolder.boolValue {
            files[relative] = (try? Data(contentsOf: url)) ?? Data()
        }
    }
    return files
}

func fileKind(_ path: String) -> mode_t {
    var info = stat()
    guard lstat(path, &info) == 0 else { return 0 }
    return info.st_mode & S_IFMT
}

enum CLIExpect {
    static let tiny = LazarusProcess.tinyModel.path

    /// Runs lazarus and expects exit `status` with exactly `line` as the whole of stderr.
    @discardableResult
    static func error(_ arguments: [String], _ line: String, status: Int32 = 1, environment: [String: String] = [:],
                      sourceLocation: SourceLocation = #_sourceLocation) throws -> LazarusProcess.Finished {
        let run = try LazarusProcess.run(arguments, environment: environment)
        #expect(run.reason == .exit && run.status == status, "\(arguments): status \(run.status), stderr \(run.stderr)", sourceLocation: sourceLocation)
        #expect(run.stderrLines == [Substring(line)], "\(arguments):\n got \(run.stderr)\n want \(line)", sourceLocation: sourceLocation)
        return run
    }

    static func lens(_ extra: [String]) -> [String] {
        ["introspect", "logit-lens", "--model", tiny, "--prompts", "ab", "--targets", "add", "--layers", "1"] + extra
    }

    /// DIR/data/train.jsonl of eight short multiplication records.
    static func trainingData(_ folder: URL) throws -> URL {
        let data = folder.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        let records = (2...9).map { "{\"text\": \"\($0) * 3 = \($0 * 3)\"}" }.joined(separator: "\n") + "\n"
        try Data(records.utf8).write(to: data.appendingPathComponent("train.jsonl"))
        return data
    }

    /// `train lora` on the tiny model at rank 2, alpha 4 (small and fast), plus `extra`.
    static func train(_ data: URL, _ adapters: URL, _ extra: [String]) -> [String] {
        ["train", "lora", "--model", tiny, "--data", data.path, "--adapter-path", adapters.path, "--rank", "2", "--alpha", "4",
         "--batch-size", "2"] + extra
    }

    /// Runs another program around lazarus (a shell, script(1)) for what Process cannot give it itself: a raw
    /// byte in an argument, a terminal. Returns the exit status and what it wrote on stdout or stderr.
    static func wrapped(_ program: String, _ arguments: [String], standardError: Bool = false) throws -> (status: Int32, text: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        let pipe = Pipe()
        if standardError { process.standardError = pipe; process.standardOutput = FileHandle.nullDevice } else { process.standardOutput = pipe }
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }
}
