// A resumable checkpoint: the PEFT adapter folder plus optimizer.safetensors and trainer_state.json.
// optimizer.safetensors alone is what --resume reads: the flat LoRA parameters, the AdamW moments and the
// trainer state (step, batch sampler, loss history) in one atomically written file, so a save cut short at
// any point (SIGKILL, power loss) leaves the previous checkpoint whole. The adapter files and
// trainer_state.json beside it are the results of the same step, for PEFT and for people to read.
import Foundation
import Transformer
import ModelFiles
import Optimization

struct TrainerState: Codable, Equatable {
    static let currentFormat = 1
    var format = TrainerState.currentFormat
    var step: Int
    var settings: LoRASettings
    /// The model trained on (`TrainingOptions.baseModel`); absent in checkpoints written before it was kept.
    var baseModel: String?
    var parameterCount: Int
    var sampler: BatchSampler
    var trainLosses: [LossPoint]
    var validLosses: [LossPoint]
    /// Lines of metrics.jsonl written so far.
    var metrics: [String]
}

public enum TrainingCheckpoint {
    public static let optimizerFileName = "optimizer.safetensors"
    /// A readable copy of the state held in optimizer.safetensors; written after it.
    public static let stateFileName = "trainer_state.json"
    /// Keys inside optimizer.safetensors.
    static let parametersTensor = "lora_parameters"
    static let stateMetadataKey = "trainer_state"
    public static let metricsFileName = "metrics.jsonl"

    static func save(folder: URL, layout: LoRAParameterLayout, parameters: [Float], optimizer: AdamWState,
                     state: TrainerState, baseModel: String, architecture: Architecture) throws {
        let stepTag = ["lazarus_step": String(state.step)]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let stateJSON = try encoder.encode(state)
        var checkpoint = SafetensorsWriter()
        checkpoint.metadata = stepTag.merging(["adamw_step": String(optimizer.step),
                                               stateMetadataKey: String(decoding: stateJSON, as: UTF8.self)]) { a, _ in a }
        checkpoint.add(name: parametersTensor, shape: [parameters.count], values: parameters)
        checkpoint.add(name: "exp_avg", shape: [optimizer.m.count], values: optimizer.m)
        checkpoint.add(name: "exp_avg_sq", shape: [optimizer.v.count], values: optimizer.v)
        try checkpoint.write(to: folder.appendingPathComponent(optimizerFileName))
        try PEFTAdapterFiles.save(layout.adapters(from: parameters), to: folder, baseModel: baseModel, architecture: architecture,
                                  metadata: stepTag)
        try AtomicWrite.write(stateJSON, to: folder.appendingPathComponent(stateFileName))
    }

    /// Removes the temporary files of saves that a killed process left behind (AtomicWrite's `.NAME.tmp-…`).
    static func removeAbandonedTemporaries(in folder: URL) {
        let names = [optimizerFileName, stateFileName, metricsFileName, PEFTAdapterFiles.weightsFileName, PEFTAdapterFiles.configFileName]
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        for entry in entries where names.contains(where: { entry.hasPrefix(".\($0).tmp-") }) {
            try? FileManager.default.removeItem(at: folder.appendingPathComponent(entry))
        }
    }

    /// The step of the checkpoint in `folder`, if it holds one (nil inside when its step tag is unreadable).
    static func savedStep(in folder: URL) -> Int?? {
        let url = folder.appendingPathComponent(optimizerFileName)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        return .some((try? SafetensorsFile(contentsOf: url))?.metadata["lazarus_step"].flatMap(Int.init))
    }

    static func notFound(in folder: URL) -> TrainingError {
        .checkpoint(file: folder.appendingPathComponent(optimizerFileName).path,
                    reason: "not found: --resume needs a folder written by an earlier `lazarus train lora` run")
    }

    /// Removes what a run saves (checkpoint, adapters, metrics), for a run that replaces it.
    static func removeSavedFiles(in folder: URL) {
        for name in [optimizerFileName, stateFileName, metricsFileName, PEFTAdapterFiles.weightsFileName, PEFTAdapterFiles.configFileName] {
            try? FileManager.default.removeItem(at: folder.appendingPathComponent(name))
        }
    }

