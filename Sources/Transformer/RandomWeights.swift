// Seeded random weights of any family's shape: the small models tests build themselves, and synthetic
// workloads for benchmarks. Norm weights are drawn around 1 (not exactly 1) so that a bug in a norm shows;
// every role the block descriptor implies is filled, so a new tensor needs no edit here.
import Kernels

extension TransformerModel {
    public static func random(config c: ModelConfig, seed: UInt64, scale: Float = 0.08) -> TransformerModel {
        var rng = SeededRandom(seed: seed)
        func matrix(_ rows: Int, _ cols: Int) -> Matrix {
            Matrix(rows: rows, cols: cols, values: (0..<(rows * cols)).map { _ in rng.uniform(-scale, scale) * 1.7 })
        }
        func norm(_ n: Int) -> [Float] { (0..<n).map { _ in rng.uniform(0.6, 1.4) } }
        let embedding = matrix(c.vocabularySize, c.hiddenSize)
        let roles = BlockTensor.roles(for: c)
        var layers: [BlockWeights] = []
        for _ in 0..<c.layerCount {
            var tensors: [BlockTensor: Matrix] = [:]
            for role in roles {
                let shape = role.shape(c)
                tensors[role] = role.isNorm ? Matrix(rows: 1, cols: shape[1], values: norm(shape[1])) : matrix(shape[0], shape[1])
            }
            layers.append(BlockWeights(tensors: tensors))
        }
        let unembedding = c.tiedEmbeddings ? embedding : matrix(c.vocabularySize, c.hiddenSize)
        return TransformerModel(config: c, weights: ModelWeights(embedding: embedding, layers: layers, finalNorm: norm(c.hiddenSize), unembedding: unembedding))
    }

    /// A tiny configuration for tests: V 48, D 32, F 48, L 3, H 4, Hkv 2, Dh 8.
    public static var tinyTestConfig: ModelConfig {
        ModelConfig(vocabularySize: 48, hiddenSize: 32, intermediateSize: 48, layerCount: 3, headCount: 4, kvHeadCount: 2, headDim: 8,
                    rmsNormEps: 1e-5, ropeTheta: 10000, tiedEmbeddings: true, contextLength: 128)
    }

    /// The tiny configuration with every block feature switched on (pre+post norms, GeGLU, q/k/v biases,
    /// QK-norm, a sliding window of 3 on two of the three layers with their own RoPE base, a non-default
    /// attention scale, an embedding scale and logit soft-capping), for gradient and consistency tests.
    public static var tinyAllFeaturesConfig: ModelConfig {
        var c = tinyTestConfig
        c.architecture = .gemma3
        c.block = BlockDescriptor(normPlacement: .prePost, activation: .gegluTanh, biases: [.query, .key, .value], qkNorm: true)
        c.layerKinds = [.sliding, .global, .sliding]
        c.slidingWindow = 3
        c.localRopeTheta = 500
        c.attentionScale = 0.3
        c.embeddingScale = 2.5
        c.finalLogitSoftcap = 4
        return c
    }
}
