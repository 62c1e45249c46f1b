// Which lens reads a residual-stream state: the logit lens (readout alone) or a tuned lens (a trained
// translator, then the readout). Parsed from `logit` or `tuned:DIR`, the spelling of `--lens` and of an
// experiment config's `lens` key. Not the lens mathematics (LogitLens.swift, TunedLens.swift).
import Foundation
import Kernels
import Transformer

public enum LensChoice: Sendable, Equatable {
    case logit
    case tuned(TunedLens, folder: String)

    /// `logit` or `tuned:DIR`; a tuned lens is loaded and checked against the model it will read.
    public static func parse(_ text: String, config: ModelConfig) throws -> LensChoice {
        let t = text.trimmingCharacters(in: .whitespaces)
        if t == "logit" { return .logit }
        guard t.hasPrefix("tuned:"), t.count > "tuned:".count else {
            throw IntrospectionError.badInput("lens '\(text)': use 'logit' or 'tuned:DIR' (a folder written by 'lazarus lens train')")
        }
        let folder = String(t.dropFirst("tuned:".count))
        let lens = try TunedLensFiles.load(from: URL(fileURLWithPath: folder)).lens
        try lens.validate(against: config, source: folder)
        return .tuned(lens, folder: folder)
    }

    /// "logit" or "tuned", as reports name the lens.
    public var name: String {
        switch self {
        case .logit: return "logit"
        case .tuned: return "tuned"
        }
    }

    /// The state the readout sees: hidden itself for the logit lens, the translated state for a tuned lens.
    public func prepare(_ hidden: Matrix, layer: Int) -> Matrix {
        switch self {
        case .logit: return hidden
        case let .tuned(lens, _): return lens.translate(hidden, layer: layer)
        }
    }

    /// Every layer's states as this lens's readout sees them, so that any per-layer measurement written for
    /// the logit lens (LensMetrics, the sweeps) reads through a tuned lens unchanged: measure(apply(states)).
    public func apply(to states: PromptHiddenStates) -> PromptHiddenStates {
        guard case .tuned = self else { return states }
        var out = states
        out.states = zip(states.layerIndices, states.states).map { prepare($1, layer: $0) }
        return out
    }
}
