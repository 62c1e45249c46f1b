// The SentencePiece-style shapes of tokenizer.json that Lazarus reproduces exactly, read into a
// SentencePieceTokenizer: a BPE model (byte fallback, unknown token) after either a Metaspace
// pre-tokenizer or a normalizer that writes spaces as "▁" (Gemma's `Replace(" ", "▁")`, Llama 2's
// `Prepend("▁")` + `Replace`). Every other shape is rejected by name. Byte-level files are
// TokenizerJSON.swift's.

import Foundation

extension TokenizerJSONFile {
    /// A Metaspace pre-tokenizer, or a normalizer that turns spaces into "▁".
    var isSentencePieceStyle: Bool {
        if pre_tokenizer?.typeName == "Metaspace" { return true }
        guard let normalizer else { return false }
        let stages = normalizer.typeName == "Sequence" ? (normalizer["normalizers"]?.array ?? []) : [normalizer]
        return stages.contains { $0.isSpaceToMetaspace }
    }

    func makeSentencePieceTokenizer(name: String, config: TokenizerConfigFile?) throws -> SentencePieceTokenizer {
        func reject(_ field: String, _ reason: String) -> TokenizerError {
            TokenizerError(file: name, field: field, reason: reason)
        }
        if let type = model.type, type != "BPE" { throw reject("model.type", "\(type) models are not supported, only BPE") }
        if let dropout = model.dropout, dropout != 0 { throw reject("model.dropout", "BPE dropout \(dropout) is not supported") }
        if let prefix = model.continuing_subword_prefix, !prefix.isEmpty { throw reject("model.continuing_subword_prefix", "subword prefixes are not supported") }
        if let suffix = model.end_of_word_suffix, !suffix.isEmpty { throw reject("model.end_of_word_suffix", "word suffixes are not supported") }

        let spaces = try spaceHandling(reject: reject)
        let decodesBytes = try checkDecoder(decoder ?? .null, reject: reject)
        let vocabulary = try vocabularyByID(reject: reject)
        let added = added_tokens ?? []
        for (index, token) in added.enumerated() where token.normalized == true {
            // Such a token is matched in the normalized text; it matches the same places as in the
            // raw text only when normalizing cannot touch it and prepends nothing.
            if token.content.unicodeScalars.contains(" ") || token.content.unicodeScalars.contains("\u{2581}") || spaces.prefix == .unconditionally {
                throw reject("added_tokens[\(index)]", "\(token.content.debugDescription) is matched after normalization, which Lazarus does not reproduce")
            }
        }
        var unknown: Int?
        if let text = model.unk_token {
            guard let id = model.vocab[text] ?? added.last(where: { $0.content == text })?.id else {
                throw reject("model.unk_token", "\(text.debugDescription) is not in the vocabulary")
            }
            unknown = id
        }
        let templateBos = try bosFromPostProcessor(post_processor ?? .null, reject: reject)
        let (bos, eos) = try bosAndEos(name: name, config: config, templateBos: templateBos)
        return try SentencePieceTokenizer(
            tokens: vocabulary, merges: .listed(model.merges.map { MergePair(left: $0.left, right: $0.right) }), specialTokens: added.map(\.content),
            spaceHandling: spaces, byteFallback: model.byte_fallback ?? false, unknownTokenId: unknown,
            fuseUnknown: model.fuse_unk ?? false, ignoreMerges: model.ignore_merges ?? false,
            bosTokenId: bos, eosTokenId: eos, addBosToken: templateBos != nil, decodesByteTokens: decodesBytes, source: name,
            tokensField: "model.vocab", mergesField: "model.merges")
    }

    /// The normalizer and pre-tokenizer together, as one of the shapes with a known meaning.
    private func spaceHandling(reject: (String, String) -> TokenizerError) throws -> SpaceHandling {
        var normalizerStages = [JSONValue]()
        if let normalizer, normalizer != .null {
            normalizerStages = normalizer.typeName == "Sequence" ? (normalizer["normalizers"]?.array ?? []) : [normalizer]
        }
        let preTokenizer = pre_tokenizer ?? .null
        switch normalizerStages.count {
        case 0:
            // Metaspace alone does the replacing, the prefix and the split.
            guard preTokenizer.typeName == "Metaspace" else { throw reject("pre_tokenizer", "expected Metaspace when there is no normalizer") }
            guard preTokenizer["replacement"]?.string == "\u{2581}" else {
                throw reject("pre_tokenizer.replacement", "only \"▁\" is supported")
            }
            let prefix: SpaceHandling.Prefix
            switch preTokenizer["prepend_scheme"]?.string ?? (preTokenizer["add_prefix_space"]?.bool == false ? "never" : "always") {
            case "always": prefix = .always
            case "first": prefix = .first
            case "never": prefix = .never
            case let other: throw reject("pre_tokenizer.prepend_scheme", "'\(other)' is not always, first or never")
            }
            return SpaceHandling(prefix: prefix, splitsAtSpaces: preTokenizer["split"]?.bool ?? true)
        case 1 where normalizerStages[0].isSpaceToMetaspace,
             2 where normalizerStages[0].isPrependMetaspace && normalizerStages[1].isSpaceToMetaspace:
            // After the normalizer no space is left, so splitting at spaces is a no-op (Gemma's
            // `Split(" ", merged_with_previous)`); anything else would be a real split.
            let noOpSplit = preTokenizer.typeName == "Split" && preTokenizer["pattern"]?["String"]?.string == " "
                && preTokenizer["invert"]?.bool != true
            guard preTokenizer == .null || noOpSplit else {
                throw reject("pre_tokenizer", "\(preTokenizer.typeName) after a normalizer writing spaces as \"▁\" is not supported (expected null or Split on \" \")")
            }
            return SpaceHandling(prefix: normalizerStages.count == 2 ? .unconditionally : .never, splitsAtSpaces: false)
        default:
            let found = normalizerStages.map(\.typeName).joined(separator: ", ")
            throw reject("normalizer", "unsupported normalizer [\(found)]: expected Replace(\" \", \"▁\"), optionally after Prepend(\"▁\")")
        }
    }

    /// The decoders whose output SentencePieceTokenizer.decode gives; true when one of them is
    /// ByteFallback (byte tokens decode to their bytes, not their text).
    private func checkDecoder(_ value: JSONValue, reject: (String, String) -> TokenizerError) throws -> Bool {
        let stages = value.typeName == "Sequence" ? (value["decoders"]?.array ?? []) : [value]
        for stage in stages {
            switch stage.typeName {
            case "null", "Metaspace", "ByteFallback", "Fuse", "Strip":
                continue
            case "Replace" where stage["pattern"]?["String"]?.string == "\u{2581}" && stage["content"]?.string == " ":
                continue
            default:
                throw reject("decoder", "unsupported decoder stage \(stage.typeName)")
            }
        }
        return stages.contains { $0.typeName == "ByteFallback" }
    }
}

private extension JSONValue {
    /// `Replace(" ", "▁")`.
    var isSpaceToMetaspace: Bool {
        typeName == "Replace" && self["pattern"]?["String"]?.string == " " && self["content"]?.string == "\u{2581}"
    }

    /// `Prepend("▁")`.
    var isPrependMetaspace: Bool {
        typeName == "Prepend" && self["prepend"]?.string == "\u{2581}"
    }
}
