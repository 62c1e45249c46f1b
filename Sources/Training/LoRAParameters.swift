// One flat layout for LoRA parameters, their gradients and the AdamW moments (habit 15): layer by
// layer, target by target in the settings' order, A's values [r, in] then B's [out, r], row-major.
// Not the adapters the forward pass reads: `adapters(from:)` builds those from a flat vector.
import Kernels
import Transformer
import Optimization

public struct LoRAParameterLayout: Sendable, Equatable {
    public struct Slot: Sendable, Equatable {
        public var layer: Int
        public var projection: Projection
        public var aOffset: Int
        public var aShape: [Int] // [r, in]
        public var bOffset: Int
        public var bShape: [Int] // [out, r]
    }
    public let settings: LoRASettings
    public let layerCount: Int
    public let slots: [Slot]
    public let count: Int

    public init(config: ModelConfig, settings: LoRASettings) {
        self.settings = settings
        layerCount = config.layerCount
        var slots: [Slot] = []
        var offset = 0
        for l in 0..<config.layerCount {
            for p in settings.targets {
                let s = p.shape(config) // [out, in]
                let a = [settings.rank, s[1]], b = [s[0], settings.rank]
                slots.append(Slot(layer: l, projection: p, aOffset: offset, aShape: a, bOffset: offset + a[0] * a[1], bShape: b))
                offset += a[0] * a[1] + b[0] * b[1]
            }
        }
        self.slots = slots
        count = offset
    }

    /// The adapters a flat vector stands for (scale alpha/r).
    public func adapters(from values: [Float]) -> LoRAAdapters {
        precondition(values.count == count, "LoRA parameters: \(values.count) values for a layout of \(count)")
        var layers = [[Projection: LoRAAdapter]](repeating: [:], count: layerCount)
        let scale = settings.alpha / Float(settings.rank)
        for s in slots {
            let a = Matrix(rows: s.aShape[0], cols: s.aShape[1], values: Array(values[s.aOffset..<(s.aOffset + s.aShape[0] * s.aShape[1])]))
            let b = Matrix(rows: s.bShape[0], cols: s.bShape[1], values: Array(values[s.bOffset..<(s.bOffset + s.bShape[0] * s.bShape[1])]))
            layers[s.layer][s.projection] = LoRAAdapter(a: a, b: b, scale: scale)
        }
        return LoRAAdapters(rank: settings.rank, alpha: settings.alpha, targets: settings.targets, layers: layers)
    }

    /// The flat vector of adapters (or of gradients in the adapters' layout); a missing slot reads as zeros.
    public func flatten(_ adapters: LoRAAdapters) -> [Float] {
        var values: [Float] = []
        flatten(adapters, into: &values)
        return values
    }

    /// `flatten` into storage the caller keeps between steps (a step's gradients are megabytes: 7 MB at r16 on
    /// q/k/v/o of the default model, which a fresh array would take as new pages every step).
    public func flatten(_ adapters: LoRAAdapters, into values: inout [Float]) {
        values.removeAll(keepingCapacity: true)
        values.append(contentsOf: repeatElement(0, count: count))
        for s in slots {
            guard let ad = adapters.adapter(layer: s.layer, s.projection) else { continue }
            precondition([ad.a.rows, ad.a.cols] == s.aShape && [ad.b.rows, ad.b.cols] == s.bShape, "LoRA parameters: shape mismatch")
            values.replaceSubrange(s.aOffset..<(s.aOffset + ad.a.count), with: ad.a.values)
            values.replaceSubrange(s.bOffset..<(s.bOffset + ad.b.count), with: ad.b.values)
        }
    }
}
