// The options several commands share, declared once as swift-argument-parser option groups: which model
// (as an option or a positional argument), which LoRA adapter, which layers, and where a report goes.
// Names, defaults and meanings are those every command had before; the checks of their values live below
// the CLI (ModelLoader, LayerSelection, PEFTAdapterFiles).
import ArgumentParser
import Foundation
import Introspection
import Transformer
import Training

/// The help every model argument shows.
let modelHelp = "A .gguf file, a Hugging Face folder, or 'default'."

/// A text that begins with '-' would read as an option; '--' ends the options (the Unix convention).
let dashNote = "A text that starts with '-' goes after '--': lazarus tokenize default -- -273.15"

/// `--model M` (default: the default model).
struct ModelOption: ParsableArguments {
    @Option(help: ArgumentHelp(modelHelp, valueName: "model")) var model = "default"

    func load(weights: WeightStorage = .f32) throws -> LoadedModel { try ModelLoader.load(model, weights: weights) }
}

/// `MODEL` as the first positional argument (model info, tokenize, generate).
struct ModelArgument: ParsableArguments {
    @Argument(help: ArgumentHelp(modelHelp)) var model: String

    func load(weights: WeightStorage = .f32) throws -> LoadedModel { try ModelLoader.load(model, weights: weights) }
}

extension WeightStorage: ExpressibleByArgument {}

/// The help of `--weights` (its default depends on the command).
let weightsHelp = ArgumentHelp(
    "native: keep a GGUF file's quantised weights (and a mixture-of-experts model's MXFP4 or quantised experts) as stored and multiply with fused kernels (inference); native-experts: only the experts; f32: decode every weight to Float32 (exact).",
    valueName: "native|native-experts|f32")

/// `--adapter DIR`: a PEFT-format LoRA folder, checked against the model it is applied to.
struct AdapterOption: ParsableArguments {
    @Option(help: ArgumentHelp("A LoRA adapter folder (PEFT format: adapter_config.json, adapter_model.safetensors).", valueName: "dir"))
    var adapter: String?

    func load(for loaded: LoadedModel) throws -> LoRAAdapters? {
        guard let adapter else { return nil }
        let folder = URL(fileURLWithPath: adapter)
        let adapters = try PEFTAdapterFiles.load(from: folder, config: loaded.model.config)
        try adapters.validate(against: loaded.model.config, source: folder.path)
        return adapters
    }
}

/// `--layers all|embed,4,L8|0.25,0.5`: residual-stream layers by name, index or fraction of depth.
struct LayerOption: ParsableArguments {
    @Option(help: "all, indices (embed,4,L8) or fractions of depth (0.25,0.5).") var layers = "all"

    /// -1 for `embed`, k for `Lk`, sorted.
    func resolve(layerCount: Int) throws -> [Int] { try LayerSelection.parse(layers, layerCount: layerCount) }
}

/// `--lens logit|tuned:DIR`: the logit lens, or a tuned lens written by `lazarus lens train`.
struct LensOption: ParsableArguments {
    @Option(help: ArgumentHelp("logit, or tuned:DIR for a tuned lens written by 'lazarus lens train'.", valueName: "lens"))
    var lens = "logit"

    func load(for loaded: LoadedModel) throws -> LensChoice { try LensChoice.parse(lens, config: loaded.model.config) }
}

/// `--json`: JSON on stdout instead of text (the shapes are in docs/schemas/).
struct JSONFlag: ParsableArguments {
    @Flag(help: "Print JSON instead of text (the shape is in docs/schemas/).") var json = false
}

/// `--output F.json` and `--json`: a report written to a file, printed as JSON, or both.
struct ReportOutput: ParsableArguments {
    @Option(help: ArgumentHelp("Also write the JSON report to this file.", valueName: "file")) var output: String?
    @OptionGroup var format: JSONFlag
    var json: Bool { format.json }

    /// Writes the file if asked; returns true when the report went to stdout as JSON (nothing else to print).
    func emit<T: Encodable>(_ report: T) throws -> Bool {
        if let output { try JSONOutput.write(report, to: output) }
        if json { try JSONOutput.print(report) }
        return json
    }

    /// The closing line of a text report that was also written to a file.
    func printWrote() { if let output { print("wrote \(output)") } }
}
