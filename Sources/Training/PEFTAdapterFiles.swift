// LoRA adapters on disk in Hugging Face PEFT's layout: a folder with adapter_model.safetensors
// (lora_A [r, in] and lora_B [out, r] per adapted projection) and adapter_config.json, so that
// PeftModel.from_pretrained loads them onto the transformers model of the same weights.
// Not the optimiser checkpoint (TrainingCheckpoint.swift) and not mlx-lm's adapter format.
import Foundation
import Kernels
import Transformer
import ModelFiles

public enum PEFTAdapterFiles {
    public static let weightsFileName = "adapter_model.safetensors"
    public static let configFileName = "adapter_config.json"

    /// PEFT's key for one LoRA matrix ("A" or "B"): PeftModel's prefix before the module path that the
    /// family's name table gives (the transformers module tree of its *ForCausalLM class).
    public static func key(_ names: TensorNames, layer: Int, _ p: Projection, _ matrix: String) -> String {
        "base_model.model.\(names.peftModule(layer: layer, p)).lora_\(matrix).weight"
    }

    /// Saves adapters for a model of `architecture` (whose name table gives the keys).
    public static func save(_ adapters: LoRAAdapters, to folder: URL, baseModel: String, architecture: Architecture) throws {
        try save(adapters, to: folder, baseModel: baseModel, architecture: architecture, metadata: [:])
    }

