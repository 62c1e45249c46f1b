// The tuned lens (Belrose et al. 2023): one affine translator per residual-stream layer, y = A h + b, read
// through the model's own readout (final norm + unembedding). With A = I and b = 0 it is the logit lens
// exactly. The last layer has no translator: its readout is the model's output, which the lens is fitted to.
// Not the training loop (TunedLensTraining.swift) and not the choice between lenses (LensChoice.swift).
import Foundation
import Kernels
import ModelFiles
import Optimization
import Transformer

public struct TunedLens: Sendable, Equatable {
    /// Residual-stream layers with a translator: -1 for `embed`, k for `Lk`, ascending.
    public var layers: [Int]
    /// weights[i]: A of layers[i], [D, D], applied as y = h · Aᵀ + b.
    public var weights: [Matrix]
    /// biases[i]: b of layers[i], [D].
    public var biases: [[Float]]
    public var hiddenSize: Int
    /// The model's block count, so a lens is never applied to a model of another depth.
    public var layerCount: Int

    /// Identity translators at `embed`, L0 … L{n-2} (the paper's layout: the last layer is read as it is).
    public static func identity(hiddenSize d: Int, layerCount: Int) -> TunedLens {
        let layers = Array(-1..<(layerCount - 1))
        var eye = Matrix(rows: d, cols: d)
        for i in 0..<d { eye[i, i] = 1 }
        return TunedLens(layers: layers, weights: layers.map { _ in eye }, biases: layers.map { _ in [Float](repeating: 0, count: d) },
                         hiddenSize: d, layerCount: layerCount)
    }

    public static func identity(for config: ModelConfig) -> TunedLens {
        identity(hiddenSize: config.hiddenSize, layerCount: config.layerCount)
    }

    /// The translator's position in `layers`, nil where the lens reads the layer as the logit lens does.
    public func translatorIndex(layer: Int) -> Int? { layers.firstIndex(of: layer) }

    /// A hidden: [R, D] → translated [R, D] (unchanged where the layer has no translator).
    public func translate(_ hidden: Matrix, layer: Int) -> Matrix {
        guard let i = translatorIndex(layer: layer) else { return hidden }
        return Self.apply(weight: weights[i], bias: biases[i], to: hidden)
    }

    /// y = h · Aᵀ + b; h: [R, D], A: [D, D] → [R, D].
    static func apply(weight a: Matrix, bias b: [Float], to h: Matrix) -> Matrix {
        var y = Matrix(rows: h.rows, cols: a.rows)
        Matmul.linear(h, a, into: &y)
        let d = y.cols
        y.values.withUnsafeMutableBufferPointer { p in
            for r in 0..<h.rows { for j in 0..<d { p[r * d + j] += b[j] } }
        }
        return y
    }

    /// Logits of the lens at `layer`: readout(translate(h)); [R, D] → [R, V].
    public func logits(model: TransformerModel, hidden: Matrix, layer: Int) -> Matrix {
        model.readout(translate(hidden, layer: layer))
    }

    /// KL(p_final ‖ softmax(readout(A h + b))) averaged over rows, and its gradient with respect to A ([D, D])
    /// and b ([D]): dY = readoutBackward(dLogits), dA = dYᵀ · h, db = Σ_rows dY.
    /// h: [R, D]; targetLogProbabilities: the model's own final log-probabilities at the same rows, [R, V].
    public static func lossAndGradient(model: TransformerModel, weight a: Matrix, bias b: [Float], hidden h: Matrix,
                                       targetLogProbabilities logP: Matrix) -> (loss: Double, dWeight: Matrix, dBias: [Float]) {
        let y = apply(weight: a, bias: b, to: h)
        let (loss, dLogits) = KLDivergence.lossAndGradient(logits: model.readout(y), targetLogProbabilities: logP)
        let dY = model.readoutBackward(dLogits: dLogits, hidden: y)
        var dA = Matrix(rows: a.rows, cols: a.cols)
        Matmul.transposedProduct(dY, h, into: &dA)
        var db = [Float](repeating: 0, count: b.count)
        for r in 0..<dY.rows { for j in 0..<dY.cols { db[j] += dY[r, j] } }
        return (loss, dA, db)
    }

    /// Checks that the lens fits a model: same width and depth (a lens trained on another model is refused).
    public func validate(against config: ModelConfig, source: String) throws {
        guard hiddenSize == config.hiddenSize, layerCount == config.layerCount else {
            throw TunedLensError(file: source, reason: "the lens was trained for hidden size \(hiddenSize) and \(layerCount) layers; "
                                 + "this model has \(config.hiddenSize) and \(config.layerCount): train a lens for this model with 'lazarus lens train'")
        }
    }
}

/// A tuned-lens file that cannot be read or does not fit the model: the file, the reason and the fix.
public struct TunedLensError: Error, CustomStringConvertible, Equatable {
    public var file: String
    public var reason: String
    public init(file: String, reason: String) {
        self.file = file
        self.reason = reason
    }
    public var description: String { "\(file): \(reason)" }
}