    /// Reads the checkpoint for a run of `layout` on `baseModel`. The settings and the model are compared
    /// before any tensor shape, so a mismatch is named as what the user changed (`rank 8, this run 16`).
    static func load(folder: URL, layout: LoRAParameterLayout, baseModel: String? = nil) throws
        -> (parameters: [Float], optimizer: AdamWState, state: TrainerState) {
        let url = folder.appendingPathComponent(optimizerFileName)
        func fail(_ why: String) -> TrainingError { .checkpoint(file: url.path, reason: why) }
        guard FileManager.default.fileExists(atPath: url.path) else { throw notFound(in: folder) }
        let file: SafetensorsFile
        do { file = try SafetensorsFile(contentsOf: url) } catch let error as ModelFileError {
            throw fail((error.field.map { "\($0): " } ?? "") + error.reason)
        }
        guard let stateText = file.metadata[stateMetadataKey] else { throw fail("holds no trainer state (metadata \"\(stateMetadataKey)\")") }
        let state: TrainerState
        do { state = try JSONDecoder().decode(TrainerState.self, from: Data(stateText.utf8)) } catch {
            throw fail("its trainer state is not readable (\(error))")
        }
        guard state.format == TrainerState.currentFormat else { throw fail("trainer state format \(state.format), expected \(TrainerState.currentFormat)") }
        let saved = state.settings, now = layout.settings
        func mismatch(_ what: String, _ was: String, _ is_: String, _ option: String) -> TrainingError {
            fail("was trained with \(what) \(was), this run asks for \(is_); resume with \(option) \(was), or train anew with --overwrite")
        }
        guard saved.rank == now.rank else { throw mismatch("rank", "\(saved.rank)", "\(now.rank)", "--rank") }
        guard saved.alpha == now.alpha else { throw mismatch("alpha", "\(saved.alpha)", "\(now.alpha)", "--alpha") }
        guard saved.targets == now.targets else {
            let names = { (t: [Projection]) in t.map(\.rawValue).joined(separator: ",") }
            throw mismatch("targets", names(saved.targets), names(now.targets), "--targets")
        }
        if let was = state.baseModel, let model = baseModel, !was.isEmpty, !model.isEmpty, !sameModel(was, model) {
            throw mismatch("the model", was, model, "--model")
        }
        guard state.parameterCount == layout.count else {
            throw fail("holds \(state.parameterCount) LoRA parameters, this model needs \(layout.count) for the same settings: it was trained on a model of another shape")
        }
        let parameters: [Float], m: [Float], v: [Float]
        do {
            for name in [parametersTensor, "exp_avg", "exp_avg_sq"] where file.shape(of: name) != [layout.count] {
                throw fail("\(name) must hold \(layout.count) values for this model and LoRA settings, found shape \(file.shape(of: name).map { "\($0)" } ?? "none")")
            }
            parameters = try file.floatTensor(named: parametersTensor)
            m = try file.floatTensor(named: "exp_avg")
            v = try file.floatTensor(named: "exp_avg_sq")
        } catch let error as ModelFileError {
            throw fail((error.field.map { "\($0): " } ?? "") + error.reason)
        }
        guard file.metadata["lazarus_step"] == String(state.step), let adamStep = file.metadata["adamw_step"].flatMap(Int.init), adamStep >= 0 else {
            throw fail("its step tags do not match its trainer state (step \(state.step))")
        }
        guard parameters.allSatisfy(\.isFinite), m.allSatisfy(\.isFinite), v.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
            throw fail("holds values that are not finite")
        }
        return (parameters, AdamWState(m: m, v: v, step: adamStep), state)
    }

    /// Two spellings of one model file (a relative path, a symbolic link) are the same model.
    static func sameModel(_ a: String, _ b: String) -> Bool {
        a == b || URL(fileURLWithPath: a).resolvingSymlinksInPath().standardizedFileURL.path
            == URL(fileURLWithPath: b).resolvingSymlinksInPath().standardizedFileURL.path
    }
}
