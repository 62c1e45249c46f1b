// scale_comparison (the original experiment's hypothesis 1): the flagship's measurements on a list of models —
// its own per-seed runner (baseline, direct_sft, cot_sft; lens at three positions, probes, the positive control)
// run on each model with the flagship's stage cache, so a model the flagship already ran costs nothing — then every
// curve against depth normalised to 0–1 (embed at 0, the last block at 1), so models of different depths overlay.
// Each model's own flagship report is written beside the comparison. Not the wording (ScaleComparisonReport.swift).
import Foundation
import Introspection
import Transformer

public enum ScaleComparison: Experiment {
    public static let name = "scale_comparison"
    public static let summary = "Hypothesis 1: the flagship's measurements on several models, by normalised depth"

    /// The flagship's parameters (flat, as its config.yaml) and the models to compare.
    public typealias Parameters = FlatParameters<CoTVocabAlignment.Parameters, Settings>

    public struct Settings: Codable, Sendable, Equatable {
        /// `default`, `default-gemma`, a .gguf file or a Hugging Face folder, each as `--model` takes it.
        public var models: [String]
        /// The flagship's experiment folder, relative to this one: its data, adapters and stage results are shared.
        public var flagshipFolder: String
        enum CodingKeys: String, CodingKey { case models, flagshipFolder = "flagship_folder" }
    }

    /// One training seed (the flagship's first) and its 500 steps: the full run of both default models fits in about
    /// 30 minutes on 2 cores (Gemma 3 270M trains two to three times slower than SmolLM2), and SmolLM2's seed-42
    /// stages come from the flagship's cache when it has run. The cost: no spread across seeds.
    public static let defaultParameters: Parameters = {
        var f = CoTVocabAlignment.defaultParameters
        f.training.seeds = [42]
        return Parameters(shared: f, own: Settings(models: ["default", "default-gemma"], flagshipFolder: "../cot_vocab_alignment"))
    }()

    /// How the report names a model: as given for `default` and `default-gemma`, else its file or folder name (a
    /// committed report must not carry this machine's paths).
    static func displayName(_ model: String) -> String { model.contains("/") ? URL(fileURLWithPath: model).lastPathComponent : model }

    /// A folder name for a model: `default`, or the file or folder name without its extension.
    static func slug(_ model: String) -> String {
        let base = URL(fileURLWithPath: model).deletingPathExtension().lastPathComponent
        let cleaned = String(base.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "_" })
        return cleaned.isEmpty ? "model" : cleaned
    }

    public static func run(parameters p: Parameters, config: ExperimentConfig, context: ExperimentContext) throws -> [URL] {
        try validate(p, source: config.source)
        let wallStart = Date()
        let flagshipFolder = context.experimentFolder.appendingPathComponent(p.flagshipFolder).standardizedFileURL
        // The flagship's data/ and stage cache are written here: no flagship run may use them meanwhile.
        let flagshipClaim = try ExperimentRunner.claim(flagshipFolder)
        defer { withExtendedLifetime(flagshipClaim) {} }
        var models: [ScaleModelResult] = []
        var written: [URL] = []
        var folders = Set<String>()
        for name in p.models {
            let start = Date()
            var folder = "models/" + slug(name)
            while folders.contains(folder) { folder += "_" }
            folders.insert(folder)
            let shown = displayName(name)
            context.log("model \(shown): loading")
            let loaded = try ModelLoader.load(name)
            let targets = try LensPositions.targetTokens(tasks: CoTVocabAlignment.tasks, tokenizer: loaded.tokenizer, style: p.promptStyle)
            // The flagship's folder for data, adapters and stage results; this run's folder for the model's own report.
            let modelContext = ExperimentContext(experimentFolder: flagshipFolder, runFolder: context.runFolder.appendingPathComponent(folder),
                                                 fresh: context.fresh, status: { context.log("[\(shown)] \($0)") }, progress: context.progress)
            // The logit lens: a tuned lens belongs to one model (validate refuses any other `lens`).
            let runs = try p.seeds.map { try CoTVocabAlignment.runSeed($0, p.shared, loaded: loaded, targets: targets, lens: .logit, context: modelContext) }
            let report = CoTReport(parameters: p.shared, model: shown, config: ModelShape(loaded.model.config), runs: runs, targets: targets,
                                   wallSeconds: Date().timeIntervalSince(start))
            written.append(try modelContext.writeJSON(report.results, to: "results.json"))
            for (plot, svg) in report.plots() { written.append(try modelContext.write(svg, to: plot)) }
            written.append(try modelContext.write(report.markdown(), to: "report.md"))
            models.append(ScaleModelResult(name: shown, folder: folder, report: report, seconds: Date().timeIntervalSince(start)))
            context.log(String(format: "model %@: done in %.0f s", shown, Date().timeIntervalSince(start)))
        }
        let report = ScaleComparisonReport(parameters: p, models: models, wallSeconds: Date().timeIntervalSince(wallStart))
        written.append(try context.writeJSON(report.results, to: "results.json"))
        for (name, svg) in report.plots() { written.append(try context.write(svg, to: name)) }
        written.append(try context.write(report.markdown(), to: "report.md"))
        return written
    }

    public static func validate(_ p: Parameters, source: String) throws {
        try CoTVocabAlignment.validate(p.shared, source: source)
        guard !p.models.isEmpty else { throw ExperimentError.badValue(file: source, key: "parameters.models", reason: "must list at least one model, e.g. [default, default-gemma]") }
        for m in p.models where m.trimmingCharacters(in: .whitespaces).isEmpty {
            throw ExperimentError.badValue(file: source, key: "parameters.models", reason: "holds an empty model name")
        }
        guard p.shared.lens == "logit" else {
            throw ExperimentError.badValue(file: source, key: "parameters.lens",
                                           reason: "'\(p.shared.lens)': scale_comparison reads the logit lens only (a tuned lens belongs to one model); use 'logit'")
        }
    }
}