    /// `metadata` goes into the safetensors header beside PEFT's {"format": "pt"} (the trainer records its step).
    static func save(_ adapters: LoRAAdapters, to folder: URL, baseModel: String, architecture: Architecture,
                     metadata: [String: String]) throws {
        let names = TensorNames(architecture)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var writer = SafetensorsWriter()
        writer.metadata = metadata.merging(["format": "pt"]) { _, pt in pt }
        for (l, layer) in adapters.layers.enumerated() {
            for p in adapters.targets {
                guard let ad = layer[p] else { continue }
                writer.add(name: key(names, layer: l, p, "A"), shape: [ad.a.rows, ad.a.cols], values: ad.a.values)
                writer.add(name: key(names, layer: l, p, "B"), shape: [ad.b.rows, ad.b.cols], values: ad.b.values)
            }
        }
        // PEFT adapts nn.Linear modules by name (target_modules) and the router, a bare parameter in transformers 5,
        // through target_parameters (its weight's path below each layer).
        var config: [String: Any] = [
            "peft_type": "LORA", "task_type": "CAUSAL_LM", "r": adapters.rank, "lora_alpha": Double(adapters.alpha),
            "lora_dropout": 0.0, "target_modules": adapters.targets.filter { $0 != .router }.map(\.rawValue), "bias": "none",
            "base_model_name_or_path": baseModel, "fan_in_fan_out": false, "inference_mode": true, "use_rslora": false,
            "use_dora": false, "init_lora_weights": true, "modules_to_save": NSNull(), "layers_to_transform": NSNull(),
            "rank_pattern": [String: Any](), "alpha_pattern": [String: Any](), "revision": NSNull(),
        ]
        if adapters.targets.contains(.router) { config["target_parameters"] = [names.peftRouterModule + ".weight"] }
        let json = try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys])
        try writer.write(to: folder.appendingPathComponent(weightsFileName))
        try AtomicWrite.write(json, to: folder.appendingPathComponent(configFileName))
    }

    /// Reads a PEFT LoRA folder for a model of `config`; refuses variants the forward pass does not compute
    /// (rsLoRA, DoRA, fan_in_fan_out, biases, per-module ranks) rather than applying them wrongly.
    public static func load(from folder: URL, config: ModelConfig) throws -> LoRAAdapters {
        try loadWithMetadata(from: folder, config: config).adapters
    }

    static func loadWithMetadata(from folder: URL, config: ModelConfig) throws -> (adapters: LoRAAdapters, metadata: [String: String]) {
        let configURL = folder.appendingPathComponent(configFileName)
        let weightsURL = folder.appendingPathComponent(weightsFileName)
        func fail(_ url: URL, _ field: String, _ reason: String) -> TrainingError { .adapterFile(file: url.path, field: field, reason: reason) }
        guard let configData = try? Data(contentsOf: configURL) else { throw fail(configURL, "file", "cannot be read (is this a PEFT adapter folder?)") }
        guard let json = (try? JSONSerialization.jsonObject(with: configData)) as? [String: Any] else {
            throw fail(configURL, "file", "not a JSON object")
        }
        guard (json["peft_type"] as? String) == "LORA" else { throw fail(configURL, "peft_type", "expected \"LORA\", found \(json["peft_type"] ?? "nothing")") }
        guard let rank = json["r"] as? Int, rank > 0, rank <= 1 << 16 else { throw fail(configURL, "r", "must be a positive integer") }
        guard let alphaNumber = json["lora_alpha"] as? Double, alphaNumber.isFinite, alphaNumber > 0 else {
            throw fail(configURL, "lora_alpha", "must be a positive number")
        }
        for flag in ["use_rslora", "use_dora", "fan_in_fan_out"] where (json[flag] as? Bool) == true {
            throw fail(configURL, flag, "is true; Lazarus applies plain LoRA (W x + alpha/r · B A x) only")
        }
        if let bias = json["bias"] as? String, bias != "none" { throw fail(configURL, "bias", "is \"\(bias)\"; only \"none\" is supported") }
        for pattern in ["rank_pattern", "alpha_pattern"] {
            if let p = json[pattern] as? [String: Any], !p.isEmpty { throw fail(configURL, pattern, "per-module ranks or alphas are not supported") }
        }
        if let layers = json["layers_to_transform"], !(layers is NSNull) { throw fail(configURL, "layers_to_transform", "must be null (every layer adapted)") }
        let tensorNames = TensorNames(config.architecture)
        // The router's weight, the one parameter PEFT's target_parameters may name here (RouterLoRA.swift).
        var parameters: [String] = []
        if let listed = json["target_parameters"], !(listed is NSNull) {
            guard let list = listed as? [String] else { throw fail(configURL, "target_parameters", "must be a list of parameter names or null") }
            parameters = list
        }
        let routerParameter = tensorNames.peftRouterModule + ".weight"
        for name in parameters where name != routerParameter {
            throw fail(configURL, "target_parameters", config.block.moe == nil
                ? "'\(name)' is not supported: a dense model has no parameter Lazarus adapts this way"
                : "'\(name)' is not supported; the one parameter Lazarus adapts is the router's, '\(routerParameter)'")
        }
        // PEFT writes null (or []) here for an adapter that targets parameters only.
        let listed = json["target_modules"]
        let names = (listed as? [String]) ?? []
        guard listed is [String] || (!parameters.isEmpty && (listed == nil || listed is NSNull)), !names.isEmpty || !parameters.isEmpty else {
            throw fail(configURL, "target_modules", "must be a list of module names such as [\"q_proj\", \"v_proj\"]")
        }
        var targets: [Projection] = []
        for name in names {
            guard let p = Projection(rawValue: name), p != .router else {
                throw fail(configURL, "target_modules", "'\(name)' is not one of \(Projection.linearModules.map(\.rawValue))")
            }
            if !targets.contains(p) { targets.append(p) }
        }
        if !parameters.isEmpty { targets.append(.router) }
        do { try config.checkLoRATargets(targets) } catch ModelError.invalidConfig(_, _, let reason) {
            throw fail(configURL, parameters.isEmpty ? "target_modules" : "target_parameters", reason)
        }

        let file: SafetensorsFile
        do { file = try SafetensorsFile(contentsOf: weightsURL) } catch let error as ModelFileError {
            throw fail(weightsURL, error.field ?? "file", error.reason)
        }
        let alpha = Float(alphaNumber)
        var layers = [[Projection: LoRAAdapter]](repeating: [:], count: config.layerCount)
        var used = 0
        for l in 0..<config.layerCount {
            for p in targets {
                let shape = p.shape(config)
                var matrices: [Matrix] = []
                for (m, expected) in [("A", [rank, shape[1]]), ("B", [shape[0], rank])] {
                    let k = key(tensorNames, layer: l, p, m)
                    guard let shape = file.shape(of: k) else { throw fail(weightsURL, k, "missing") }
                    guard shape == expected else { throw fail(weightsURL, k, "shape \(shape), expected \(expected)") }
                    let values: [Float]
                    do { values = try file.floatTensor(named: k) } catch let error as ModelFileError {
                        throw fail(weightsURL, k, error.reason)
                    }
                    matrices.append(Matrix(rows: expected[0], cols: expected[1], values: values))
                    used += 1
                }
                layers[l][p] = LoRAAdapter(a: matrices[0], b: matrices[1], scale: alpha / Float(rank))
            }
        }
        if used != file.tensorNames.count, let extra = file.tensorNames.sorted().first(where: { k in
            !(0..<config.layerCount).contains { l in targets.contains { p in k == key(tensorNames, layer: l, p, "A") || k == key(tensorNames, layer: l, p, "B") } }
        }) {
            throw fail(weightsURL, extra, "not a LoRA matrix of a target module of this \(config.layerCount)-layer model")
        }
        let adapters = LoRAAdapters(rank: rank, alpha: alpha, targets: targets, layers: layers)
        try adapters.validate(against: config, source: weightsURL.path)
        return (adapters, file.metadata)
    }
}
