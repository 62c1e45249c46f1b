// What a LoRA run adapts: rank, alpha and the projections it targets. Shared by the trainer,
// the PEFT files and the experiments config; no behaviour beyond checking itself.
import Foundation
import Transformer

public struct LoRASettings: Sendable, Codable, Equatable {
    public var rank = 16
    public var alpha: Float = 32
    public var targets: [Projection] = [.query, .key, .value, .output]

    public init(rank: Int = 16, alpha: Float = 32, targets: [Projection] = [.query, .key, .value, .output]) {
        self.rank = rank
        self.alpha = alpha
        self.targets = targets
    }

    public func validate() throws {
        guard rank > 0 else { throw TrainingError.invalidSetting("LoRA rank must be positive, got \(rank)") }
        guard alpha.isFinite, alpha > 0 else { throw TrainingError.invalidSetting("LoRA alpha must be a positive number, got \(alpha)") }
        guard !targets.isEmpty else { throw TrainingError.invalidSetting("LoRA needs at least one target projection") }
        guard Set(targets).count == targets.count else { throw TrainingError.invalidSetting("LoRA targets list a projection twice: \(targets.map(\.rawValue))") }
    }

    /// Parses "q_proj,k_proj" (also accepts the short names q,k,v,o,gate,up,down, "router" on a mixture-of-experts
    /// model, and "all": the seven linear projections).
    public static func parseTargets(_ text: String) throws -> [Projection] {
        let short: [String: Projection] = ["q": .query, "k": .key, "v": .value, "o": .output, "gate": .gate, "up": .up, "down": .down]
        if text == "all" { return Projection.linearModules }
        return try text.split(separator: ",").map { raw in
            let name = raw.trimmingCharacters(in: .whitespaces)
            guard let p = Projection(rawValue: name) ?? short[name] else {
                throw TrainingError.invalidSetting("unknown LoRA target '\(name)'; use any of \(Projection.allCases.map(\.rawValue).joined(separator: ","))")
            }
            return p
        }
    }
}
