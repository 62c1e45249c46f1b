// A resumable checkpoint: the PEFT adapter folder plus optimizer.safetensors (AdamW moments) and
// trainer_state.json (step, batch sampler, loss history). Each file is written atomically and the
// state file last, naming the step the other two must carry, so a torn save is detected on resume.
import Foundation
import Llama
import ModelFiles

struct TrainerState: Codable, Equatable {
    static let currentFormat = 1
    var format = TrainerState.currentFormat
    var step: Int
    var settings: LoRASettings
    var parameterCount: Int
    var sampler: BatchSampler
    var trainLosses: [LossPoint]
    var validLosses: [LossPoint]
    /// Lines of metrics.jsonl written so far.
    var metrics: [String]
}

public enum TrainingCheckpoint {
    public static let optimizerFileName = "optimizer.safetensors"
    /// Written last: its presence means a resumable checkpoint.
    public static let stateFileName = "trainer_state.json"
    public static let metricsFileName = "metrics.jsonl"

    static func save(folder: URL, layout: LoRAParameterLayout, parameters: [Float], optimizer: AdamWState,
                     state: TrainerState, baseModel: String) throws {
        let stepTag = ["lazarus_step": String(state.step)]
        try PEFTAdapterFiles.save(layout.adapters(from: parameters), to: folder, baseModel: baseModel, metadata: stepTag)
        var moments = SafetensorsWriter()
        moments.metadata = stepTag.merging(["adamw_step": String(optimizer.step)]) { a, _ in a }
        moments.add(name: "exp_avg", shape: [optimizer.m.count], values: optimizer.m)
        moments.add(name: "exp_avg_sq", shape: [optimizer.v.count], values: optimizer.v)
        try moments.write(to: folder.appendingPathComponent(optimizerFileName))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try AtomicWrite.write(try encoder.encode(state), to: folder.appendingPathComponent(stateFileName))
    }

    static func load(folder: URL, config: LlamaConfig, layout: LoRAParameterLayout) throws
        -> (parameters: [Float], optimizer: AdamWState, state: TrainerState) {
        let stateURL = folder.appendingPathComponent(stateFileName)
        func fail(_ url: URL, _ why: String) -> TrainingError { .checkpoint(file: url.path, reason: why) }
        guard let stateData = try? Data(contentsOf: stateURL) else {
            throw fail(stateURL, "cannot be read: --resume needs a folder written by an earlier `lazarus train lora` run")
        }
        let state: TrainerState
        do { state = try JSONDecoder().decode(TrainerState.self, from: stateData) } catch {
            throw fail(stateURL, "is not a trainer state file (\(error))")
        }
        guard state.format == TrainerState.currentFormat else { throw fail(stateURL, "format \(state.format), expected \(TrainerState.currentFormat)") }
        guard state.settings == layout.settings else {
            throw fail(stateURL, "was trained with rank \(state.settings.rank), alpha \(state.settings.alpha), targets \(state.settings.targets.map(\.rawValue)); resume with the same LoRA settings")
        }
        guard state.parameterCount == layout.count else { throw fail(stateURL, "holds \(state.parameterCount) parameters, this model needs \(layout.count)") }

        let (adapters, adapterMetadata) = try PEFTAdapterFiles.loadWithMetadata(from: folder, config: config)
        let adapterURL = folder.appendingPathComponent(PEFTAdapterFiles.weightsFileName)
        guard adapterMetadata["lazarus_step"] == String(state.step) else {
            throw fail(adapterURL, "is from step \(adapterMetadata["lazarus_step"] ?? "unknown"), the trainer state from step \(state.step) (an interrupted save?)")
        }
        let optimizerURL = folder.appendingPathComponent(optimizerFileName)
        let file: SafetensorsFile
        let m: [Float], v: [Float]
        do {
            file = try SafetensorsFile(contentsOf: optimizerURL)
            guard file.shape(of: "exp_avg") == [layout.count], file.shape(of: "exp_avg_sq") == [layout.count] else {
                throw fail(optimizerURL, "needs exp_avg and exp_avg_sq of \(layout.count) values each")
            }
            m = try file.floatTensor(named: "exp_avg")
            v = try file.floatTensor(named: "exp_avg_sq")
        } catch let error as ModelFileError {
            throw fail(optimizerURL, error.description)
        }
        guard file.metadata["lazarus_step"] == String(state.step), let adamStep = file.metadata["adamw_step"].flatMap(Int.init) else {
            throw fail(optimizerURL, "is not the optimizer state of step \(state.step)")
        }
        return (layout.flatten(adapters), AdamWState(m: m, v: v, step: adamStep), state)
    }
}
