// Finds an experiment's folder, reads its config with overrides, makes the run folder and runs it.
import Foundation
import Training
import ModelFiles

public enum ExperimentRunner {
    /// `experiments/` in the working folder, or above the executable (a clone's .build/release/lazarus).
    public static func experimentsRoot() -> URL {
        if let env = ProcessInfo.processInfo.environment["LAZARUS_EXPERIMENTS"], !env.isEmpty {
            return URL(fileURLWithPath: env)
        }
        var candidates = [URL(fileURLWithPath: FileManager.default.currentDirectoryPath)]
        var dir = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 { candidates.append(dir); dir = dir.deletingLastPathComponent() }
        for c in candidates {
            let e = c.appendingPathComponent("experiments")
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: e.path, isDirectory: &isDir), isDir.boolValue { return e }
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("experiments")
    }

    public static func configURL(_ name: String, root: URL = experimentsRoot()) -> URL {
        root.appendingPathComponent(name).appendingPathComponent("config.yaml")
    }

    /// Loads the named experiment's config.yaml (with overrides) and checks it decodes.
    public static func loadConfig(_ name: String, overrides: [String], root: URL = experimentsRoot()) throws -> (RegisteredExperiment, ExperimentConfig) {
        let experiment = try ExperimentRegistry.named(name)
        let url = configURL(name, root: root)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw ExperimentError.configFile(file: url.path, reason: "not found (each experiment keeps its config in experiments/NAME/config.yaml)")
        }
        let config = try ExperimentConfig.load(url, overrides: overrides)
        guard config.name == name else {
            throw ExperimentError.badValue(file: url.path, key: "name", reason: "is '\(config.name)' but the folder is '\(name)'")
        }
        try experiment.validate(config)
        return (experiment, config)
    }

    /// The exclusive claim a run holds on an experiment folder (its data/ and stage cache) until it is released;
    /// an experiment that works in another experiment's folder (scale_comparison in the flagship's) claims that one too.
    public static func claim(_ folder: URL) throws -> AdapterFolderLock {
        do { return try AdapterFolderLock(folder: folder) } catch TrainingError.folderInUse(_, let pid) {
            throw ExperimentError.experimentInUse(folder: folder.path, pid: pid)
        }
    }

    /// Runs an experiment; returns the run folder.
    public static func run(_ name: String, overrides: [String] = [], fresh: Bool = false, root: URL = experimentsRoot(),
                           status: @escaping @Sendable (String) -> Void = { _ in },
                           progress: @escaping @Sendable (String, Double) -> Void = { _, _ in }) throws -> URL {
        let (experiment, config) = try loadConfig(name, overrides: overrides, root: root)
        let folder = root.appendingPathComponent(name)
        // One run at a time per experiment folder: two runs share data/ and the stage cache, and an ablation's
        // data written while another run's stage reads it would train that stage on the wrong problems.
        let lock = try claim(folder)
        defer { withExtendedLifetime(lock) {} }
        let resolved = try experiment.resolvedParameters(config)
        let hash = ConfigHash.of(Data(resolved.utf8) + Data(config.model.utf8))
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        formatter.timeZone = TimeZone(identifier: "UTC")
        let runID = "\(formatter.string(from: Date()))-\(hash.prefix(8))"
        let runFolder = folder.appendingPathComponent("results").appendingPathComponent(runID)
        try FileManager.default.createDirectory(at: runFolder, withIntermediateDirectories: true)
        let context = ExperimentContext(experimentFolder: folder, runFolder: runFolder, fresh: fresh, status: status, progress: progress)
        // The config as it ran: the file's text, the overrides and the resolved parameters.
        let snapshot = "# overrides: \(overrides.joined(separator: " "))\n# model: \(config.model)\n# resolved parameters:\n"
            + resolved.split(separator: "\n").map { "#   \($0)" }.joined(separator: "\n") + "\n"
            + ((try? String(contentsOf: configURL(name, root: root), encoding: .utf8)) ?? "")
        _ = try context.write(snapshot, to: "config.yaml")
        context.log("experiment \(name), run \(runID)")
        _ = try experiment.decodeAndRun(config, context)
        // Relative to the experiment folder: a log that is committed must not carry this machine's paths.
        context.log("results in results/\(runID)")
        return runFolder
    }
}
