// The experts' tensors of a mixture-of-experts block, from the three layouts files use, into the one the
// forward reads (stacked by role: gate, up [E·F, D]; down [E·D, F]; biases [E, F] / [E, D]):
// - GGUF (llama.cpp, both families): one [E, rows, cols] tensor per role (ffn_gate_exps, ffn_up_exps,
//   ffn_down_exps and their biases), already in this order;
// - Mixtral's Hugging Face checkpoints: one [F, D] / [D, F] tensor per expert (block_sparse_moe.experts.e.w1/w3/w2);
// - GPT-OSS's Hugging Face checkpoints: gate_up_proj [E, D, 2F] input-major with gate and up interleaved
//   (gate = even columns, up = odd: GptOssExperts._apply_gate), down_proj [E, F, D], gate_up_proj_bias [E, 2F];
//   the released checkpoints store the two weights as MXFP4 instead, output-major: gate_up_proj_blocks
//   [E, 2F, D/32, 16] with gate and up rows interleaved and gate_up_proj_scales [E, 2F, D/32], down_proj_blocks
//   [E, D, F/32, 16] and down_proj_scales [E, D, F/32] (transformers' integrations/mxfp4.py layout).
// Every tensor's shape is checked against the config before a value is read; a wrong one names the tensor.
import Foundation
import Kernels
import ModelFiles

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
            if role == .expertGate || role == .expertUp || role == .expertDown, source.shape(of: name + "_blocks") != nil {
                let isDown = role == .expertDown
                let (rows, cols) = isDown ? (D, F) : (2 * F, D)
                let w = try mxfp4(name, experts: E, rows: rows, cols: cols)
                if isDown { out.values = w; return out }
                for e in 0..<E { for f in 0..<F { for d in 0..<D {
                    out.values[(e * F + f) * D + d] = w[(e * 2 * F + 2 * f + parity) * D + d]
                } } }
                return out
            }
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

    /// GPT-OSS's MXFP4 weight `name` ([E, rows, cols] once decoded) from `name_blocks` and `name_scales`.
    private mutating func mxfp4(_ name: String, experts E: Int, rows: Int, cols: Int) throws -> [Float] {
        let (b, s, blocks) = try mxfp4Bytes(name, experts: E, rows: rows, cols: cols)
        return try MXFP4Blocks.decodeTransformersLayout(blocks: b, scales: s, rows: E * rows, groups: cols / 32, file: source.location, tensor: blocks)
    }

    /// The checked bytes of `name_blocks` and `name_scales` (shapes, U8, a safetensors checkpoint), marked as read.
    mutating func mxfp4Bytes(_ name: String, experts E: Int, rows: Int, cols: Int) throws -> (blocks: Data, scales: Data, blocksName: String) {
        let blocks = name + "_blocks", scales = name + "_scales"
        guard cols % 32 == 0 else {
            throw ModelError.tensorShape(file: source.location, name: blocks, expected: [E, rows, cols / 32, 16], found: source.shape(of: blocks) ?? [])
        }
        for (tensor, shape) in [(blocks, [E, rows, cols / 32, 16]), (scales, [E, rows, cols / 32])] {
            guard let found = source.shape(of: tensor) else { throw ModelError.missingTensor(file: source.location, name: tensor) }
            guard found == shape else { throw ModelError.tensorShape(file: source.location, name: tensor, expected: shape, found: found) }
            guard source.storageType(of: tensor) == "U8" else {
                throw ModelError.unsupportedModel(file: source.location, reason: "tensor '\(tensor)' is \(source.storageType(of: tensor) ?? "?"), but MXFP4 blocks and scales are U8")
            }
        }
        guard let checkpoint = source as? SafetensorsCheckpoint, let b = checkpoint.rawBytes(of: blocks), let s = checkpoint.rawBytes(of: scales) else {
            throw ModelError.unsupportedModel(file: source.location, reason: "MXFP4 tensors '\(blocks)' are read from safetensors checkpoints only")
        }
        used.insert(blocks)
        used.insert(scales)
        return (b, s, blocks)
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
