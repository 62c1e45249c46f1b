// `lazarus train lora` killed at arbitrary moments: whatever is in the adapter folder afterwards is whole
// and loadable, and --resume still reaches exactly the adapters of an uninterrupted run. Ctrl-C (SIGINT)
// saves a checkpoint and exits 130.
import Foundation
import Transformer
import ModelFiles
import Testing
import Training

@Suite(.serialized) struct TrainKillTests {
    static let steps = 40

    /// Arithmetic lines as training data; the tiny model's byte-level tokenizer reads any text.
    static func dataFolder() throws -> URL {
        let folder = try temporaryFolder("data")
        var train = "", valid = ""
        for i in 0..<24 { train += "{\"text\": \"\(i) * \(i % 7 + 2) = \(i * (i % 7 + 2))\"}\n" }
        for i in 0..<4 { valid += "{\"text\": \"\(i + 3) + \(i) = \(2 * i + 3)\"}\n" }
        try Data(train.utf8).write(to: folder.appendingPathComponent("train.jsonl"))
        try Data(valid.utf8).write(to: folder.appendingPathComponent("valid.jsonl"))
        return folder
    }

    /// A checkpoint after every step, so kills land inside saves as often as between them.
    static func arguments(data: URL, adapters: URL, resume: Bool) -> [String] {
        ["train", "lora", "--model", LazarusProcess.tinyModel.path, "--data", data.path, "--adapter-path", adapters.path,
         "--rank", "2", "--alpha", "4", "--targets", "q_proj,v_proj,down_proj", "--steps", String(steps), "--batch-size", "2",
         "--learning-rate", "0.005", "--seed", "5", "--save-every", "1", "--eval-every", "10", "--report-every", "5",
         "--max-seq-length", "32"] + (resume ? ["--resume"] : [])
    }

    static let resultNames: Set<String> = [PEFTAdapterFiles.weightsFileName, PEFTAdapterFiles.configFileName, TrainingCheckpoint.optimizerFileName,
                                           TrainingCheckpoint.stateFileName, TrainingCheckpoint.metricsFileName,
                                           AdapterFolderLock.fileName]  // the run's lock stays, holding the last pid

    static var config: ModelConfig {
        get throws { try ModelLoader.load(LazarusProcess.tinyModel.path).model.config }
    }

