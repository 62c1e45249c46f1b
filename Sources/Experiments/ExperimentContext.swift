// Where an experiment run reads and writes: its folder (config.yaml, data/, checkpoints/, results/RUN/),
// the stage cache that lets a re-run (or a crashed run) reuse finished stages, and the run's log.
import Foundation
import ModelFiles

public final class ExperimentContext: @unchecked Sendable {
    public let experimentFolder: URL
    public let runFolder: URL
    public let fresh: Bool
    /// Status lines for a person watching (the CLI shows them on a terminal); also kept in log.txt.
    private let statusSink: @Sendable (String) -> Void
    /// Fractional progress of the current piece of work (0...1), for a progress bar.
    public let progress: @Sendable (String, Double) -> Void
    private var logLines: [String] = []
    private let lock = NSLock()

    public init(experimentFolder: URL, runFolder: URL, fresh: Bool,
                status: @escaping @Sendable (String) -> Void = { _ in },
                progress: @escaping @Sendable (String, Double) -> Void = { _, _ in }) {
        self.experimentFolder = experimentFolder
        self.runFolder = runFolder
        self.fresh = fresh
        self.statusSink = status
        self.progress = progress
    }

    public var dataFolder: URL { experimentFolder.appendingPathComponent("data") }
    public var checkpointsFolder: URL { experimentFolder.appendingPathComponent("checkpoints") }
    var stageCacheFolder: URL { checkpointsFolder.appendingPathComponent("stages") }

    /// Records a line in the run log and shows it.
    public func log(_ line: String) {
        let stamp = ISO8601DateFormatter().string(from: Date())
        lock.lock()
        logLines.append("\(stamp) \(line)")
        let text = logLines.joined(separator: "\n") + "\n"
        lock.unlock()
        statusSink(line)
        try? AtomicWrite.write(Data(text.utf8), to: runFolder.appendingPathComponent("log.txt"))
    }

    /// Runs `produce` unless a result for the same stage name and key is cached (and `fresh` is off).
    /// The result is cached atomically, so a run killed mid-stage leaves no half-written entry.
    public func stage<T: Codable, K: Encodable>(_ name: String, key: K, _ produce: () throws -> T) throws -> T {
        let hash = ConfigHash.of(key)
        let file = stageCacheFolder.appendingPathComponent("\(name)-\(hash).json")
        if !fresh, let data = try? Data(contentsOf: file), let cached = try? JSONDecoder().decode(T.self, from: data) {
            log("stage \(name): reusing the result of an earlier run (\(file.lastPathComponent))")
            return cached
        }
        log("stage \(name): running")
        let start = Date()
        let value = try produce()
        try FileManager.default.createDirectory(at: stageCacheFolder, withIntermediateDirectories: true)
        try AtomicWrite.write(try JSONEncoder().encode(value), to: file)
        log(String(format: "stage %@: done in %.1f s", name, Date().timeIntervalSince(start)))
        return value
    }

    /// A checkpoint folder named by stage and key hash (so a changed config trains anew).
    public func checkpointFolder<K: Encodable>(_ name: String, key: K) -> URL {
        checkpointsFolder.appendingPathComponent("\(name)-\(ConfigHash.of(key))")
    }

    /// Writes a file of the run atomically.
    public func write(_ data: Data, to name: String) throws -> URL {
        let url = runFolder.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try AtomicWrite.write(data, to: url)
        return url
    }

    public func write(_ text: String, to name: String) throws -> URL { try write(Data(text.utf8), to: name) }

    /// `compact`: no indentation (a results file of several seeds stays a third the size; readers parse it anyway).
    public func writeJSON<T: Encodable>(_ value: T, to name: String, compact: Bool = false) throws -> URL {
        let encoder = JSONEncoder()
        encoder.outputFormatting = compact ? [.sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return try write(try encoder.encode(value), to: name)
    }
}
