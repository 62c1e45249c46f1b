// A mixture-of-experts MLP as data and its forward: a router (a linear map to E logits, with a bias in
// GPT-OSS) picks k experts per position, each expert is a gated MLP with the family's activation, and the
// block's output is the routing-weighted sum of the chosen experts' outputs. The two weightings:
//   Mixtral (MixtralTopKRouter):  p = softmax(logits) over all E, keep the top k of p, divide by their sum;
//   GPT-OSS (GptOssTopKRouter):   keep the top k logits, softmax over those k.
// Experts are stored stacked by role: gate and up [E·F, D] (expert e's rows e·F ..< (e+1)·F), down [E·D, F],
// biases [E, F] / [E, D]. Every position's choice can be captured like the residual stream (ForwardOptions.routing).
import Foundation
import Kernels

/// How router logits become the chosen experts and their weights.
public enum ExpertRouting: String, Sendable, Equatable, Codable {
    /// Softmax over every expert, top k of the probabilities, renormalised to sum to 1 (Mixtral).
    case softmaxTopKRenormalised = "softmax, top-k, renormalised"
    /// Top k of the logits, softmax over the k chosen (GPT-OSS).
    case topKSoftmax = "top-k, softmax"
}

/// An expert's gated activation.
public enum ExpertActivation: Sendable, Equatable {
    /// silu(gate) · up (Mixtral).
    case swiglu
    /// GPT-OSS: g = min(gate, limit), u = clamp(up, −limit, limit), (u + 1) · g · σ(alpha · g)
    /// (GptOssExperts._apply_gate; config swiglu_alpha 1.702, swiglu_limit 7.0).
    case clampedSwiGLU(alpha: Float, limit: Float)

    public var name: String {
        switch self {
        case .swiglu: return "SwiGLU"
        case let .clampedSwiGLU(alpha, limit): return "clamped SwiGLU (alpha \(alpha), limit \(limit))"
        }
    }
}

/// The kind of a block's MLP when it is a mixture of experts; the sizes (E, k) are in ModelConfig.mixture.
public struct MixtureOfExpertsBlock: Sendable, Equatable {
    public var routing: ExpertRouting
    public var activation: ExpertActivation
    public var routerBias: Bool
    /// Biases on each expert's gate, up and down projections (GPT-OSS).
    public var expertBiases: Bool

    public init(routing: ExpertRouting, activation: ExpertActivation, routerBias: Bool = false, expertBiases: Bool = false) {
        self.routing = routing
        self.activation = activation
        self.routerBias = routerBias
        self.expertBiases = expertBiases
    }

    public static let mixtral = MixtureOfExpertsBlock(routing: .softmaxTopKRenormalised, activation: .swiglu)
    public static let gptOss = MixtureOfExpertsBlock(routing: .topKSoftmax, activation: .clampedSwiGLU(alpha: 1.702, limit: 7.0),
                                                     routerBias: true, expertBiases: true)
}

/// E experts of which k are used at each position.
public struct MixtureShape: Sendable, Equatable {
    public var experts: Int     // E
    public var perToken: Int    // k
    public init(experts: Int, perToken: Int) {
        self.experts = experts
        self.perToken = perToken
    }
}

/// One MoE layer's routing at the captured rows.
public struct RoutingRecord: Sendable {
    public var layer: Int
    /// The router's logits: [R, E].
    public var logits: Matrix
    /// The chosen experts, best first: [R·k] (row r's are r·k ..< (r+1)·k).
    public var experts: [Int]
    /// Their routing weights, in the same order: [R·k].
    public var weights: [Float]
    public var perToken: Int

    public func experts(row r: Int) -> ArraySlice<Int> { experts[(r * perToken)..<((r + 1) * perToken)] }
    public func weights(row r: Int) -> ArraySlice<Float> { weights[(r * perToken)..<((r + 1) * perToken)] }
}

enum MixtureOfExperts {
    /// The chosen experts and weights of every row of `logits` [N, E] (best first).
    static func route(_ logits: Matrix, k: Int, routing: ExpertRouting) -> (experts: [Int], weights: [Float]) {
        let N = logits.rows, E = logits.cols
        var experts = [Int](repeating: 0, count: N * k), weights = [Float](repeating: 0, count: N * k)
        var probabilities = logits
        if routing == .softmaxTopKRenormalised {
            probabilities.values.withUnsafeMutableBufferPointer { p in
                for r in 0..<N { Softmax.forward(p.baseAddress! + r * E, count: E) }
            }
        }
        for r in 0..<N {
            let top = TopK.row(probabilities, r, k: k)
            switch routing {
            case .softmaxTopKRenormalised:
                let total = top.reduce(Float(0)) { $0 + $1.value }
                for (j, t) in top.enumerated() { weights[r * k + j] = t.value / total }
            case .topKSoftmax:
                var chosen = top.map(\.value)
                chosen.withUnsafeMutableBufferPointer { Softmax.forward($0.baseAddress!, count: k) }
                for j in 0..<k { weights[r * k + j] = chosen[j] }
            }
            for (j, t) in top.enumerated() { experts[r * k + j] = t.index }
        }
        return (experts, weights)
    }

