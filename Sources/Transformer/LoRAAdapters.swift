// LoRA adapters as the forward pass applies them: W x + (alpha/r)·B(A x), per layer and projection.
// Training (gradients, optimiser, PEFT files) lives in the Training target; this is only the data.
import Kernels

public struct LoRAAdapter: Sendable {
    public var a: Matrix    // [r, in]
    public var b: Matrix    // [out, r]
    public var scale: Float // alpha / r

    public init(a: Matrix, b: Matrix, scale: Float) {
        precondition(a.rows == b.cols, "LoRA: A has rank \(a.rows), B has rank \(b.cols)")
        self.a = a
        self.b = b
        self.scale = scale
    }
    public var rank: Int { a.rows }

    /// The backward of out += s·(input·Aᵀ)·Bᵀ with u = input·Aᵀ [N, r] saved by the forward: ∂L/∂A [r, in] and
    /// ∂L/∂B [out, r] from dOut [N, out], and dInput [N, in] += s·(dOut·B)·A.
    func backward(dOut: Matrix, input: Matrix, u: Matrix, dInput: inout Matrix) -> LoRAAdapter {
        var dB = Matrix(rows: b.rows, cols: rank)
        Matmul.transposedProduct(dOut, u, into: &dB, alpha: scale)
        var du = Matrix(rows: input.rows, cols: rank)
        Matmul.product(dOut, b, into: &du, alpha: scale)
        var dA = Matrix(rows: rank, cols: a.cols)
        Matmul.transposedProduct(du, input, into: &dA)
        Matmul.product(du, a, into: &dInput, accumulate: true)
        return LoRAAdapter(a: dA, b: dB, scale: scale)
    }
}

public struct LoRAAdapters: Sendable {
    public var rank: Int
    public var alpha: Float
    public var targets: [Projection]
    /// layers[i][projection], present for every targeted projection of every layer.
    public var layers: [[Projection: LoRAAdapter]]

    public init(rank: Int, alpha: Float, targets: [Projection], layers: [[Projection: LoRAAdapter]]) {
        self.rank = rank
        self.alpha = alpha
        self.targets = targets
        self.layers = layers
    }

    public var scale: Float { alpha / Float(rank) }

    public func adapter(layer: Int, _ p: Projection) -> LoRAAdapter? {
        layer < layers.count ? layers[layer][p] : nil
    }

    /// Checks the adapters fit a model of this config.
    public func validate(against c: ModelConfig, source: String) throws {
        guard layers.count == c.layerCount else {
            throw ModelError.invalidConfig(file: source, field: "adapter layers", reason: "adapter has \(layers.count) layers, model has \(c.layerCount)")
        }
        for (i, l) in layers.enumerated() {
            for (p, ad) in l {
                let s = p.shape(c)
                if [ad.a.rows, ad.a.cols] != [ad.rank, s[1]] || [ad.b.rows, ad.b.cols] != [s[0], ad.rank] {
                    throw ModelError.tensorShape(file: source, name: "layer \(i) \(p.rawValue) lora A/B",
                                                 expected: [ad.rank, s[1], s[0], ad.rank], found: [ad.a.rows, ad.a.cols, ad.b.rows, ad.b.cols])
                }
            }
        }
    }
}
