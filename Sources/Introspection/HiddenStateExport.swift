// The residual stream handed over as a file: chosen layers at the last token of each prompt, or at every
// token, written as safetensors (one F32 tensor per layer) that numpy, torch or any safetensors reader
// opens directly. The layout is documented in docs/hidden-states.md. Not a lens or a probe: just the numbers.
import Foundation
import Kernels
import ModelFiles
import Transformer

/// Which token positions of each prompt become rows.
public enum HiddenStatePositions: String, Sendable, CaseIterable {
    /// One row per prompt: its last token (the position a next-token readout looks at).
    case last
    /// One row per token, prompts one after another (packed rows, N = the sum of the prompt lengths).
    case all
}

public struct HiddenStateExport: Sendable {
    /// Format name and version in the metadata, so a reader can tell this layout from a later one.
    public static let format = "lazarus.hidden_states.v1"

    public var prompts: [String]
    public var tokenIds: [[Int]]
    /// -1 for `embed`, k for `Lk`, in tensor order.
    public var layerIndices: [Int]
    public var layerNames: [String]
    public var positions: HiddenStatePositions
    /// Row r of every tensor is token rows[r].position of prompt rows[r].prompt.
    public var rows: [(prompt: Int, position: Int)]
    /// states[i]: [R, D], the residual stream at layerIndices[i] (the block's output before the final norm).
    public var states: [Matrix]

    /// Runs the prompts through the model in the collector's batches, keeping the chosen layers and positions.
    public static func collect(model: TransformerModel, prompts: [String], tokenIds: [[Int]], layers: [Int],
                               positions: HiddenStatePositions, adapters: LoRAAdapters? = nil) throws -> HiddenStateExport {
        guard !tokenIds.isEmpty, tokenIds.count == prompts.count else { throw IntrospectionError.notEnoughData("no prompts") }
        guard !layers.isEmpty else { throw IntrospectionError.badLayer("no layers chosen") }
        for l in layers where l < -1 || l >= model.config.layerCount {
            throw IntrospectionError.badLayer("layer \(l) is outside -1...\(model.config.layerCount - 1)")
        }
        var rows: [(prompt: Int, position: Int)] = []
        for (p, ids) in tokenIds.enumerated() {
            guard !ids.isEmpty else { throw IntrospectionError.notEnoughData("prompt \(p) (\(prompts[p].debugDescription)) has no tokens") }
            switch positions {
            case .last: rows.append((p, ids.count - 1))
            case .all: rows += ids.indices.map { (p, $0) }
            }
        }
        let D = model.config.hiddenSize
        var states = layers.map { _ in Matrix(rows: rows.count, cols: D) }
        var row = 0
        for batch in HiddenStateCollector.batches(tokenIds.map(\.count)) {
            let result = try model.forward(Array(tokenIds[batch]), adapters: adapters,
                                           capture: positions == .last ? .lastToken : .allPositions, logits: .none)
            let count = result.hidden[0].rows
            // hidden[0] is embed, hidden[k + 1] is Lk.
            for (i, l) in layers.enumerated() {
                Elementwise.copyRows(result.hidden[l + 1], from: 0, count: count, into: &states[i].values, at: row)
            }
            row += count
        }
        let names = model.layerNames
        return HiddenStateExport(prompts: prompts, tokenIds: tokenIds, layerIndices: layers,
                                 layerNames: layers.map { names[$0 + 1] }, positions: positions, rows: rows, states: states)
    }

    /// The `__metadata__` map: every value a JSON text (safetensors allows only strings), so that
    /// `{k: json.loads(v) for k, v in metadata.items()}` restores lists and numbers.
    public func metadata(model: String, adapter: String?) throws -> [String: String] {
        func json<T: Encodable>(_ value: T) throws -> String {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return String(decoding: try encoder.encode(value), as: UTF8.self)
        }
        var out: [String: String] = [
            "format": try json(Self.format),
            "model": try json(model),
            "prompts": try json(prompts),
            "token_ids": try json(tokenIds),
            "layers": try json(layerNames),
            "positions": try json(positions.rawValue),
            "rows": try json(rows.map { [$0.prompt, $0.position] }),
            "hidden_size": try json(states.first?.cols ?? 0),
        ]
        if let adapter { out["adapter"] = try json(adapter) }
        return out
    }

    /// The whole safetensors file: tensors named by layer (`embed`, `L0`, …), each [R, D] F32.
    public func safetensors(model: String, adapter: String?) throws -> SafetensorsWriter {
        var writer = SafetensorsWriter()
        writer.metadata = try metadata(model: model, adapter: adapter)
        for (name, state) in zip(layerNames, states) {
            writer.add(name: name, shape: [state.rows, state.cols], values: state.values)
        }
        return writer
    }

    /// Writes the file atomically (a temporary file beside it, then a rename).
    public func write(to url: URL, model: String, adapter: String?) throws {
        try safetensors(model: model, adapter: adapter).write(to: url)
    }
}