    /// The MoE MLP of one block: delta [N, D] = Σ_chosen weight · expert(xn); xn: [N, D] (already normed).
    /// Returns the router logits [N, E] and the choices, for capture.
    static func forward(_ xn: Matrix, weights w: BlockWeights, config c: ModelConfig, into delta: inout Matrix)
        -> (logits: Matrix, experts: [Int], weights: [Float]) {
        guard let moe = c.block.moe, let shape = c.mixture else { preconditionFailure("not a mixture-of-experts block") }
        let N = xn.rows, D = c.hiddenSize, F = c.intermediateSize, E = shape.experts, k = shape.perToken
        var logits = Matrix(rows: N, cols: E)
        Matmul.linear(xn, w[.router], into: &logits)
        if let b = w.vector(.routerBias) { Elementwise.addBias(b, to: &logits) }
        let (experts, routeWeights) = route(logits, k: k, routing: moe.routing)

        // Rows routed to each expert, with their weights, in row order.
        var assigned = [[(row: Int, weight: Float)]](repeating: [], count: E)
        for r in 0..<N { for j in 0..<k { assigned[experts[r * k + j]].append((r, routeWeights[r * k + j])) } }

        delta.values.withUnsafeMutableBufferPointer { dp in dp.update(repeating: 0) }
        let gateW = w[.expertGate], upW = w[.expertUp], downW = w[.expertDown]
        let gateB = w.tensors[.expertGateBias], upB = w.tensors[.expertUpBias], downB = w.tensors[.expertDownBias]
        for e in 0..<E where !assigned[e].isEmpty {
            let rows = assigned[e]
            let n = rows.count
            let x = Elementwise.gatherRows(xn, rows.map(\.row))
            var gate = Matrix(rows: n, cols: F), up = Matrix(rows: n, cols: F), h = Matrix(rows: n, cols: F)
            var out = Matrix(rows: n, cols: D)
            x.values.withUnsafeBufferPointer { xp in
                gateW.values.withUnsafeBufferPointer { gp in
                    gate.values.withUnsafeMutableBufferPointer { Matmul.xWt(xp.baseAddress!, gp.baseAddress! + e * F * D, $0.baseAddress!, m: n, n: F, k: D) }
                }
                upW.values.withUnsafeBufferPointer { upp in
                    up.values.withUnsafeMutableBufferPointer { Matmul.xWt(xp.baseAddress!, upp.baseAddress! + e * F * D, $0.baseAddress!, m: n, n: F, k: D) }
                }
            }
            if let gateB { addRow(gateB, e, to: &gate) }
            if let upB { addRow(upB, e, to: &up) }
            activate(moe.activation, gate: gate, up: up, into: &h)
            h.values.withUnsafeBufferPointer { hp in
                downW.values.withUnsafeBufferPointer { dp in
                    out.values.withUnsafeMutableBufferPointer { Matmul.xWt(hp.baseAddress!, dp.baseAddress! + e * D * F, $0.baseAddress!, m: n, n: D, k: F) }
                }
            }
            if let downB { addRow(downB, e, to: &out) }
            for (i, (row, weight)) in rows.enumerated() {
                for j in 0..<D { delta.values[row * D + j] += weight * out.values[i * D + j] }
            }
        }
        return (logits, experts, routeWeights)
    }

    /// What the forward can do with a mixture-of-experts model so far: no LoRA on the expert MLPs (they
    /// are not the seven projections), no saved activations (the backward through the experts is not written).
    static func checkSupported(adapters: LoRAAdapters?, saveActivations: Bool) throws {
        if let a = adapters, let p = a.targets.first(where: { $0.huggingFaceModule == "mlp" }) {
            throw ModelError.invalidConfig(file: "LoRA adapters", field: "target_modules",
                                           reason: "'\(p.rawValue)' is a dense-MLP projection; a mixture-of-experts model has none (target the attention projections)")
        }
        if saveActivations {
            throw ModelError.unsupportedModel(file: "(model)", reason: "gradients through mixture-of-experts blocks are not implemented yet (forward passes, lens and probes work)")
        }
    }

    /// The capture of one layer's routing at `rows` (nil: every row).
    static func record(_ routed: (logits: Matrix, experts: [Int], weights: [Float]), layer: Int, rows: [Int]?) -> RoutingRecord {
        let k = routed.logits.rows == 0 ? 0 : routed.experts.count / routed.logits.rows
        guard let rows else { return RoutingRecord(layer: layer, logits: routed.logits, experts: routed.experts, weights: routed.weights, perToken: k) }
        return RoutingRecord(layer: layer, logits: Elementwise.gatherRows(routed.logits, rows),
                             experts: rows.flatMap { routed.experts[($0 * k)..<(($0 + 1) * k)] },
                             weights: rows.flatMap { routed.weights[($0 * k)..<(($0 + 1) * k)] }, perToken: k)
    }

    /// m[r, :] += bias row e, for every row r.
    private static func addRow(_ bias: Matrix, _ e: Int, to m: inout Matrix) {
        let width = m.cols
        for r in 0..<m.rows { for j in 0..<width { m.values[r * width + j] += bias.values[e * width + j] } }
    }

    static func activate(_ activation: ExpertActivation, gate: Matrix, up: Matrix, into h: inout Matrix) {
        switch activation {
        case .swiglu:
            SwiGLU.forward(gate: gate, up: up, into: &h)
        case let .clampedSwiGLU(alpha, limit):
            for i in h.values.indices {
                let g = min(gate.values[i], limit)
                let u = max(-limit, min(up.values[i], limit))
                h.values[i] = (u + 1) * (g / (1 + exp(-alpha * g)))
            }
        }
    }
}
