// Fitting a tuned lens: general text cut into fixed-length token sequences, one forward pass per batch
// capturing every layer at every position, then for each translator KL(final ‖ lens) and one AdamW step.
// The translators are independent (each reads its own layer), so one forward pass serves all of them.
// Held-out KL per layer, of the logit lens and of the tuned lens, is what the training reports.
import Foundation
import Kernels
import Optimization
import Tokenizer
import Transformer

/// General text as token sequences: passages split at blank lines or lines holding only '%' (the
/// fortune-file convention), joined, tokenised once and cut into sequences of `sequenceLength` tokens
/// (BOS first where the tokenizer adds one). The last `heldOutFraction` of the stream is held out.
public struct TunedLensCorpus: Sendable {
    public var training: [[Int]]
    public var heldOut: [[Int]]
    public var bytes: Int

    /// Sequences chosen by the caller (tests, or text already tokenised).
    public init(training: [[Int]], heldOut: [[Int]], bytes: Int = 0) {
        self.training = training
        self.heldOut = heldOut
        self.bytes = bytes
    }

    public init(text: String, tokenizer: any TextTokenizer, sequenceLength: Int, heldOutFraction: Double = 0.1) throws {
        guard sequenceLength >= 2 else { throw IntrospectionError.badInput("sequence length \(sequenceLength): use at least 2 tokens") }
        let passages = text.components(separatedBy: "\n").reduce(into: [[String]]([[]])) { acc, line in
            let t = line.trimmingCharacters(in: .whitespaces)
            if t.isEmpty || t == "%" { if !(acc.last?.isEmpty ?? true) { acc.append([]) } } else { acc[acc.count - 1].append(t) }
        }.filter { !$0.isEmpty }.map { $0.joined(separator: " ") }
        var tokens = tokenizer.encode(passages.joined(separator: "\n\n"))
        let bos = tokenizer.addsBosToken ? tokenizer.bosTokenId : nil
        if let bos, tokens.first == bos { tokens.removeFirst() }
        let body = sequenceLength - (bos == nil ? 0 : 1)
        let count = tokens.count / body
        let sequences = (0..<count).map { i in (bos.map { [$0] } ?? []) + Array(tokens[(i * body)..<((i + 1) * body)]) }
        let held = Int((Double(count) * heldOutFraction).rounded(.up))
        guard count - held >= 1, held >= 1 else {
            throw IntrospectionError.notEnoughData("the corpus gives \(count) sequences of \(sequenceLength) tokens; it needs at least 2 (pass a longer --corpus)")
        }
        training = Array(sequences[..<(count - held)])
        heldOut = Array(sequences[(count - held)...])
        bytes = text.utf8.count
    }

    /// Rows of a packed batch that the lens learns from: every position but a leading BOS.
    static func rows(_ sequences: [[Int]], bos: Int?) -> [Int] {
        var out: [Int] = [], offset = 0
        for s in sequences {
            for t in 0..<s.count where !(t == 0 && bos != nil && s[0] == bos) { out.append(offset + t) }
            offset += s.count
        }
        return out
    }
}

public struct TunedLensTrainingOptions: Sendable, Equatable {
    public var steps = 50
    public var batchSequences = 4
    public var sequenceLength = 32
    public var learningRate: Float = 1e-3
    public var adamW = AdamWSettings()
    public var seed: UInt64 = 42
    public init() {}
}

/// Per-layer held-out KL (nats per token) to the model's final distribution.
public struct LayerKL: Codable, Sendable, Equatable {
    public var layer: String
    public var logit: Double
    public var tuned: Double
}

/// What `tuned_lens.json` records of the training.
public struct TunedLensTrainingSummary: Codable, Sendable, Equatable {
    public var corpus: String
    public var corpusBytes: Int
    public var trainingSequences: Int
    public var heldOutSequences: Int
    public var sequenceLength: Int
    public var steps: Int
    public var batchSequences: Int
    public var learningRate: Double
    public var seed: UInt64
    public var seconds: Double
    /// Mean over translators of the training-batch KL at each step.
    public var losses: [Double]
    public var heldOutKL: [LayerKL]

    enum CodingKeys: String, CodingKey {
        case corpus, corpusBytes = "corpus_bytes", trainingSequences = "training_sequences", heldOutSequences = "held_out_sequences"
        case sequenceLength = "sequence_length", steps, batchSequences = "batch_sequences", learningRate = "learning_rate", seed, seconds
        case losses, heldOutKL = "held_out_kl"
    }
}

