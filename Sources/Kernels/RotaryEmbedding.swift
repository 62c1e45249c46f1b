// Rotary position embedding in Hugging Face's "rotate half" pairing: element i of a head rotates with
// element i + Dh/2 (not with its neighbour, as llama.cpp's layout does; GGUF Q/K rows are un-permuted
// on load so that this one convention holds everywhere).
import Foundation

/// Llama 3's frequency rescaling (rope_scaling.rope_type = "llama3").
public struct Llama3RopeScaling: Sendable, Equatable {
    public var factor: Double
    public var lowFrequencyFactor: Double
    public var highFrequencyFactor: Double
    public var originalMaxPositions: Double
    public init(factor: Double, lowFrequencyFactor: Double, highFrequencyFactor: Double, originalMaxPositions: Double) {
        self.factor = factor
        self.lowFrequencyFactor = lowFrequencyFactor
        self.highFrequencyFactor = highFrequencyFactor
        self.originalMaxPositions = originalMaxPositions
    }
}

public struct RotaryEmbedding: Sendable {
    public let headDim: Int
    /// Inverse frequencies, [Dh/2].
    public let inverseFrequencies: [Float]
    /// Multiplies cos and sin (YaRN's attention factor: q·k grows by its square); 1 for plain RoPE.
    public let magnitude: Float

    /// Given inverse frequencies (a scaling computed elsewhere, e.g. YaRN's) and a cos/sin multiplier.
    public init(headDim: Int, inverseFrequencies: [Float], magnitude: Float = 1) {
        precondition(headDim > 0 && headDim % 2 == 0 && inverseFrequencies.count == headDim / 2, "RoPE: \(inverseFrequencies.count) frequencies for head dimension \(headDim)")
        self.headDim = headDim
        self.inverseFrequencies = inverseFrequencies
        self.magnitude = magnitude
    }

    /// `frequencyFactors` divide the inverse frequencies one by one (llama.cpp's `rope_freqs` tensor).
    public init(headDim: Int, theta: Double, scaling: Llama3RopeScaling? = nil, frequencyFactors: [Float]? = nil) {
        precondition(headDim > 0 && headDim % 2 == 0, "RoPE needs an even head dimension")
        self.headDim = headDim
        let half = headDim / 2
        // transformers computes inv_freq in float32 from an integer arange; do the same rounding.
        var inv = (0..<half).map { i -> Float in 1 / Float(pow(theta, Double(2 * i) / Double(headDim))) }
        if let s = scaling {
            let lowWavelen = s.originalMaxPositions / s.lowFrequencyFactor
            let highWavelen = s.originalMaxPositions / s.highFrequencyFactor
            inv = inv.map { f in
                let freq = Double(f)
                let wavelen = 2 * Double.pi / freq
                if wavelen < highWavelen { return f }                      // high frequency: unchanged
                if wavelen > lowWavelen { return Float(freq / s.factor) }  // low frequency: scaled
                let smooth = (s.originalMaxPositions / wavelen - s.lowFrequencyFactor)
                    / (s.highFrequencyFactor - s.lowFrequencyFactor)
                return Float((1 - smooth) * freq / s.factor + smooth * freq)
            }
        }
        if let factors = frequencyFactors {
            precondition(factors.count == half, "RoPE frequency factors: expected \(half), got \(factors.count)")
            inv = zip(inv, factors).map { $0 / $1 }
        }
        inverseFrequencies = inv
        magnitude = 1
    }

    /// cos and sin of position × inverse frequency, as transformers rounds them (float32 product).
    @inline(__always)
    func angles(position: Int, _ cosOut: UnsafeMutablePointer<Float>, _ sinOut: UnsafeMutablePointer<Float>) {
        let p = Float(position)
        for i in 0..<(headDim / 2) {
            let a = p * inverseFrequencies[i]
            cosOut[i] = cos(a) * magnitude
            sinOut[i] = sin(a) * magnitude
        }
    }

    /// Rotates every head of each row in place. x: [N, heads·Dh]; positions: [N].
    public func forward(_ x: UnsafeMutablePointer<Float>, rows: Int, heads: Int, positions: UnsafePointer<Int>) {
        rotate(x, rows: rows, heads: heads, positions: positions, sign: 1)
    }

    /// The backward of `forward` is the rotation by the opposite angle (a rotation's transpose), times the same magnitude.
    public func backward(_ dx: UnsafeMutablePointer<Float>, rows: Int, heads: Int, positions: UnsafePointer<Int>) {
        rotate(dx, rows: rows, heads: heads, positions: positions, sign: -1)
    }

    private func rotate(_ x: UnsafeMutablePointer<Float>, rows: Int, heads: Int, positions: UnsafePointer<Int>, sign: Float) {
        let half = headDim / 2
        let width = heads * headDim
        Parallel.forEachChunk(rows, minimumPerChunk: Parallel.minimumRows(width: width)) { range in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: headDim) { buf in
                let c = buf.baseAddress!, s = c + half
                for r in range {
                    angles(position: positions[r], c, s)
                    let row = x + r * width
                    for h in 0..<heads {
                        let v = row + h * headDim
                        for i in 0..<half {
                            let a = v[i], b = v[i + half]
                            let si = sign * s[i]
                            v[i] = a * c[i] - b * si
                            v[i + half] = b * c[i] + a * si
                        }
                    }
                }
            }
        }
    }
}

extension RotaryEmbedding {
    /// Rotates each row of m (heads·Dh wide) in place for its position.
    public func forward(_ m: inout Matrix, heads: Int, positions: [Int]) {
        precondition(m.cols == heads * headDim && positions.count == m.rows, "RoPE: shape mismatch")
        positions.withUnsafeBufferPointer { pp in
            m.values.withUnsafeMutableBufferPointer { mp in forward(mp.baseAddress!, rows: m.rows, heads: heads, positions: pp.baseAddress!) }
        }
    }

    public func backward(_ m: inout Matrix, heads: Int, positions: [Int]) {
        precondition(m.cols == heads * headDim && positions.count == m.rows, "RoPE: shape mismatch")
        positions.withUnsafeBufferPointer { pp in
            m.values.withUnsafeMutableBufferPointer { mp in backward(mp.baseAddress!, rows: m.rows, heads: heads, positions: pp.baseAddress!) }
        }
    }
}
