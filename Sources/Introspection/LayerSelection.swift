// Which residual-stream layers a command looks at: "all", indices ("4,8", "embed"), or fractions of
// depth ("0.25,0.5", index = Int(p × n_layers) as the original experiment's check_layers_pct does).

public enum LayerSelection {
    /// Layer indices, -1 meaning `embed`, k meaning `Lk`, sorted and without repeats.
    public static func parse(_ text: String, layerCount: Int) throws -> [Int] {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else {
            throw IntrospectionError.badLayer("is empty: use all, embed, an index like 4 or L4, or a fraction like 0.5")
        }
        if trimmed == "all" { return Array(-1..<layerCount) }
        var out: [Int] = []
        for raw in trimmed.split(separator: ",") {
            let item = raw.trimmingCharacters(in: .whitespaces)
            if item == "embed" { out.append(-1); continue }
            let name = item.hasPrefix("L") ? String(item.dropFirst()) : item
            if let k = Int(name) {
                guard k >= 0 && k < layerCount else {
                    throw IntrospectionError.badLayer("layer \(item) is outside 0...\(layerCount - 1) (and 'embed')")
                }
                out.append(k)
            } else if let p = Double(item), item.contains(".") {
                guard p >= 0 && p < 1 else { throw IntrospectionError.badLayer("fraction \(item) must be in [0, 1)") }
                out.append(index(fraction: p, layerCount: layerCount))
            } else {
                throw IntrospectionError.badLayer("'\(item)' is not a layer: use all, embed, an index like 4 or L4, or a fraction like 0.5")
            }
        }
        return Array(Set(out)).sorted()
    }

    /// The original experiment's rule: Int(p × n_layers), clamped to the last block.
    public static func index(fraction p: Double, layerCount: Int) -> Int {
        min(layerCount - 1, max(0, Int(p * Double(layerCount))))
    }

    public static func name(_ index: Int) -> String { index < 0 ? "embed" : "L\(index)" }
}

import Foundation
