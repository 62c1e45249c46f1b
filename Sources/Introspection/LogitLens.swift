// The logit lens: reading a residual-stream state through the model's own final norm and unembedding,
// softmax(W_U · FinalNorm(h)), at any layer. A target word is measured through the FIRST token of each
// of its forms (as written, and with a leading space); its probability is the largest over those forms.
import Kernels
import Llama
import Tokenizer

/// A word the lens measures, and the token ids that stand for it.
public struct LensTargetWord: Sendable, Codable, Equatable {
    public var word: String
    public var forms: [String]
    /// The first token of each form, without repeats; never BOS.
    public var tokenIds: [Int]

    public init(word: String, tokenizer: BPETokenizer) {
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
    public static func probabilities(model: LlamaModel, hidden: Matrix) -> Matrix {
        var p = model.readout(hidden)
        Softmax.rows(&p)
        return p
    }

    /// Runs `body(rowOffset, probabilities)` over chunks of rows, so a sweep over hundreds of prompts never
    /// holds more than `chunk` full-vocabulary rows at once.
    public static func forEachChunk(model: LlamaModel, hidden: Matrix, chunk: Int = 64, _ body: (Int, Matrix) -> Void) {
        var start = 0
        while start < hidden.rows {
            let end = min(hidden.rows, start + chunk)
            let rows = Elementwise.gatherRows(hidden, Array(start..<end))
            body(start, probabilities(model: model, hidden: rows))
            start = end
        }
    }
}
