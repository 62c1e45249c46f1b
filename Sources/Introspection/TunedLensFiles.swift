// A tuned lens on disk: `tuned_lens.safetensors` (layers.<name>.weight [D, D], layers.<name>.bias [D], float32)
// and `tuned_lens.json` (what the lens fits and how it was trained), each written atomically; the JSON goes
// last, so a folder with a JSON always has its weights. Every shape and value is checked when read.
import Foundation
import Kernels
import ModelFiles

/// The JSON beside the translators (docs/schemas/tuned_lens.schema.json).
public struct TunedLensConfig: Codable, Sendable, Equatable {
    public var format = "lazarus-tuned-lens"
    public var version = 1
    public var hiddenSize: Int
    public var layerCount: Int
    /// Layer names with a translator ("embed", "L0", …).
    public var layers: [String]
    public var model: String
    public var training: TunedLensTrainingSummary?

    enum CodingKeys: String, CodingKey {
        case format, version, hiddenSize = "hidden_size", layerCount = "layer_count", layers, model, training
    }
}

public enum TunedLensFiles {
    public static let weightsFileName = "tuned_lens.safetensors"
    public static let configFileName = "tuned_lens.json"

    public static func tensorName(_ layer: Int, _ part: String) -> String { "layers.\(LayerSelection.name(layer)).\(part)" }

    @discardableResult
    public static func save(_ lens: TunedLens, to folder: URL, model: String, training: TunedLensTrainingSummary?) throws -> TunedLensConfig {
        var writer = SafetensorsWriter()
        writer.metadata = ["format": "pt"]
        for (i, layer) in lens.layers.enumerated() {
            writer.add(name: tensorName(layer, "weight"), shape: [lens.hiddenSize, lens.hiddenSize], values: lens.weights[i].values)
            writer.add(name: tensorName(layer, "bias"), shape: [lens.hiddenSize], values: lens.biases[i])
        }
        let config = TunedLensConfig(hiddenSize: lens.hiddenSize, layerCount: lens.layerCount,
                                     layers: lens.layers.map(LayerSelection.name), model: model, training: training)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try writer.write(to: folder.appendingPathComponent(weightsFileName))
        try AtomicWrite.write(try encoder.encode(config), to: folder.appendingPathComponent(configFileName))
        return config
    }

    public static func load(from folder: URL) throws -> (lens: TunedLens, config: TunedLensConfig) {
        let configURL = folder.appendingPathComponent(configFileName)
        guard let data = FileManager.default.contents(atPath: configURL.path) else {
            throw TunedLensError(file: configURL.path, reason: "not found: pass a folder written by 'lazarus lens train'")
        }
        let config: TunedLensConfig
        do { config = try JSONDecoder().decode(TunedLensConfig.self, from: data) } catch {
            throw TunedLensError(file: configURL.path, reason: "not a tuned-lens config (\(error)): rewrite it with 'lazarus lens train'")
        }
        guard config.format == "lazarus-tuned-lens", config.version == 1 else {
            throw TunedLensError(file: configURL.path, reason: "format \(config.format) version \(config.version); expected lazarus-tuned-lens version 1")
        }
        let d = config.hiddenSize
        guard d > 0, d <= 65536, config.layerCount > 0, config.layerCount <= 4096 else {
            throw TunedLensError(file: configURL.path, reason: "hidden_size \(d) or layer_count \(config.layerCount) out of range")
        }
        var layers: [Int] = []
        for name in config.layers {
            guard let index = layerIndex(ofName: name), index >= -1, index < config.layerCount, !layers.contains(index) else {
                throw TunedLensError(file: configURL.path, reason: "layers: '\(name)' is not a distinct layer of \(config.layerCount) (embed, L0 … L\(config.layerCount - 1))")
            }
            layers.append(index)
        }
        let weightsURL = folder.appendingPathComponent(weightsFileName)
        let file: SafetensorsFile
        do { file = try SafetensorsFile(contentsOf: weightsURL) } catch {
            throw TunedLensError(file: weightsURL.path, reason: "\(error)")
        }
        var weights: [Matrix] = [], biases: [[Float]] = []
        for layer in layers {
            let w = try tensor(file, tensorName(layer, "weight"), shape: [d, d], source: weightsURL.path)
            let b = try tensor(file, tensorName(layer, "bias"), shape: [d], source: weightsURL.path)
            weights.append(Matrix(rows: d, cols: d, values: w))
            biases.append(b)
        }
        let order = layers.indices.sorted { layers[$0] < layers[$1] }
        let lens = TunedLens(layers: order.map { layers[$0] }, weights: order.map { weights[$0] }, biases: order.map { biases[$0] },
                             hiddenSize: d, layerCount: config.layerCount)
        return (lens, config)
    }

    /// "embed" → -1, "Lk" → k; nil for anything else.
    static func layerIndex(ofName name: String) -> Int? {
        if name == "embed" { return -1 }
        guard name.hasPrefix("L"), let k = Int(name.dropFirst()), k >= 0 else { return nil }
        return k
    }

    static func tensor(_ file: SafetensorsFile, _ name: String, shape: [Int], source: String) throws -> [Float] {
        guard let found = file.shape(of: name) else {
            throw TunedLensError(file: source, reason: "tensor \(name) is missing")
        }
        guard found == shape else {
            throw TunedLensError(file: source, reason: "tensor \(name) has shape \(found), expected \(shape)")
        }
        let values: [Float]
        do { values = try file.floatTensor(named: name) } catch { throw TunedLensError(file: source, reason: "\(error)") }
        guard values.allSatisfy(\.isFinite) else {
            throw TunedLensError(file: source, reason: "tensor \(name) holds a value that is not finite")
        }
        return values
    }
}
