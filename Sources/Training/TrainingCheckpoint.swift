// A resumable checkpoint: the PEFT adapter folder plus optimizer.safetensors (AdamW moments) and
// trainer_state.json (step, batch sampler, loss history). Each file is written atomically and the
// state file last, naming the step the other two must carry, so a torn save is detected on resume.
import Foundation
import Llama

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

enum TrainingCheckpoint {
    static let optimizerFileName = "optimizer.safetensors"
    static let stateFileName = "trainer_state.json"
    static let metricsFileName = "metrics.jsonl"

    static func save(folder: URL, layout: LoRAParameterLayout, parameters: [Float], optimizer: AdamWState,
                     state: TrainerState, baseModel: String) throws {
        let stepTag = ["lazarus_step": String(state.step)]
        try PEFTAdapterFiles.save(layout.adapters(from: parameters), to: folder, baseModel: baseModel, metadata: stepTag)
        let moments = try InterimSafetensors.encode([
            "exp_avg": InterimSafetensorsTensor(shape: [optimizer.m.count], values: optimizer.m),
            "exp_avg_sq": InterimSafetensorsTensor(shape: [optimizer.v.count], values: optimizer.v),
        ], metadata: stepTag.merging(["adamw_step": String(optimizer.step)]) { a, _ in a })
        try InterimSafetensors.atomicWrite(moments, to: folder.appendingPathComponent(optimizerFileName))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try InterimSafetensors.atomicWrite(try encoder.encode(state), to: folder.appendingPathComponent(stateFileName))
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
        guard let optimizerData = try? Data(contentsOf: optimizerURL) else { throw fail(optimizerURL, "cannot be read") }
        let (moments, metadata) = try InterimSafetensors.decode(optimizerData, file: optimizerURL.path)
        guard metadata["lazarus_step"] == String(state.step), let adamStep = metadata["adamw_step"].flatMap(Int.init) else {
            throw fail(optimizerURL, "is not the optimizer state of step \(state.step)")
        }
        guard let m = moments["exp_avg"]?.values, let v = moments["exp_avg_sq"]?.values, m.count == layout.count, v.count == layout.count else {
            throw fail(optimizerURL, "needs exp_avg and exp_avg_sq of \(layout.count) values each")
        }
        return (layout.flatten(adapters), AdamWState(m: m, v: v, step: adamStep), state)
    }
}
