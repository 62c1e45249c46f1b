// The vocabulary objective's lens term: λ · CE(readout(h_k[t]), w), the logit lens at residual-stream layer k
// read at one position t of each example and asked for one token w (the hypothesis that an explicit objective
// makes the task readable through the vocabulary). Its gradient enters the backward as a residual-stream
// gradient at layer k. Not the answer loss (LoRAGradients) and not the choice of t and w (the experiment's).
import Kernels
import Optimization
import Transformer

/// Where an example's lens term reads (the position t, whose state predicts tokens[t + 1]) and the token it asks for.
public struct LensTarget: Sendable, Equatable, Codable {
    public var position: Int
    public var token: Int
    public init(position: Int, token: Int) {
        self.position = position
        self.token = token
    }
}

public struct LensObjective: Sendable, Equatable, Codable {
    /// Residual-stream layer k (the output of block k). `embed` is refused: no adapter reaches it.
    public var layer: Int
    /// λ, the lens term's weight against the answer loss.
    public var weight: Double

    public init(layer: Int, weight: Double) {
        self.layer = layer
        self.weight = weight
    }

    public func validate(config: ModelConfig) throws {
        guard (0..<config.layerCount).contains(layer) else {
            throw TrainingError.invalidSetting("the lens objective's layer \(layer) is not a block output L0…L\(config.layerCount - 1) (embed has no adapter before it)")
        }
        guard weight.isFinite, weight >= 0 else { throw TrainingError.invalidSetting("the lens objective's weight λ = \(weight) must be a finite number ≥ 0") }
    }

    /// The packed rows of the batch the term reads and their tokens (examples without a target contribute nothing).
    static func rows(of batch: [TrainingExample], rowOffsets: [Int]) -> (rows: [Int], tokens: [Int]) {
        var rows: [Int] = [], tokens: [Int] = []
        for (b, ex) in batch.enumerated() {
            guard let t = ex.lensTarget else { continue }
            precondition(t.position >= 0 && t.position < ex.tokens.count, "LensObjective: position \(t.position) outside an example of \(ex.tokens.count) tokens")
            rows.append(rowOffsets[b] + t.position)
            tokens.append(t.token)
        }
        return (rows, tokens)
    }

    /// The mean lens cross-entropy over the batch's targets, unweighted, and λ times its gradient with respect to the
    /// residual stream at `layer`: [N, D], zero except at the read rows. hidden: that layer's residual stream, [N, D].
    func lossAndResidualGradient(model: TransformerModel, hidden: Matrix, rows: [Int], tokens: [Int]) -> (loss: Double, dResidual: Matrix) {
        let h = Elementwise.gatherRows(hidden, rows)
        var (loss, dLogits) = CrossEntropy.lossAndGradient(logits: model.readout(h), targets: tokens)
        Elementwise.scale(&dLogits, by: Float(weight))
        let dRows = model.readoutBackward(dLogits: dLogits, hidden: h)
        var dResidual = Matrix(rows: hidden.rows, cols: hidden.cols)
        for (i, r) in rows.enumerated() {
            for j in 0..<hidden.cols { dResidual.values[r * hidden.cols + j] += dRows.values[i * hidden.cols + j] }
        }
        return (loss, dResidual)
    }
}