    /// Every file of the folder is a complete result or an abandoned hidden temporary; returns the state's step.
    @discardableResult
    static func checkFolder(_ folder: URL, config: ModelConfig, moment: String) throws -> Int? {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        for entry in entries where !resultNames.contains(entry) {
            #expect(entry.hasPrefix(".") && entry.contains(".tmp-"), "\(moment): unexpected file \(entry)")
        }
        func has(_ name: String) -> Bool { entries.contains(name) }
        if has(PEFTAdapterFiles.weightsFileName) || has(PEFTAdapterFiles.configFileName) {
            #expect(has(PEFTAdapterFiles.weightsFileName) && has(PEFTAdapterFiles.configFileName), "\(moment): half an adapter folder")
            #expect(throws: Never.self, "\(moment)") { _ = try PEFTAdapterFiles.load(from: folder, config: config) }
        }
        if has(TrainingCheckpoint.optimizerFileName) {
            let file = try SafetensorsFile(contentsOf: folder.appendingPathComponent(TrainingCheckpoint.optimizerFileName))
            #expect(file.metadata["trainer_state"] != nil, "\(moment)")
        }
        if has(TrainingCheckpoint.metricsFileName) {
            let text = try String(contentsOf: folder.appendingPathComponent(TrainingCheckpoint.metricsFileName), encoding: .utf8)
            #expect(text.isEmpty || text.hasSuffix("\n"), "\(moment): metrics.jsonl ends mid-line")
            for line in text.split(separator: "\n") {
                #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) is [String: Any], "\(moment): \(line)")
            }
        }
        guard has(TrainingCheckpoint.stateFileName) else { return nil }
        let state = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent(TrainingCheckpoint.stateFileName)))
        let step = (state as? [String: Any])?["step"] as? Int
        #expect(step != nil, "\(moment): trainer_state.json has no step")
        return step
    }

    /// The step of the last complete save (0 before the first, or while the state file is being replaced).
    static func savedStep(_ folder: URL) -> Int {
        guard let data = try? Data(contentsOf: folder.appendingPathComponent(TrainingCheckpoint.stateFileName)),
              let state = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { return 0 }
        return state["step"] as? Int ?? 0
    }

    static func adapterValues(_ folder: URL, config: ModelConfig) throws -> [[Float]] {
        let adapters = try PEFTAdapterFiles.load(from: folder, config: config)
        return adapters.layers.flatMap { layer in adapters.targets.flatMap { p in [layer[p]!.a.values, layer[p]!.b.values] } }
    }

    static func trainLosses(_ folder: URL) throws -> [Double] {
        let state = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent(TrainingCheckpoint.stateFileName))) as! [String: Any]
        return (state["trainLosses"] as! [[String: Any]]).map { ($0["loss"] as! NSNumber).doubleValue }
    }

    /// An uninterrupted run, and how long it took.
    static func reference(data: URL) throws -> (folder: URL, seconds: Double) {
        let folder = try temporaryFolder("reference")
        let started = Date()
        let run = try LazarusProcess.run(arguments(data: data, adapters: folder, resume: false))
        #expect(run.status == 0 && run.reason == .exit, "reference run failed: \(run.stderr)")
        return (folder, Date().timeIntervalSince(started))
    }

    @Test func killedRunsLeaveWholeFilesAndResumeToTheSameAdapters() throws {
        let config = try Self.config
        let data = try Self.dataFolder()
        let (reference, seconds) = try Self.reference(data: data)
        defer { for f in [data, reference] { try? FileManager.default.removeItem(at: f) } }

        let folder = try temporaryFolder("killed")
        defer { try? FileManager.default.removeItem(at: folder) }
        // Kill each (re)started run once it has saved a few more steps, after a small delay that differs per
        // attempt so the kill lands at different points of a step or a save; the last attempt runs to the end.
        // Waiting on progress rather than on wall time keeps the test meaningful on a loaded machine.
        var kills = 0, finished = false, lastStep = 0
        for delay in [0.0, 0.007, 0.013, 0.029, 0.002, nil] {
            let resume = FileManager.default.fileExists(atPath: folder.appendingPathComponent(TrainingCheckpoint.optimizerFileName).path)
            let child = try LazarusProcess(Self.arguments(data: data, adapters: folder, resume: resume))
            if let delay {
                let deadline = Date().addingTimeInterval(max(60, seconds * 20))
                while child.isRunning, Self.savedStep(folder) < lastStep + 3, Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
                Thread.sleep(forTimeInterval: delay)
                child.signal(SIGKILL)
            }
            let run = child.wait()
            if run.reason == .uncaughtSignal {
                #expect(run.status == SIGKILL)
                kills += 1
                if let step = try Self.checkFolder(folder, config: config, moment: "after kill \(kills)") { lastStep = step }
            } else {
                #expect(run.status == 0, "the run \(resume ? "resumed" : "started") after \(kills) kills failed: \(run.stderr)")
                finished = true
                break
            }
        }
        #expect(kills >= 3, "the runs ended before they could be killed; only \(kills) kills")
        #expect(finished)
        try Self.checkFolder(folder, config: config, moment: "the end")
        #expect(try Self.adapterValues(folder, config: config) == Self.adapterValues(reference, config: config))
        #expect(try Self.trainLosses(folder) == Self.trainLosses(reference))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { !Self.resultNames.contains($0) }
        #expect(leftovers.isEmpty, "temporaries left after a finished run: \(leftovers)")
    }

    @Test func interruptSavesAndExits130() throws {
        let config = try Self.config
        let data = try Self.dataFolder()
        let (reference, _) = try Self.reference(data: data)
        let folder = try temporaryFolder("interrupted")
        defer { for f in [data, reference, folder] { try? FileManager.default.removeItem(at: f) } }

        let child = try LazarusProcess(Self.arguments(data: data, adapters: folder, resume: false))
        // The first checkpoint shows that the model is loaded and the SIGINT handler installed.
        let state = folder.appendingPathComponent(TrainingCheckpoint.stateFileName)
        while child.isRunning && !FileManager.default.fileExists(atPath: state.path) { Thread.sleep(forTimeInterval: 0.002) }
        child.signal(SIGINT)
        let run = child.wait()
        #expect(run.reason == .exit && run.status == 130, "status \(run.status): \(run.stderr)")
        #expect(run.stdout.contains("stopped at step"))
        let step = try Self.checkFolder(folder, config: config, moment: "after SIGINT")
        #expect(step.map { $0 > 0 && $0 < Self.steps } == true, "saved step \(String(describing: step))")
        #expect(run.stdout.contains("stopped at step \(step ?? -1)/\(Self.steps)"))

        let resumed = try LazarusProcess.run(Self.arguments(data: data, adapters: folder, resume: true))
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try Self.adapterValues(folder, config: config) == Self.adapterValues(reference, config: config))
    }
}
