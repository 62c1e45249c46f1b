// The SwiGLU gate of Llama's MLP: h = silu(gate) ⊙ up, with silu(g) = g·σ(g).
import Foundation

public enum SwiGLU {
    /// σ(x) through VectorExp, eight lanes at a time (libm's scalar expf was most of this kernel's time);
    /// the scalar form computes the very same lane arithmetic, so a value does not depend on where a chunk ends.
    @inline(__always) static func sigmoid(_ x: SIMD8<Float>) -> SIMD8<Float> { 1 / (1 + VectorExp.exp(-x)) }
    @inline(__always) static func sigmoid(_ x: Float) -> Float { sigmoid(SIMD8(repeating: x))[0] }

    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }
    @inline(__always) static func store(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
    }

    /// gate, up, h: [count].
    public static func forward(gate: UnsafePointer<Float>, up: UnsafePointer<Float>, _ h: UnsafeMutablePointer<Float>, count: Int) {
        Parallel.forEachChunk(count, minimumPerChunk: Parallel.minimumElementsPerChunk) { range in
            var i = range.lowerBound
            while i + 8 <= range.upperBound {
                let g = load(gate + i)
                store(g * sigmoid(g) * load(up + i), h + i)
                i += 8
            }
            while i < range.upperBound {
                let g = gate[i]
                h[i] = g * sigmoid(g) * up[i]
                i += 1
            }
        }
    }

    /// dGate = dh ⊙ up ⊙ σ(g)(1 + g(1 − σ(g))); dUp = dh ⊙ silu(g).
    public static func backward(dh: UnsafePointer<Float>, gate: UnsafePointer<Float>, up: UnsafePointer<Float>,
                                dGate: UnsafeMutablePointer<Float>, dUp: UnsafeMutablePointer<Float>, count: Int) {
        Parallel.forEachChunk(count, minimumPerChunk: Parallel.minimumElementsPerChunk) { range in
            var i = range.lowerBound
            while i + 8 <= range.upperBound {
                let g = load(gate + i), d = load(dh + i)
                let s = sigmoid(g)
                store(d * g * s, dUp + i)
                store(d * load(up + i) * s * (1 + g * (1 - s)), dGate + i)
                i += 8
            }
            while i < range.upperBound {
                let g = gate[i]
                let s = sigmoid(g)
                dUp[i] = dh[i] * g * s
                dGate[i] = dh[i] * up[i] * s * (1 + g * (1 - s))
                i += 1
            }
        }
    }
}

extension SwiGLU: GatedActivationKernel {}
