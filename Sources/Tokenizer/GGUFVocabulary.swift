// The tokenizer a GGUF file's `tokenizer.ggml.*` metadata describes, as plain values, and the
// rules that turn it into a TextTokenizer: byte-level BPE for `gpt2`, SentencePiece-style BPE
// for `llama` (Gemma's rules or Llama 2's, as transformers builds them from the GGUF). Reading the file is
// ModelFiles' job; the caller copies the keys in.

/// The tokenizer keys of a GGUF file. Every field is the value of the key of the same name
/// (`tokens` is `tokenizer.ggml.tokens`…), or nil when the file lacks it.
public struct GGUFVocabulary: Sendable {
    public var architecture: String?
    public var model: String?
    public var pre: String?
    public var tokens: [String]?
    public var scores: [Float]?
    public var tokenTypes: [Int]?
    public var merges: [String]?
    public var bosTokenId: Int?
    public var eosTokenId: Int?
    public var unknownTokenId: Int?
    public var paddingTokenId: Int?
    public var addBosToken: Bool?
    public var addSpacePrefix: Bool?

    public init() {}

    /// `tokenizer.ggml.token_type` values (llama.cpp's `llama_token_type`).
    public enum TokenType: Int, Sendable {
        case normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
    }

    /// The tokenizer.ggml.model values Lazarus reads.
    public static let knownModels = ["gpt2", "llama"]
    /// The architectures that take Gemma's SentencePiece rules for `llama` vocabularies; every
    /// other one takes Llama 2's, as in transformers (phi3, which transformers treats apart, is refused).
    public static let gemmaArchitectures = ["gemma", "gemma2", "gemma3"]

    /// Builds the tokenizer, or says in one line which key of `file` is wrong.
    public func makeTokenizer(file: String) throws -> any TextTokenizer {
        func reject(_ key: String, _ reason: String) -> TokenizerError {
            TokenizerError(file: file, field: key, reason: reason)
        }
        guard let tokens else { throw reject("tokenizer.ggml.tokens", "missing or not an array of strings") }
        if let tokenTypes {
            guard tokenTypes.count == tokens.count else {
                throw reject("tokenizer.ggml.token_type", "\(tokenTypes.count) token types for \(tokens.count) tokens")
            }
            if let bad = tokenTypes.firstIndex(where: { TokenType(rawValue: $0) == nil }) {
                throw reject("tokenizer.ggml.token_type", "token \(bad) has type \(tokenTypes[bad]), not one of 1…6")
            }
        }
        switch model {
        case "gpt2":
            let kind = try PreTokenizerKind(ggufPre: pre, file: file)
            // transformers and llama.cpp add BOS for a gpt2-type tokenizer only when the file asks.
            return try BPETokenizer(tokens: tokens, merges: merges ?? [], tokenTypes: tokenTypes, preTokenizer: kind,
                                    bosTokenId: bosTokenId, eosTokenId: eosTokenId, addBosToken: addBosToken ?? false, source: file)
        case "llama":
            return try makeSentencePiece(tokens: tokens, file: file, reject: reject)
        case let other:
            throw reject("tokenizer.ggml.model", "'\(other ?? "(missing)")' is not a tokenizer Lazarus reads (known: \(Self.knownModels.joined(separator: ", ")))")
        }
    }

