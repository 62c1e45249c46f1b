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
                chosen.withUnsafeMutableBufferPointer { _ = Softmax.forward($0.baseAddress!, count: k) }
                for j in 0..<k { weights[r * k + j] = chosen[j] }
            }
            for (j, t) in top.enumerated() { experts[r * k + j] = t.index }
        }
        return (experts, weights)
    }

    /// The MoE MLP of one block: delta [N, D] = Σ_chosen weight · expert(xn); xn: [N, D] (already normed).
    /// Returns the router logits [N, E] and the choices, for capture.
    /// `routerAdapter`: LoRA on the router (RouterLoRA.swift); its intermediate xn·Aᵀ is returned for the backward.
    static func forward(_ xn: Matrix, weights w: BlockWeights, config c: ModelConfig, routerAdapter: LoRAAdapter? = nil,
                        into delta: inout Matrix) -> (logits: Matrix, experts: [Int], weights: [Float], routerLoRA: Matrix?) {
        guard let moe = c.block.moe, let shape = c.mixture else { preconditionFailure("not a mixture-of-experts block") }
        let N = xn.rows, D = c.hiddenSize, E = shape.experts, k = shape.perToken
        let (logits, routerLoRA) = routerLogits(xn, weights: w, adapter: routerAdapter)
        let (experts, routeWeights) = route(logits, k: k, routing: moe.routing)

        // Rows routed to each expert, with their weights, in row order.
        var assigned = [[(row: Int, weight: Float)]](repeating: [], count: E)
        for r in 0..<N { for j in 0..<k { assigned[experts[r * k + j]].append((r, routeWeights[r * k + j])) } }

        delta.values.withUnsafeMutableBufferPointer { dp in dp.update(repeating: 0) }
        for e in 0..<E where !assigned[e].isEmpty {
            let rows = assigned[e]
            let out = expert(e, Elementwise.gatherRows(xn, rows.map(\.row)), weights: w, config: c).out
            for (i, (row, weight)) in rows.enumerated() {
                for j in 0..<D { delta.values[row * D + j] += weight * out.values[i * D + j] }
            }
        }
        return (logits, experts, routeWeights, routerLoRA)
    }

    /// The routing of every row as a record.
    static func record(_ routed: (logits: Matrix, experts: [Int], weights: [Float], routerLoRA: Matrix?), layer: Int, rows: [Int]?) -> RoutingRecord {
        let k = routed.logits.rows == 0 ? 0 : routed.experts.count / routed.logits.rows
        return RoutingRecord(layer: layer, logits: routed.logits, experts: routed.experts, weights: routed.weights, perToken: k)
    }

    /// The record's `rows` only.
    static func record(_ all: RoutingRecord, rows: [Int]) -> RoutingRecord {
        let k = all.perToken
        return RoutingRecord(layer: all.layer, logits: Elementwise.gatherRows(all.logits, rows),
                             experts: rows.flatMap { all.experts(row: $0) }, weights: rows.flatMap { all.weights(row: $0) }, perToken: k)
    }

    /// The backward of `forward` with frozen experts and router: dXn = ∂L/∂xn from dDelta = ∂L/∂delta, both [N, D].
    /// Two paths: through each chosen expert (weighted), and through the routing weights into the router logits.
    /// Both weightings are a softmax over the chosen logits (Mixtral's renormalised top-k of a softmax is
    /// exactly that), so ∂L/∂logit_i = w_i (g_i − Σ_j w_j g_j) with g_j = dDelta · expert_j(xn) for chosen i,
    /// and 0 for the others: which experts are chosen is piecewise constant, with no gradient.
    /// With LoRA on the router (`routerAdapter`, its forward intermediate `routerLoRA`), returns ∂L/∂A and ∂L/∂B.
    @discardableResult
    static func backward(dDelta: Matrix, xn: Matrix, routing: RoutingRecord, weights w: BlockWeights, config c: ModelConfig,
                         routerAdapter: LoRAAdapter? = nil, routerLoRA: Matrix? = nil, dXn: inout Matrix) -> LoRAAdapter? {
        guard let moe = c.block.moe, let shape = c.mixture else { preconditionFailure("not a mixture-of-experts block") }
        let N = xn.rows, D = c.hiddenSize, F = c.intermediateSize, E = shape.experts, k = routing.perToken
        precondition(routing.logits.rows == N && dDelta.rows == N && dXn.rows == N, "MoE backward: row counts")
        var assigned = [[(row: Int, slot: Int)]](repeating: [], count: E)
        for r in 0..<N { for j in 0..<k { assigned[routing.experts[r * k + j]].append((r, r * k + j)) } }
        var dots = [Float](repeating: 0, count: N * k)   // g: dDelta · expert output, per chosen slot
        dXn.zero()
        for e in 0..<E where !assigned[e].isEmpty {
            let rows = assigned[e], n = rows.count
            let (gate, up, out) = expert(e, Elementwise.gatherRows(xn, rows.map(\.row)), weights: w, config: c)
            // The expert path: dOut = weight · dDelta; back through down, the activation, gate and up.
            var dOut = Matrix(rows: n, cols: D)
            for (i, (row, slot)) in rows.enumerated() {
                let weight = routing.weights[slot]
                var g: Float = 0
                for j in 0..<D {
                    let d = dDelta.values[row * D + j]
                    g += d * out.values[i * D + j]
                    dOut.values[i * D + j] = weight * d
                }
                dots[slot] = g
            }
            var dh = Matrix(rows: n, cols: F), dGate = Matrix(rows: n, cols: F), dUp = Matrix(rows: n, cols: F)
            var dx = Matrix(rows: n, cols: D)
            // Through the frozen expert, Float32 or blocks (QuantizedExperts.swift).
            expertInputGradient(.expertDown, expert: e, dOut, weights: w, config: c, into: &dh)
            activateBackward(moe.activation, dh: dh, gate: gate, up: up, dGate: &dGate, dUp: &dUp)
            expertInputGradient(.expertGate, expert: e, dGate, weights: w, config: c, into: &dx)
            expertInputGradient(.expertUp, expert: e, dUp, weights: w, config: c, into: &dx, accumulate: true)
            for (i, (row, _)) in rows.enumerated() {
                for j in 0..<D { dXn.values[row * D + j] += dx.values[i * D + j] }
            }
        }
        // The routing path: ∂L/∂logits [N, E] (zero off the chosen experts), then through the router's weight.
        var dLogits = Matrix(rows: N, cols: E)
        for r in 0..<N {
            var mean: Float = 0
            for j in 0..<k { mean += routing.weights[r * k + j] * dots[r * k + j] }
            for j in 0..<k {
                let slot = r * k + j
                dLogits.values[r * E + routing.experts[slot]] += routing.weights[slot] * (dots[slot] - mean)
            }
        }
        Matmul.product(dLogits, w[.router], into: &dXn, accumulate: true)
        guard let ad = routerAdapter, let u = routerLoRA else { return nil }
        return routerAdapterBackward(dLogits: dLogits, xn: xn, u: u, adapter: ad, dXn: &dXn)
    }

    /// dGate, dUp from dh for h = activation(gate, up).
    static func activateBackward(_ activation: ExpertActivation, dh: Matrix, gate: Matrix, up: Matrix,
                                 dGate: inout Matrix, dUp: inout Matrix) {
        switch activation {
        case .swiglu:
            SwiGLU.backward(dh: dh, gate: gate, up: up, dGate: &dGate, dUp: &dUp)
        case let .clampedSwiGLU(alpha, limit):
            // h = (u + 1) · g · σ(αg) with g = min(gate, limit), u = clamp(up, ±limit); torch's clamp passes
            // the gradient where the input lies within the bounds, ends included.
            for i in dh.values.indices {
                let gateIn = gate.values[i], upIn = up.values[i]
                let g = min(gateIn, limit), u = max(-limit, min(upIn, limit))
                let s = 1 / (1 + exp(-alpha * g))
                let d = dh.values[i]
                dUp.values[i] = upIn >= -limit && upIn <= limit ? d * g * s : 0
                dGate.values[i] = gateIn <= limit ? d * (u + 1) * (s + g * alpha * s * (1 - s)) : 0
            }
        }
    }

    /// Expert e on the rows x [n, D]: its gate and up pre-activations [n, F] (kept for the backward) and output [n, D].
    static func expert(_ e: Int, _ x: Matrix, weights w: BlockWeights, config c: ModelConfig) -> (gate: Matrix, up: Matrix, out: Matrix) {
        let n = x.rows, F = c.intermediateSize
        // Only expert e's rows of the stacked weights, Float32 or blocks (QuantizedExperts.swift).
        var gate = expertProduct(.expertGate, expert: e, x, weights: w, config: c)
        var up = expertProduct(.expertUp, expert: e, x, weights: w, config: c)
        var h = Matrix(rows: n, cols: F)
        if let b = w.tensors[.expertGateBias] { addRow(b, e, to: &gate) }
        if let b = w.tensors[.expertUpBias] { addRow(b, e, to: &up) }
        activate(c.block.moe!.activation, gate: gate, up: up, into: &h)
        var out = expertProduct(.expertDown, expert: e, h, weights: w, config: c)
        if let b = w.tensors[.expertDownBias] { addRow(b, e, to: &out) }
        return (gate, up, out)
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
