// `lazarus introspect hidden-states`: the residual stream per layer written as safetensors, for the
// user's own analysis in numpy or torch (the layout is in docs/hidden-states.md).
import ArgumentParser
import Foundation
import Introspection
import Transformer

extension HiddenStatePositions: ExpressibleByArgument {}

struct HiddenStatesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hidden-states",
        abstract: "The residual stream per layer as a .safetensors file (one [rows, D] F32 tensor per layer).",
        discussion: """
            Tensors are named by layer (embed, L0, L1, ...): the input of the first block, then each block's output \
            (before the final norm). Rows are the prompts' last tokens (--positions last) or every token of every \
            prompt one after another (--positions all). The __metadata__ holds JSON texts: prompts, token_ids, \
            layers, positions, rows ([prompt, position] of each row), hidden_size, model, adapter, format. \
            Python: safetensors.numpy.load_file(F) for the tensors, safe_open(F, "np").metadata() for the rest.
            """)
    @OptionGroup var model: ModelOption
    @Option(help: ArgumentHelp(promptsHelp)) var prompts: String
    @OptionGroup var layers: LayerOption
    @Option(help: "last: one row per prompt (its last token); all: one row per token.") var positions: HiddenStatePositions = .last
    @OptionGroup var adapter: AdapterOption
    @Option(help: ArgumentHelp("The .safetensors file to write (atomically: a temporary file, then a rename).", valueName: "file"))
    var output: String

    func run() throws {
        let promptList = try PromptArgument.parse(prompts)
        let m = try model.load()
        let adapters = try adapter.load(for: m)
        let layerList = try layers.resolve(layerCount: m.model.config.layerCount)
        let export = try HiddenStateExport.collect(model: m.model, prompts: promptList, tokenIds: promptList.map { m.tokenizer.encode($0) },
                                                   layers: layerList, positions: positions, adapters: adapters)
        try export.write(to: URL(fileURLWithPath: output), model: model.model, adapter: adapter.adapter)
        let D = m.model.config.hiddenSize
        print("wrote \(output): \(export.layerNames.count) layers (\(export.layerNames.joined(separator: ", "))) × [\(export.rows.count), \(D)] F32")
    }
}
