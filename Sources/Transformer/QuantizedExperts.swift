// Mixture-of-experts weights kept as the file's blocks (`native` and `native-experts` storage): how they are
// read (GGUF's stacked [E, rows, cols] tensors in any block type with kernels; GPT-OSS's safetensors MXFP4,
// repacked into ggml blocks), and the two products the MoE block needs of one expert — its forward
// (x · W_eᵀ over rows e·R ..< (e+1)·R of the stacked matrix, so only the chosen experts' rows are read) and
// the input gradient through it frozen (dY · W_e, the blocks decoded to their exact Float32 values).
// Float32 experts take exactly the calls they took before (the f32 path is unchanged bit for bit).
import Foundation
import Kernels
import ModelFiles

extension WeightAssembler {
    /// The expert weight `role` of layer i as blocks when the storage keeps experts quantised and the file stores
    /// them in a block type with kernels; nil otherwise (then `expertMatrix` decodes it). Biases stay Float32.
    mutating func quantizedExpert(layer i: Int, _ role: BlockTensor) throws -> QuantizedMatrix? {
        guard storage.keepsExpertsQuantized, role == .expertGate || role == .expertUp || role == .expertDown else { return nil }
        let c = config
        let E = c.mixture?.experts ?? 0, F = c.intermediateSize, D = c.hiddenSize
        let (rows, cols) = role == .expertDown ? (D, F) : (F, D)
        switch names.expertLayout(source.format) {
        case .stacked:
            let name = names.gguf(.block(layer: i, role))
            guard let found = source.shape(of: name) else { throw ModelError.missingTensor(file: source.location, name: name) }
            guard found == [E, rows, cols] else { throw ModelError.tensorShape(file: source.location, name: name, expected: [E, rows, cols], found: found) }
            guard let blocks = source.quantizedBlocks(name), let type = QuantizedMatrix.BlockType(ggmlType: blocks.ggmlType) else { return nil }
            let q = try checked(name) {
                try QuantizedMatrix(type: type, rows: E * rows, cols: cols, data: blocks.bytes, offset: blocks.offset, byteCount: blocks.byteCount)
            }
            used.insert(name)
            return q
        case .fusedInputMajor:
            let name = names.huggingFace(.block(layer: i, role)) ?? role.description
            guard source.shape(of: name + "_blocks") != nil else { return nil }
            // gate_up_proj interleaves gate (even rows) and up (odd rows) per expert; down_proj is [E, D, F] as is.
            let fileRows = role == .expertDown ? D : 2 * F
            let (b, s, blocksName) = try mxfp4Bytes(name, experts: E, rows: fileRows, cols: cols)
            let order: [Int]
            if role == .expertDown {
                order = Array(0..<(E * D))
            } else {
                let parity = role == .expertUp ? 1 : 0
                order = (0..<E).flatMap { e in (0..<F).map { f in e * 2 * F + 2 * f + parity } }
            }
            let data = try MXFP4Blocks.ggmlBlocks(fromTransformersLayout: b, scales: s, allRows: E * fileRows, groups: cols / 32,
                                                  rows: order, file: source.location, tensor: blocksName)
            return try checked(blocksName) {
                try QuantizedMatrix(type: .mxfp4, rows: E * rows, cols: cols, data: data, offset: 0, byteCount: data.count)
            }
        case .perExpert:
            // Mixtral's checkpoints hold each expert as F16/BF16/F32: nothing to keep as blocks.
            return nil
        }
    }

    /// A block-shape refusal as one line naming the tensor.
    private func checked(_ name: String, _ make: () throws -> QuantizedMatrix) throws -> QuantizedMatrix {
        do { return try make() } catch let e as QuantizedMatrix.ShapeError {
            throw ModelError.invalidConfig(file: source.location, field: "tensor '\(name)'", reason: "\(e.reason); the file is corrupt — re-download it")
        }
    }
}

extension MixtureOfExperts {
    /// Rows of one expert in the stacked `role`: F for gate and up, D for down.
    static func rowsPerExpert(_ role: BlockTensor, _ c: ModelConfig) -> Int { role == .expertDown ? c.hiddenSize : c.intermediateSize }

    /// y [n, R] = x [n, K] · W_eᵀ, W_e = rows e·R ..< (e+1)·R of the stacked weight `role` (Float32 or blocks).
    static func expertProduct(_ role: BlockTensor, expert e: Int, _ x: Matrix, weights w: BlockWeights, config c: ModelConfig) -> Matrix {
        let R = rowsPerExpert(role, c), n = x.rows
        var y = Matrix(rows: n, cols: R)
        if let q = w.quantized[role] {
            q.rows((e * R)..<((e + 1) * R)).linear(x, into: &y)
            return y
        }
        let m = w[role], K = m.cols
        x.values.withUnsafeBufferPointer { xp in
            m.values.withUnsafeBufferPointer { wp in
                y.values.withUnsafeMutableBufferPointer { Matmul.xWt(xp.baseAddress!, wp.baseAddress! + e * R * K, $0.baseAddress!, m: n, n: R, k: K) }
            }
        }
        return y
    }

    /// dX [n, K] (+)= dY [n, R] · W_e: the input gradient through expert e's frozen weight `role`.
    static func expertInputGradient(_ role: BlockTensor, expert e: Int, _ dY: Matrix, weights w: BlockWeights, config c: ModelConfig,
                                    into dX: inout Matrix, accumulate: Bool = false) {
        let R = rowsPerExpert(role, c), n = dY.rows
        if let q = w.quantized[role] {
            q.rows((e * R)..<((e + 1) * R)).inputGradient(dY, into: &dX, accumulate: accumulate)
            return
        }
        let m = w[role], K = m.cols
        dY.values.withUnsafeBufferPointer { gp in
            m.values.withUnsafeBufferPointer { wp in
                dX.values.withUnsafeMutableBufferPointer {
                    Matmul.xW(gp.baseAddress!, wp.baseAddress! + e * R * K, $0.baseAddress!, m: n, n: K, k: R, accumulate: accumulate)
                }
            }
        }
    }
}

extension ModelWeights {
    /// Whether any weight other than a mixture-of-experts expert is quantised. LoRA training needs Float32 for
    /// everything it differentiates through as a parameter path (attention, router, embeddings, norms); frozen
    /// experts need only their input gradient, which their blocks give (QLoRA-style), so they may stay quantised.
    public var quantizesMoreThanExperts: Bool {
        quantizedEmbedding != nil || quantizedUnembedding != nil || layers.contains { l in l.quantized.keys.contains { !$0.isExpert } }
    }

    /// Whether the experts are held as blocks.
    public var hasQuantizedExperts: Bool { layers.contains { l in l.quantized.keys.contains { $0.isExpert } } }
}
