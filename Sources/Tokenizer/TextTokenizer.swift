// The one tokenizer interface the rest of Lazarus sees: text to ids and back, the special ids,
// and a token's text. Byte-level BPE (BPETokenizer) and SentencePiece-style BPE
// (SentencePieceTokenizer) stand behind it; nothing here reads a file.

/// A tokenizer whose ids match the model's reference tokenizer (Hugging Face `tokenizers`).
/// Implementations are immutable after construction (any cache they keep is locked), so one
/// may be shared across threads.
public protocol TextTokenizer: AnyObject, Sendable {
    /// The number of token ids, special tokens included.
    var vocabularySize: Int { get }
    var bosTokenId: Int? { get }
    var eosTokenId: Int? { get }
    /// Whether `encode` puts the BOS token first (the model's metadata says so).
    var addsBosToken: Bool { get }
    /// The ids of the texts recognised as special tokens in `encode`'s input, ascending.
    var specialTokenIds: [Int] { get }
    /// What kind of tokenizer this is, for `model info` ("byte-level BPE (smollm pre-tokenizer)").
    var kindDescription: String { get }

    /// The ids of `text`: BOS first if the model adds it, special tokens written in the text as
    /// their own ids, everything else as the model's tokenizer cuts it.
    func encode(_ text: String) -> [Int]
    /// The exact bytes the ids stand for; ids outside the vocabulary are skipped.
    func decodeBytes(_ ids: [Int]) -> [UInt8]
    /// The text the ids stand for, as the reference decoder gives it; invalid UTF-8 becomes U+FFFD.
    func decode(_ ids: [Int]) -> String
    /// A token as a reader would write it (" add"); empty for an id outside the vocabulary.
    func piece(_ id: Int) -> String
    /// The stored vocabulary entry of an id ("Ġadd", "▁add"), or nil outside the vocabulary.
    func token(_ id: Int) -> String?
    /// The id of a vocabulary entry in its stored form, or nil.
    func tokenId(of token: String) -> Int?
}
