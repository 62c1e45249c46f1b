// `lazarus experiment list | run NAME | show NAME`: the experiments framework from the command line.
import ArgumentParser
import Experiments
import Foundation

struct ExperimentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "experiment", abstract: "List, run and show experiments.",
                                                    subcommands: [List.self, Run.self, Show.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The registered experiments.")
        func run() throws {
            let root = ExperimentRunner.experimentsRoot()
            for e in ExperimentRegistry.all {
                let hasConfig = FileManager.default.fileExists(atPath: ExperimentRunner.configURL(e.name, root: root).path)
                print(e.name.padding(toLength: 22, withPad: " ", startingAt: 0) + e.summary + (hasConfig ? "" : "  (no config.yaml)"))
            }
        }
    }

    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run an experiment; results go to experiments/NAME/results/RUN-ID/.")
        @Argument(help: "The experiment's name (see `lazarus experiment list`).") var name: String
        @Option(name: .customLong("set"), help: "Override a config key, e.g. parameters.max_steps=50 (repeatable).") var overrides: [String] = []
        @Flag(help: "Recompute every stage instead of reusing finished ones.") var fresh = false

        func run() throws {
            let progress = TerminalProgress()
            let folder = try ExperimentRunner.run(name, overrides: overrides, fresh: fresh,
                                                  status: { line in
                                                      if progress.enabled { progress.status(line) } else { FileHandle.standardError.write(Data((line + "\n").utf8)) }
                                                  },
                                                  progress: { label, f in progress.update(label, fraction: f) })
            progress.finish()
            print("results: \(folder.path)")
            for file in ["report.md", "results.json"] where FileManager.default.fileExists(atPath: folder.appendingPathComponent(file).path) {
                print("  \(folder.appendingPathComponent(file).path)")
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "An experiment's description, resolved parameters and latest results.")
        @Argument(help: "The experiment's name.") var name: String

        func run() throws {
            let root = ExperimentRunner.experimentsRoot()
            let (experiment, config) = try ExperimentRunner.loadConfig(name, overrides: [], root: root)
            print("\(experiment.name): \(experiment.summary)")
            if !config.description.isEmpty { print(config.description) }
            print("model: \(config.model)")
            print("config: \(ExperimentRunner.configURL(name, root: root).path)")
            print("parameters (defaults filled in):")
            print(try experiment.resolvedParameters(config))
            let results = root.appendingPathComponent(name).appendingPathComponent("results")
            let runs = ((try? FileManager.default.contentsOfDirectory(atPath: results.path)) ?? []).sorted()
            if let latest = runs.last(where: { FileManager.default.fileExists(atPath: results.appendingPathComponent($0).appendingPathComponent("report.md").path) }) {
                let report = results.appendingPathComponent(latest).appendingPathComponent("report.md")
                print("\nlatest report: \(report.path)\n")
                if let text = try? String(contentsOf: report, encoding: .utf8) { print(text) }
            } else {
                print("\nno finished runs yet: lazarus experiment run \(name)")
            }
        }
    }
}
