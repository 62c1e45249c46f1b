// Logit soft-capping, y = c·tanh(x / c) (Gemma 2/3's final_logit_softcapping), forward and backward.
// The backward reads the capped values: dy/dx = 1 − (y / c)².
import Foundation

public enum Softcap {
    /// x: [count], in place.
    public static func forward(_ x: inout [Float], cap: Float) {
        for i in x.indices { x[i] = cap * Foundation.tanh(x[i] / cap) }
    }

    /// dx = dy ⊙ (1 − (y/c)²), in place over dy; y holds the capped outputs.
    public static func backward(_ dy: inout [Float], capped y: [Float], cap: Float) {
        precondition(dy.count == y.count, "Softcap: shape mismatch")
        for i in dy.indices {
            let r = y[i] / cap
            dy[i] *= 1 - r * r
        }
    }
}
