// The experts' tensors of a mixture-of-experts block, from the three layouts files use, into the one the
// forward reads (stacked by role: gate, up [E·F, D]; down [E·D, F]; biases [E, F] / [E, D]):
// - GGUF (llama.cpp, both families): one [E, rows, cols] tensor per role (ffn_gate_exps, ffn_up_exps,
//   ffn_down_exps and their biases), already in this order;
// - Mixtral's Hugging Face checkpoints: one [F, D] / [D, F] tensor per expert (block_sparse_moe.experts.e.w1/w3/w2);
// - GPT-OSS's Hugging Face checkpoints: gate_up_proj [E, D, 2F] input-major with gate and up interleaved
//   (gate = even columns, up = odd: GptOssExperts._apply_gate), down_proj [E, F, D], gate_up_proj_bias [E, 2F].
// Every tensor's shape is checked against the config before a value is read; a wrong one names the tensor.
import Kernels

public enum ExpertLayout: Sendable, Equatable {
    case stacked, perExpert, fusedInputMajor
}

extension WeightAssembler {
    mutating func expertMatrix(layer i: Int, _ role: BlockTensor) throws -> Matrix {
        let c = config
        let E = c.mixture?.experts ?? 0, F = c.intermediateSize, D = c.hiddenSize
        let target = role.shape(c)
        switch names.expertLayout(source.format) {
        case .stacked:
            let name = names.gguf(.block(layer: i, role))
            let expected: [Int]
            switch role {
            case .expertGate, .expertUp: expected = [E, F, D]
            case .expertDown: expected = [E, D, F]
            default: expected = [E, target[1]]
            }
            return Matrix(rows: target[0], cols: target[1], values: try read(name, expected))
        case .perExpert:
            guard role == .expertGate || role == .expertUp || role == .expertDown else {
                throw ModelError.unsupportedModel(file: source.location, reason: "expert biases are not part of a \(c.architecture.displayName) checkpoint")
            }
            let pattern = names.huggingFace(.block(layer: i, role)) ?? role.description
            let perExpert = role == .expertDown ? [D, F] : [F, D]
            var values: [Float] = []
            values.reserveCapacity(target[0] * target[1])
            for e in 0..<E { values += try read(pattern.replacingOccurrences(of: "{e}", with: "\(e)"), perExpert) }
            return Matrix(rows: target[0], cols: target[1], values: values)
        case .fusedInputMajor:
            let name = names.huggingFace(.block(layer: i, role)) ?? role.description
            let parity = role == .expertUp || role == .expertUpBias ? 1 : 0
            var out = Matrix(rows: target[0], cols: target[1])
            switch role {
            case .expertGate, .expertUp:
                let src = try read(name, [E, D, 2 * F])
                for e in 0..<E { for d in 0..<D { for f in 0..<F {
                    out.values[(e * F + f) * D + d] = src[(e * D + d) * 2 * F + 2 * f + parity]
                } } }
            case .expertDown:
                let src = try read(name, [E, F, D])
                for e in 0..<E { for f in 0..<F { for d in 0..<D {
                    out.values[(e * D + d) * F + f] = src[(e * F + f) * D + d]
                } } }
            case .expertGateBias, .expertUpBias:
                let src = try read(name, [E, 2 * F])
                for e in 0..<E { for f in 0..<F { out.values[e * F + f] = src[e * 2 * F + 2 * f + parity] } }
            default:
                out.values = try read(name, [E, D])
            }
            return out
        }
    }

    /// The values of `name`, after checking that it is present with exactly `shape`.
    private mutating func read(_ name: String, _ shape: [Int]) throws -> [Float] {
        guard let found = source.shape(of: name) else { throw ModelError.missingTensor(file: source.location, name: name) }
        guard found == shape else { throw ModelError.tensorShape(file: source.location, name: name, expected: shape, found: found) }
        used.insert(name)
        let values = try source.floats(name)
        guard values.count == shape.reduce(1, *) else {
            throw ModelError.tensorShape(file: source.location, name: name, expected: shape, found: [values.count])
        }
        return values
    }
}
