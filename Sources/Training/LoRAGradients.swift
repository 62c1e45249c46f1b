// One training step's mathematics: the forward pass over a packed batch, cross-entropy at the rows that
// carry a target, and the backward pass to the LoRA matrices. No optimiser and no state: the trainer,
// the tests and the benchmark all call these two functions.
import Kernels
import Transformer
import Optimization

/// A training sequence: tokens, and for each t whether tokens[t] is a target predicted from position t−1.
public struct TrainingExample: Sendable, Equatable, Codable {
    public var tokens: [Int]
    /// lossMask[t] is true where tokens[t] counts as a target (never at t = 0).
    public var lossMask: [Bool]
    /// The vocabulary objective's read position and token (LensObjective), nil for plain fine-tuning.
    public var lensTarget: LensTarget? = nil
    public init(tokens: [Int], lossMask: [Bool]) {
        precondition(tokens.count == lossMask.count, "TrainingExample: \(tokens.count) tokens, \(lossMask.count) mask entries")
        self.tokens = tokens
        self.lossMask = lossMask
    }
    /// Every next token counts.
    public init(tokens: [Int]) {
        self.init(tokens: tokens, lossMask: tokens.indices.map { $0 > 0 })
    }
    public var targetCount: Int { lossMask.indices.reduce(0) { $0 + ($1 > 0 && lossMask[$1] ? 1 : 0) } }
}

public struct LossAndGradients: Sendable {
    /// Mean cross-entropy over the counted targets (0 when there are none): the answer loss.
    public var loss: Double
    public var targetCount: Int
    /// With a lens objective: the mean lens cross-entropy, unweighted (the gradients are of loss + λ · lensLoss).
    public var lensLoss: Double? = nil
    public var gradients: LoRAAdapterGradients
}

public enum LoRAGradients {
    /// The packed rows whose logits predict a target, and those targets.
    static func targets(of batch: [TrainingExample], rowOffsets: [Int]) -> (rows: [Int], targets: [Int]) {
        var rows: [Int] = [], targets: [Int] = []
        for (b, ex) in batch.enumerated() {
            for t in 1..<max(1, ex.tokens.count) where ex.lossMask[t] {
                rows.append(rowOffsets[b] + t - 1)
                targets.append(ex.tokens[t])
            }
        }
        return (rows, targets)
    }

    /// Mean loss over the batch's targets and its gradient with respect to every LoRA matrix; with a lens objective,
    /// the gradient of loss + λ · lensLoss (one backward from the logits and the residual stream at its layer).
    /// With a workspace, the step's large buffers come from it and go back to it, so the next step of the same
    /// shapes reuses them (the trainer and the benchmark keep one; without, each step allocates afresh).
    public static func lossAndGradients(model: TransformerModel, adapters: LoRAAdapters, batch: [TrainingExample],
                                        lens: LensObjective? = nil, workspace: ActivationWorkspace? = nil) throws -> LossAndGradients {
        workspace?.beginStep()
        let (record, rowOffsets) = try {
            let forward = try model.forward(batch.map(\.tokens), adapters: adapters,
                                            options: ForwardOptions(logits: .none, saveActivations: true, workspace: workspace))
            return (forward.activations!, forward.rowOffsets)
        }()
        let (rows, targets) = targets(of: batch, rowOffsets: rowOffsets)
        let logits = model.logits(atRows: rows, of: record)
        let (loss, dLogits) = CrossEntropy.lossAndGradient(logits: consume logits, targets: targets)
        var seed = BackwardSeed(dLogits: dLogits, logitRows: rows)
        var lensLoss: Double? = nil
        if let lens {
            let (lensRows, tokens) = LensObjective.rows(of: batch, rowOffsets: rowOffsets)
            if !lensRows.isEmpty {
                // The output of block k is the input of block k + 1 (the last block's output is the final norm's input).
                let k = lens.layer
                let hidden = k + 1 < record.layers.count ? record.layers[k + 1].input : record.finalInput
                let term = lens.lossAndResidualGradient(model: model, hidden: hidden, rows: lensRows, tokens: tokens)
                lensLoss = term.loss
                seed.residual[k] = term.dResidual
            }
        }
        let result = model.backward(seed, record: record, adapters: adapters)
        if let workspace {
            workspace.recycle(record)
            if let d = seed.dLogits { workspace.recycle(d) }
            workspace.recycle(result.embeddingOutputGradient)
        }
        return LossAndGradients(loss: loss, targetCount: targets.count, lensLoss: lensLoss, gradients: result.adapterGradients)
    }

    /// Summed loss and target count of a batch, forward only (evaluation).
    public static func lossSum(model: TransformerModel, adapters: LoRAAdapters?, batch: [TrainingExample]) throws -> (sum: Double, count: Int) {
        let forward = try model.forward(batch.map(\.tokens), adapters: adapters, logits: .allPositions)
        let (rows, targets) = targets(of: batch, rowOffsets: forward.rowOffsets)
        guard !rows.isEmpty else { return (0, 0) }
        return CrossEntropy.loss(logits: Elementwise.gatherRows(forward.logits, rows), targets: targets)
    }
}
