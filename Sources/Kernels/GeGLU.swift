// The GeGLU gate of Gemma's MLP: h = gelu_tanh(gate) ⊙ up, with PyTorch's tanh approximation
// gelu_tanh(g) = ½·g·(1 + tanh(u)), u = √(2/π)·(g + 0.044715·g³) ("gelu_pytorch_tanh" in transformers).
// tanh comes from VectorExp eight lanes at a time, as SwiGLU's sigmoid does; not the exact (erf) GELU.
import Foundation

public enum GeGLU {
    static let beta: Float = 0.797_884_56   // √(2/π)
    static let kappa: Float = 0.044_715

    /// tanh(u) = sign(u)·(1 − e^(−2|u|)) / (1 + e^(−2|u|)): e^(−2|u|) ≤ 1, so nothing overflows and
    /// small |u| loses no more than an ulp or two of absolute accuracy.
    @inline(__always) static func tanh(_ u: SIMD8<Float>) -> SIMD8<Float> {
        let magnitude = u.replacing(with: -u, where: u .< 0)
        let e = VectorExp.exp(-2 * magnitude)
        let t = (1 - e) / (1 + e)
        return t.replacing(with: -t, where: u .< 0)
    }

    /// gelu_tanh(g) and the tanh it used (the backward needs it).
    @inline(__always) static func gelu(_ g: SIMD8<Float>) -> (value: SIMD8<Float>, tanh: SIMD8<Float>) {
        let cubic: SIMD8<Float> = kappa * g * g * g
        let t = tanh(beta * (g + cubic))
        let half = SIMD8<Float>(repeating: 0.5)
        return (half * g * (1 + t), t)
    }

    /// d gelu_tanh / dg = ½(1 + t) + ½·g·(1 − t²)·√(2/π)·(1 + 3·0.044715·g²).
    @inline(__always) static func geluDerivative(_ g: SIMD8<Float>, tanh t: SIMD8<Float>) -> SIMD8<Float> {
        let half = SIMD8<Float>(repeating: 0.5), one = SIMD8<Float>(repeating: 1)
        let inner: SIMD8<Float> = beta * (one + (3 * kappa) * g * g)
        let slope: SIMD8<Float> = half * g * (one - t * t) * inner
        return half * (one + t) + slope
    }

    /// gate, up, h: [count].
    public static func forward(gate: UnsafePointer<Float>, up: UnsafePointer<Float>, _ h: UnsafeMutablePointer<Float>, count: Int) {
        Parallel.forEachChunk(count, minimumPerChunk: Parallel.minimumElementsPerChunk) { range in
            LaneLoop.run(range) { i, lanes in
                let g = LaneLoop.load(gate + i, lanes)
                LaneLoop.store(gelu(g).value * LaneLoop.load(up + i, lanes), h + i, lanes)
            }
        }
    }

    /// dGate = dh ⊙ up ⊙ gelu_tanh′(g); dUp = dh ⊙ gelu_tanh(g).
    public static func backward(dh: UnsafePointer<Float>, gate: UnsafePointer<Float>, up: UnsafePointer<Float>,
                                dGate: UnsafeMutablePointer<Float>, dUp: UnsafeMutablePointer<Float>, count: Int) {
        Parallel.forEachChunk(count, minimumPerChunk: Parallel.minimumElementsPerChunk) { range in
            LaneLoop.run(range) { i, lanes in
                let g = LaneLoop.load(gate + i, lanes), d = LaneLoop.load(dh + i, lanes)
                let (value, t) = gelu(g)
                LaneLoop.store(d * value, dUp + i, lanes)
                LaneLoop.store(d * LaneLoop.load(up + i, lanes) * geluDerivative(g, tanh: t), dGate + i, lanes)
            }
        }
    }
}

/// Walks a range eight lanes at a time and finishes with one partial group (its unused lanes read and
/// write nothing), so the tail computes with the very same lane arithmetic as the body.
enum LaneLoop {
    @inline(__always) static func run(_ range: Range<Int>, _ body: (Int, Int) -> Void) {
        var i = range.lowerBound
        while i + 8 <= range.upperBound { body(i, 8); i += 8 }
        if i < range.upperBound { body(i, range.upperBound - i) }
    }
    @inline(__always) static func load(_ p: UnsafePointer<Float>, _ lanes: Int) -> SIMD8<Float> {
        if lanes == 8 { return UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self) }
        var v = SIMD8<Float>(repeating: 0)
        for k in 0..<lanes { v[k] = p[k] }
        return v
    }
    @inline(__always) static func store(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>, _ lanes: Int) {
        if lanes == 8 { UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self); return }
        for k in 0..<lanes { p[k] = v[k] }
    }
}

/// The matrix-level forward and backward every gated activation shares (SwiGLU, GeGLU).
public protocol GatedActivationKernel {
    static func forward(gate: UnsafePointer<Float>, up: UnsafePointer<Float>, _ h: UnsafeMutablePointer<Float>, count: Int)
    static func backward(dh: UnsafePointer<Float>, gate: UnsafePointer<Float>, up: UnsafePointer<Float>,
                         dGate: UnsafeMutablePointer<Float>, dUp: UnsafeMutablePointer<Float>, count: Int)
}

extension GeGLU: GatedActivationKernel {}

extension GatedActivationKernel {
    /// h = act(gate) ⊙ up; all three shaped alike ([N, F]).
    public static func forward(gate: Matrix, up: Matrix, into h: inout Matrix) {
        precondition(gate.count == up.count && h.count == gate.count, "\(Self.self): shape mismatch")
        gate.values.withUnsafeBufferPointer { gp in
            up.values.withUnsafeBufferPointer { up in
                h.values.withUnsafeMutableBufferPointer { hp in forward(gate: gp.baseAddress!, up: up.baseAddress!, hp.baseAddress!, count: gate.count) }
            }
        }
    }

    public static func backward(dh: Matrix, gate: Matrix, up: Matrix, dGate: inout Matrix, dUp: inout Matrix) {
        precondition(dh.count == gate.count && gate.count == up.count && dGate.count == gate.count && dUp.count == gate.count,
                     "\(Self.self): shape mismatch")
        dh.values.withUnsafeBufferPointer { dhp in
            gate.values.withUnsafeBufferPointer { gp in
                up.values.withUnsafeBufferPointer { upp in
                    dGate.values.withUnsafeMutableBufferPointer { dgp in
                        dUp.values.withUnsafeMutableBufferPointer { dup in
                            backward(dh: dhp.baseAddress!, gate: gp.baseAddress!, up: upp.baseAddress!,
                                     dGate: dgp.baseAddress!, dUp: dup.baseAddress!, count: gate.count)
                        }
                    }
                }
            }
        }
    }
}
