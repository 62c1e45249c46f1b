// Seeded random weights of any Llama shape: the small models tests build themselves, and synthetic
// workloads for benchmarks. Norm weights are drawn around 1 (not exactly 1) so that a bug in a norm shows.
import Kernels

extension TransformerModel {
    public static func random(config c: ModelConfig, seed: UInt64, scale: Float = 0.08) -> TransformerModel {
        var rng = SeededRandom(seed: seed)
        func matrix(_ rows: Int, _ cols: Int) -> Matrix {
            Matrix(rows: rows, cols: cols, values: (0..<(rows * cols)).map { _ in rng.uniform(-scale, scale) * 1.7 })
        }
        func norm(_ n: Int) -> [Float] { (0..<n).map { _ in rng.uniform(0.6, 1.4) } }
        let embedding = matrix(c.vocabularySize, c.hiddenSize)
        var layers: [BlockWeights] = []
        for _ in 0..<c.layerCount {
            layers.append(BlockWeights(
                attentionNorm: norm(c.hiddenSize), query: matrix(c.queryWidth, c.hiddenSize), key: matrix(c.kvWidth, c.hiddenSize),
                value: matrix(c.kvWidth, c.hiddenSize), output: matrix(c.hiddenSize, c.queryWidth), mlpNorm: norm(c.hiddenSize),
                gate: matrix(c.intermediateSize, c.hiddenSize), up: matrix(c.intermediateSize, c.hiddenSize), down: matrix(c.hiddenSize, c.intermediateSize)))
        }
        let unembedding = c.tiedEmbeddings ? embedding : matrix(c.vocabularySize, c.hiddenSize)
        return TransformerModel(config: c, weights: ModelWeights(embedding: embedding, layers: layers, finalNorm: norm(c.hiddenSize), unembedding: unembedding))
    }

    /// A tiny configuration for tests: V 48, D 32, F 48, L 3, H 4, Hkv 2, Dh 8.
    public static var tinyTestConfig: ModelConfig {
        ModelConfig(vocabularySize: 48, hiddenSize: 32, intermediateSize: 48, layerCount: 3, headCount: 4, kvHeadCount: 2, headDim: 8,
                    rmsNormEps: 1e-5, ropeTheta: 10000, tiedEmbeddings: true, contextLength: 128)
    }
}
