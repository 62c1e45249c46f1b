// LoRA on a mixture-of-experts router: logits [N, E] = xn·Wᵀ + b + s·(xn·Aᵀ)·Bᵀ, A [r, D], B [E, r], the same
// update PEFT applies to the router's weight through `target_parameters` (W + s·B·A). Forward and backward of
// the adapted logits sit here; the routing itself (top-k, weights) and its backward are MixtureOfExperts.swift's.
// Not LoRA on the experts (frozen) and not a second routing path.
import Kernels

extension MixtureOfExperts {
    /// The router's logits [N, E] from xn [N, D], with the adapter's term when there is one; `u` = xn·Aᵀ [N, r]
    /// is what the backward needs.
    static func routerLogits(_ xn: Matrix, weights w: BlockWeights, adapter: LoRAAdapter?) -> (logits: Matrix, u: Matrix?) {
        var logits = Matrix(rows: xn.rows, cols: w[.router].rows)
        Matmul.linear(xn, w[.router], into: &logits)
        if let b = w.vector(.routerBias) { Elementwise.addBias(b, to: &logits) }
        guard let ad = adapter else { return (logits, nil) }
        var u = Matrix(rows: xn.rows, cols: ad.rank)
        Matmul.linear(xn, ad.a, into: &u)
        Matmul.linear(u, ad.b, into: &logits, accumulate: true, alpha: ad.scale)
        return (logits, u)
    }

    /// The adapter's share of the router backward: from dLogits [N, E], ∂L/∂A [r, D] and ∂L/∂B [E, r], and
    /// dXn [N, D] += s·(dLogits·B)·A. dLogits is only the routing weights' gradient: which experts are chosen
    /// (the top-k) is piecewise constant in the logits, so the choice carries no gradient.
    static func routerAdapterBackward(dLogits: Matrix, xn: Matrix, u: Matrix, adapter ad: LoRAAdapter, dXn: inout Matrix) -> LoRAAdapter {
        ad.backward(dOut: dLogits, input: xn, u: u, dInput: &dXn)
    }
}

extension ModelConfig {
    /// Refuses LoRA targets this model does not have, before anything is trained or applied: the dense MLP's
    /// projections on a mixture-of-experts model (its experts replace them and stay frozen), and the router on
    /// a dense model.
    public func checkLoRATargets(_ targets: [Projection], source: String = "LoRA adapters") throws {
        if block.moe != nil, let p = targets.first(where: { $0.huggingFaceModule == "mlp" && $0 != .router }) {
            throw ModelError.invalidConfig(file: source, field: "target_modules",
                                           reason: "'\(p.rawValue)' is a dense-MLP projection; a mixture-of-experts model has none (target the attention projections q_proj, k_proj, v_proj, o_proj, or the router)")
        }
        if block.moe == nil, targets.contains(.router) {
            throw ModelError.invalidConfig(file: source, field: "target_modules",
                                           reason: "'router' is a mixture-of-experts target; this \(architecture.displayName) model is dense (target q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj or down_proj)")
        }
    }
}