    private func makeSentencePiece(tokens: [String], file: String, reject: (String, String) -> TokenizerError) throws -> SentencePieceTokenizer {
        guard let architecture else { throw reject("general.architecture", "missing: it decides the SentencePiece rules (Gemma's or Llama 2's)") }
        let gemma = Self.gemmaArchitectures.contains(architecture)
        if architecture == "phi3" {
            throw reject("general.architecture", "'phi3' SentencePiece rules (a Prepend normalizer) are not implemented")
        }
        // llama.cpp writes `default` for a SentencePiece vocabulary, which has no split rule.
        if let pre, pre != "default" {
            throw reject("tokenizer.ggml.pre", "'\(pre)' means nothing for a SentencePiece vocabulary (expected 'default' or no key)")
        }
        // Gemma prepends no "▁"; transformers' Llama rules always prepend one to the text's start,
        // whatever the file says, so a file saying otherwise has no reference to match.
        if gemma && addSpacePrefix == true {
            throw reject("tokenizer.ggml.add_space_prefix", "true is not Gemma's rule (its tokenizer prepends no '▁')")
        }
        if !gemma && addSpacePrefix == false {
            throw reject("tokenizer.ggml.add_space_prefix", "false for '\(architecture)': transformers prepends '▁' regardless, so there is no reference for it")
        }
        guard let scores else { throw reject("tokenizer.ggml.scores", "missing: a SentencePiece vocabulary carries a score per token") }
        guard scores.count == tokens.count else {
            throw reject("tokenizer.ggml.scores", "\(scores.count) scores for \(tokens.count) tokens")
        }
        if let bad = scores.firstIndex(where: { !$0.isFinite }) { throw reject("tokenizer.ggml.scores", "score \(bad) is \(scores[bad])") }
        guard let tokenTypes else { throw reject("tokenizer.ggml.token_type", "missing: needed to find the control and byte tokens") }
        for (id, type) in tokenTypes.enumerated() where type == TokenType.byte.rawValue {
            guard tokens[id].count == 6, tokens[id].hasPrefix("<0x"), tokens[id].hasSuffix(">"), UInt8(tokens[id].dropFirst(3).dropLast(), radix: 16) != nil else {
                throw reject("tokenizer.ggml.tokens", "token \(id) \(tokens[id].debugDescription) is typed as a byte but is not <0xNN>")
            }
        }

        // transformers stores Gemma's tokens of several spaces ("  ") as "▁▁", which is how
        // text reaches them once spaces are "▁"; its test is Python's: a space in it and
        // nothing but white space.
        let vocabulary = !gemma ? tokens : tokens.map { token -> String in
            guard token.unicodeScalars.contains(" "), token.unicodeScalars.allSatisfy(\.properties.isWhitespace) else { return token }
            return String(repeating: "\u{2581}", count: token.unicodeScalars.count)
        }
        let present = Set(vocabulary.map(ExactString.init))
        // Recognised in text, as transformers adds them: control tokens as special tokens, user-
        // defined ones as plain added tokens when their text is still in the vocabulary (not the
        // respelled space runs), and the BOS/EOS/unknown/padding tokens.
        var special: [String] = []
        for (id, type) in tokenTypes.enumerated() where !tokens[id].isEmpty {
            if type == TokenType.control.rawValue || (type == TokenType.userDefined.rawValue && present.contains(ExactString(tokens[id]))) {
                special.append(tokens[id])
            }
        }
        for (key, id) in [("tokenizer.ggml.bos_token_id", bosTokenId), ("tokenizer.ggml.eos_token_id", eosTokenId),
                          ("tokenizer.ggml.unknown_token_id", unknownTokenId), ("tokenizer.ggml.padding_token_id", paddingTokenId)] {
            guard let id else { continue }
            guard tokens.indices.contains(id) else { throw reject(key, "id \(id) is outside the vocabulary of \(tokens.count) tokens") }
            if !vocabulary[id].isEmpty { special.append(vocabulary[id]) }
        }
        // A SentencePiece GGUF without its merges: transformers rebuilds them from the order
        // of the vocabulary (SentencePieceMerges.vocabularyOrder). llama.cpp, which ranks by
        // score, agrees on the fixtures' corpus; tools/tokenizer_reference.py measures it.
        // Gemma's scores do not follow its merge order, Llama 2's do (transformers ranks by each).
        var order = gemma ? SentencePieceMerges.vocabularyOrder : .scoreOrder(scores)
        if let merges {
            var pairs: [MergePair] = []
            pairs.reserveCapacity(merges.count)
            for (index, merge) in merges.enumerated() {
                guard let pair = MergePair(spaceSeparated: merge) else {
                    throw reject("tokenizer.ggml.merges[\(index)]", "\(merge.debugDescription) is not two tokens separated by one space")
                }
                pairs.append(pair)
            }
            order = .listed(pairs)
        }
        // Llama 2's rules (transformers' LlamaTokenizer): Metaspace with a "▁" before the text's
        // start, no split, and a BPE with no unknown token (byte fallback covers every scalar).
        return try SentencePieceTokenizer(
            tokens: vocabulary, merges: order, specialTokens: special,
            spaceHandling: gemma ? .gemma : SpaceHandling(prefix: .first, splitsAtSpaces: false), byteFallback: true,
            unknownTokenId: gemma ? unknownTokenId : nil, fuseUnknown: true, bosTokenId: bosTokenId, eosTokenId: eosTokenId,
            // transformers and llama.cpp add BOS to a SentencePiece vocabulary that does not say otherwise.
            addBosToken: addBosToken ?? true, source: file, tokensField: "tokenizer.ggml.tokens", mergesField: "tokenizer.ggml.merges")
    }
}
