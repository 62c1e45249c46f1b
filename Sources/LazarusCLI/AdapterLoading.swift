// `--adapter DIR` on generate and introspect: a PEFT-format LoRA folder, checked against the model.
import Foundation
import Transformer
import Training

enum AdapterLoading {
    static func load(_ path: String, for loaded: LoadedModel) throws -> LoRAAdapters {
        let folder = URL(fileURLWithPath: path)
        let adapters = try PEFTAdapterFiles.load(from: folder, config: loaded.model.config)
        try adapters.validate(against: loaded.model.config, source: folder.path)
        return adapters
    }
}
