// The logit lens: reading a residual-stream state through the model's own final norm and unembedding,
// softmax(W_U · FinalNorm(h)), at any layer. A target word is measured through the FIRST token of each
// of its forms (as written, and with a leading space); its probability is the largest over those forms.
import Kernels
import Transformer
import Tokenizer

/// A word the lens measures, and the token ids that stand for it.
public struct LensTargetWord: Sendable, Codable, Equatable {
    public var word: String
    public var forms: [String]
    /// The first token of each form, without repeats; never BOS.
    public var tokenIds: [Int]

    public init(word: String, tokenizer: any TextTokenizer) {
        self.word = word
        let bare = word.trimmingCharacters(in: .whitespaces)
        forms = [bare, " " + bare]
        var ids: [Int] = []
        for form in forms {
            var encoded = tokenizer.encode(form)
            if tokenizer.addsBosToken, let bos = tokenizer.bosTokenId, encoded.first == bos { encoded.removeFirst() }
            if let first = encoded.first, !ids.contains(first) { ids.append(first) }
        }
        tokenIds = ids
    }

    /// A target given by explicit token ids (for callers that choose the tokens themselves).
    public init(word: String, tokenIds: [Int]) {
        self.word = word
        self.forms = [word]
        self.tokenIds = tokenIds
    }

    /// The word's probability in a probability row: the largest over its token ids.
    public func probability(in probabilities: Matrix, row: Int) -> Float {
        tokenIds.map { probabilities[row, $0] }.max() ?? 0
    }
}

public enum LogitLens {
    /// softmax(W_U · FinalNorm(h)) for every row of `hidden` ([rows, D] → [rows, V]).
    public static func probabilities(model: TransformerModel, hidden: Matrix) -> Matrix {
        var p = model.readout(hidden)
        Softmax.rows(&p)
        return p
    }

    /// Runs `body(rowOffset, probabilities)` over chunks of rows, so a sweep over hundreds of prompts never
    /// holds more than `chunk` full-vocabulary rows at once.
    public static func forEachChunk(model: TransformerModel, hidden: Matrix, chunk: Int = 160, _ body: (Int, Matrix) -> Void) {
        forEachChunk(model: model, states: [hidden], chunk: chunk) { _, offset, probs in body(offset, probs) }
    }

    /// The same over several matrices of hidden states (one per layer): `body(state, rowOffset, probabilities)`.
    /// Rows are split into equal chunks of at most `chunk` (300 prompts: two of 150, about 30 MB of logits), and
    /// one pair of buffers serves every chunk of every state: the sweep's cost is then the unembedding sgemm
    /// and the softmax, not allocation. Each chunk's rows are normalised in place, never gathered.
    public static func forEachChunk(model: TransformerModel, states: [Matrix], chunk: Int = 160, _ body: (Int, Int, Matrix) -> Void) {
        forEachChunk(model: model, states: states, chunk: chunk, keepingLogitsOf: []) { index, offset, probs, _ in body(index, offset, probs) }
    }

    /// The same, also handing over the logits of `tokenIds` for every row (logits[r][k] for tokenIds[k]), read
    /// before the softmax: comparing tokens by logit stays exact where their probabilities underflow float32
    /// (at `embed` many words sit below 1e-38, and equal zeros would tie).
    public static func forEachChunk(model: TransformerModel, states: [Matrix], chunk: Int = 160, keepingLogitsOf tokenIds: [Int],
                                    _ body: (Int, Int, Matrix, [[Float]]) -> Void) {
        let c = model.config
        var normed = Matrix(rows: 0, cols: c.hiddenSize)
        var probs = Matrix(rows: 0, cols: c.vocabularySize)
        for (index, hidden) in states.enumerated() where hidden.rows > 0 {
            let chunks = (hidden.rows + max(1, chunk) - 1) / max(1, chunk)
            let per = (hidden.rows + chunks - 1) / chunks
            var start = 0
            while start < hidden.rows {
                let end = min(hidden.rows, start + per)
                if probs.rows != end - start {
                    normed = Matrix(rows: end - start, cols: c.hiddenSize)
                    probs = Matrix(rows: end - start, cols: c.vocabularySize)
                }
                model.readout(hidden, rows: start..<end, normed: &normed, into: &probs)
                let logits = tokenIds.isEmpty ? [] : (0..<probs.rows).map { r in tokenIds.map { probs[r, $0] } }
                Softmax.rows(&probs)
                body(index, start, probs, logits)
                start = end
            }
        }
    }
}