public enum TunedLensTraining {
    /// Trains translators from identity; `progress(step, meanKL)` after each step.
    public static func train(model: TransformerModel, adapters: LoRAAdapters? = nil, corpus: TunedLensCorpus, bos: Int?,
                             options o: TunedLensTrainingOptions, progress: (Int, Double) -> Void = { _, _ in }) throws -> (lens: TunedLens, losses: [Double]) {
        var lens = TunedLens.identity(for: model.config)
        let d = model.config.hiddenSize
        var states = lens.layers.map { _ in AdamWState(parameterCount: d * d + d) }
        var order = Array(corpus.training.indices)
        var rng = SeededRandom(seed: o.seed)
        rng.shuffle(&order)
        var cursor = 0, losses: [Double] = []
        for step in 0..<o.steps {
            var batch: [[Int]] = []
            for _ in 0..<max(1, min(o.batchSequences, order.count)) {
                if cursor == order.count { rng.shuffle(&order); cursor = 0 }
                batch.append(corpus.training[order[cursor]])
                cursor += 1
            }
            let (hidden, logP) = try finalAndHidden(model: model, adapters: adapters, batch: batch, layers: lens.layers, bos: bos)
            var total = 0.0
            for i in lens.layers.indices {
                let g = TunedLens.lossAndGradient(model: model, weight: lens.weights[i], bias: lens.biases[i], hidden: hidden[i], targetLogProbabilities: logP)
                total += g.loss
                var p = lens.weights[i].values + lens.biases[i]
                AdamW.step(parameters: &p, gradients: g.dWeight.values + g.dBias, state: &states[i], learningRate: o.learningRate, settings: o.adamW)
                lens.weights[i].values = Array(p[..<(d * d)])
                lens.biases[i] = Array(p[(d * d)...])
            }
            let mean = total / Double(max(1, lens.layers.count))
            losses.append(mean)
            progress(step + 1, mean)
        }
        return (lens, losses)
    }

    /// The whole of `lazarus lens train`: reads the corpus, trains, measures both lenses on the held-out text,
    /// and writes the lens to `folder`. Returns tuned_lens.json as written.
    public static func trainAndSave(model: TransformerModel, tokenizer: any TextTokenizer, adapters: LoRAAdapters? = nil, corpus url: URL,
                                    options o: TunedLensTrainingOptions, modelName: String, to folder: URL,
                                    progress: (Int, Double) -> Void = { _, _ in }) throws -> TunedLensConfig {
        guard let data = FileManager.default.contents(atPath: url.path), let text = String(data: data, encoding: .utf8) else {
            throw IntrospectionError.badInput("--corpus \(url.path): cannot read it as UTF-8 text (apt-get install fortunes gives the default corpus)")
        }
        let started = Date()
        let corpus = try TunedLensCorpus(text: text, tokenizer: tokenizer, sequenceLength: o.sequenceLength)
        let bos = tokenizer.addsBosToken ? tokenizer.bosTokenId : nil
        let (lens, losses) = try train(model: model, adapters: adapters, corpus: corpus, bos: bos, options: o, progress: progress)
        let kl = try evaluate(model: model, adapters: adapters, lens: lens, sequences: corpus.heldOut, bos: bos, batchSequences: o.batchSequences)
        let summary = TunedLensTrainingSummary(corpus: url.lastPathComponent, corpusBytes: corpus.bytes, trainingSequences: corpus.training.count,
                                               heldOutSequences: corpus.heldOut.count, sequenceLength: o.sequenceLength, steps: o.steps,
                                               batchSequences: o.batchSequences, learningRate: Double(o.learningRate), seed: o.seed,
                                               seconds: Date().timeIntervalSince(started), losses: losses, heldOutKL: kl)
        return try TunedLensFiles.save(lens, to: folder, model: modelName, training: summary)
    }

    /// Held-out KL per layer (every layer, `embed` … the last) of the logit lens and of `lens`, nats per token.
    public static func evaluate(model: TransformerModel, adapters: LoRAAdapters? = nil, lens: TunedLens, sequences: [[Int]], bos: Int?,
                                batchSequences: Int = 4) throws -> [LayerKL] {
        let layers = Array(-1..<model.config.layerCount)
        var logitSum = [Double](repeating: 0, count: layers.count), tunedSum = logitSum, rowCount = 0
        var start = 0
        while start < sequences.count {
            let batch = Array(sequences[start..<min(sequences.count, start + max(1, batchSequences))])
            start += batch.count
            let (hidden, logP) = try finalAndHidden(model: model, adapters: adapters, batch: batch, layers: layers, bos: bos)
            rowCount += logP.rows
            for (i, layer) in layers.enumerated() {
                let logit = KLDivergence.loss(logits: model.readout(hidden[i]), targetLogProbabilities: logP)
                logitSum[i] += logit
                // Without a translator the tuned lens is the logit lens: the same number, not a second readout.
                tunedSum[i] += lens.translatorIndex(layer: layer) == nil ? logit
                    : KLDivergence.loss(logits: lens.logits(model: model, hidden: hidden[i], layer: layer), targetLogProbabilities: logP)
            }
        }
        return layers.indices.map { i in
            LayerKL(layer: LayerSelection.name(layers[i]), logit: logitSum[i] / Double(max(1, rowCount)), tuned: tunedSum[i] / Double(max(1, rowCount)))
        }
    }

    /// One forward pass: the hidden states at `layers` and the final log-probabilities, at the lens's rows.
    static func finalAndHidden(model: TransformerModel, adapters: LoRAAdapters?, batch: [[Int]], layers: [Int], bos: Int?) throws -> (hidden: [Matrix], logP: Matrix) {
        let result = try model.forward(batch, adapters: adapters, capture: .allPositions, logits: .allPositions)
        let rows = TunedLensCorpus.rows(batch, bos: bos)
        var logP = Elementwise.gatherRows(result.logits, rows)
        Softmax.logRows(&logP)
        return (layers.map { Elementwise.gatherRows(result.hidden[$0 + 1], rows) }, logP)
    }
}
