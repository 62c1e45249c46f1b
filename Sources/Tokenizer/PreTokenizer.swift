// The pre-tokenizers: how text between special tokens is cut into pieces before BPE sees them.
// Hand-written scanners that reproduce the regexes of Hugging Face `tokenizers` match for match;
// not a regex engine, and not the BPE (BytePairModel.swift).

/// The split rules of the byte-level BPE families Lazarus reads.
public enum PreTokenizerKind: String, Sendable, CaseIterable {
    /// GPT-2's byte-level pattern alone:
    /// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
    case gpt2
    /// SmolLM2's: every number scalar split off on its own (the Digits pre-tokenizer with
    /// `individual_digits`), then the GPT-2 pattern on each remaining stretch.
    case smollm
    /// Llama 3's pattern: `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
    /// ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`.
    case llama3
    /// Qwen2's (and Qwen3's): Llama 3's pattern with every number scalar on its own (`\p{N}`
    /// in place of `\p{N}{1,3}`), as Qwen2's tokenizer.json and llama.cpp's `qwen2` write it.
    case qwen2
    /// o200k's (GPT-4o's, GPT-OSS's): `[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|…)?|
    /// [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|…)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|
    /// \s*[\r\n]+|\s+(?!\S)|\s+`: words split before capitals, contractions kept on the word.
    case gpt4o

    /// The `tokenizer.ggml.pre` names llama.cpp gives each kind (the first is the canonical one).
    public static let ggufNames: [(name: String, kind: PreTokenizerKind)] = [
        ("gpt2", .gpt2), ("smollm", .smollm), ("llama-bpe", .llama3), ("llama3", .llama3), ("llama-v3", .llama3),
        ("qwen2", .qwen2), ("deepseek-r1-qwen", .qwen2), ("gpt-4o", .gpt4o),
    ]

    /// The kind named by GGUF's `tokenizer.ggml.pre`.
    ///
    /// `smollm` is SmolLM2's; `llama-bpe`, `llama3` and `llama-v3` are llama.cpp's names for the
    /// Llama 3 pattern; `qwen2` and `deepseek-r1-qwen` for Qwen2's. Any other name, and an absent
    /// key, is an error: llama.cpp's `default` is not GPT-2's pattern, and a model of another
    /// family split by a pattern it was not trained with would give wrong ids without a word.
    public init(ggufPre: String?, file: String) throws {
        let known = Self.ggufNames.map(\.name).joined(separator: ", ")
        guard let ggufPre else {
            throw TokenizerError(file: file, field: "tokenizer.ggml.pre", reason: "missing; a byte-level BPE needs its split rule (known: \(known))")
        }
        guard let kind = Self.ggufNames.first(where: { $0.name == ggufPre })?.kind else {
            throw TokenizerError(file: file, field: "tokenizer.ggml.pre", reason: "'\(ggufPre)' is not a pre-tokenizer Lazarus implements (known: \(known))")
        }
        self = kind
    }
}

/// Text prepared for scanning: its scalars, their classes, and where each starts in the UTF-8.
struct ScannedText {
    var scalars: [Unicode.Scalar] = []
    var classes: [ScalarClass] = []
    /// `utf8Offsets[k]` is the byte offset of scalar k; one extra entry holds the total length.
    var utf8Offsets: [Int] = []

    init<Scalars: Sequence>(_ text: Scalars) where Scalars.Element == Unicode.Scalar {
        var offset = 0
        for scalar in text {
            scalars.append(scalar)
            classes.append(ScalarClass.inRegex(scalar))
            utf8Offsets.append(offset)
            offset += UTF8.width(scalar)
        }
        utf8Offsets.append(offset)
    }

    var count: Int { scalars.count }
}

/// Splits text that holds no special tokens into the pieces BPE encodes one by one.
struct PreTokenizer {
    let kind: PreTokenizerKind

    /// Calls `piece` with each piece, as a range of scalar indices, in order; the pieces cover
    /// the text exactly.
    func split(_ text: ScannedText, piece: (Range<Int>) -> Void) {
        switch kind {
        case .gpt2:
            scan(text, 0..<text.count, matcher: gpt2PieceEnd, piece: piece)
        case .llama3:
            scan(text, 0..<text.count, matcher: { llama3PieceEnd($0, $1, $2, digitRun: 3) }, piece: piece)
        case .qwen2:
            scan(text, 0..<text.count, matcher: { llama3PieceEnd($0, $1, $2, digitRun: 1) }, piece: piece)
        case .gpt4o:
            scan(text, 0..<text.count, matcher: o200kPieceEnd, piece: piece)
        case .smollm:
            var start = 0
            for index in 0..<text.count where ScalarClass.isSplitDigit(text.scalars[index]) {
                // The GPT-2 pattern runs on each stretch between digits as on a whole string:
                // `\s+(?!\S)` sees the stretch's end as the end of the text ("a  12" keeps
                // both spaces in one piece).
                if start < index { scan(text, start..<index, matcher: gpt2PieceEnd, piece: piece) }
                piece(index..<(index + 1))
                start = index + 1
            }
            if start < text.count { scan(text, start..<text.count, matcher: gpt2PieceEnd, piece: piece) }
        }
    }

    private typealias Matcher = (ScannedText, Int, Int) -> Int

    private func scan(_ text: ScannedText, _ range: Range<Int>, matcher: Matcher, piece: (Range<Int>) -> Void) {
        var start = range.lowerBound
        while start < range.upperBound {
            let end = matcher(text, start, range.upperBound)
            piece(start..<end)
            start = end
        }
    }
}

// MARK: - The patterns, one alternative at a time

private let apostrophe: Unicode.Scalar = "'"
private let space: Unicode.Scalar = " "

@inline(__always)
private func isLineBreak(_ scalar: Unicode.Scalar) -> Bool { scalar == "\n" || scalar == "\r" }

/// End of the run of scalars of class `kind` that starts at `start`.
@inline(__always)
private func runEnd(_ text: ScannedText, from start: Int, limit: Int, of kind: ScalarClass) -> Int {
    var index = start
    while index < limit && text.classes[index] == kind { index += 1 }
    return index
}

/// `'s|'t|'re|'ve|'m|'ll|'d` at `start`, case-sensitive (GPT-2) or not (Llama 3's `(?i:…)`).
/// Under Unicode case folding the only letter beyond ASCII that folds onto one of these is
/// `ſ` (U+017F, long s, folding to `s`); the reference fixtures contain it.
private func contractionEnd(_ text: ScannedText, _ start: Int, _ limit: Int, ignoringCase: Bool) -> Int? {
    guard text.scalars[start] == apostrophe, start + 1 < limit else { return nil }
    func letter(_ offset: Int) -> Unicode.Scalar? {
        guard start + offset < limit else { return nil }
        let scalar = text.scalars[start + offset]
        guard ignoringCase else { return scalar }
        if scalar == "\u{17F}" { return "s" }
        if scalar.value >= 65 && scalar.value <= 90 { return Unicode.Scalar(scalar.value + 32) }
        return scalar
    }
    switch letter(1) {
    case "s", "t", "m", "d": return start + 2
    case "r": return letter(2) == "e" ? start + 3 : nil
    case "v": return letter(2) == "e" ? start + 3 : nil
    case "l": return letter(2) == "l" ? start + 3 : nil
    default: return nil
    }
}

/// `\s+(?!\S)|\s+` at `start`, where the scalar at `start` is white space: the whole run if it
/// ends the text; otherwise the run less its last scalar (which the next piece takes as its
/// leading space), unless the run is a single scalar.
@inline(__always)
private func whitespaceEnd(_ text: ScannedText, _ start: Int, _ limit: Int) -> Int {
    let end = runEnd(text, from: start, limit: limit, of: .whitespace)
    if end == limit || end - start == 1 { return end }
    return end - 1
}

/// One GPT-2 match starting at `start`; returns its end (always past `start`).
private func gpt2PieceEnd(_ text: ScannedText, _ start: Int, _ limit: Int) -> Int {
    if let end = contractionEnd(text, start, limit, ignoringCase: false) { return end }
    let kind = text.classes[start]
    // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: one optional ASCII space, then a run of one class.
    if text.scalars[start] == space && start + 1 < limit && text.classes[start + 1] != .whitespace {
        return runEnd(text, from: start + 1, limit: limit, of: text.classes[start + 1])
    }
    if kind != .whitespace { return runEnd(text, from: start, limit: limit, of: kind) }
    return whitespaceEnd(text, start, limit)
}

/// One Llama 3 match starting at `start` (Qwen2's with `digitRun` 1); returns its end (always past `start`).
private func llama3PieceEnd(_ text: ScannedText, _ start: Int, _ limit: Int, digitRun: Int) -> Int {
    if let end = contractionEnd(text, start, limit, ignoringCase: true) { return end }
    let scalar = text.scalars[start]
    let kind = text.classes[start]
    // `[^\r\n\p{L}\p{N}]?\p{L}+`: letters, optionally led by one scalar that is neither a line
    // break, a letter nor a number (a space, a tab, punctuation…).
    if kind == .letter { return runEnd(text, from: start, limit: limit, of: .letter) }
    if kind != .number && !isLineBreak(scalar) && start + 1 < limit && text.classes[start + 1] == .letter {
        return runEnd(text, from: start + 1, limit: limit, of: .letter)
    }
    // `\p{N}{1,3}` (Llama 3), `\p{N}` (Qwen2)
    if kind == .number { return min(runEnd(text, from: start, limit: limit, of: .number), start + digitRun) }
    return punctuationOrWhitespaceEnd(text, start, limit, trailing: isLineBreak)
}

/// The last four alternatives Llama 3's and o200k's patterns share, at `start` (neither a letter nor a number):
/// ` ?[^\s\p{L}\p{N}]+[trailing]*`, `\s*[\r\n]+`, `\s+(?!\S)`, `\s+`. `trailing` is [\r\n] (Llama 3) or
/// [\r\n/] (o200k).
private func punctuationOrWhitespaceEnd(_ text: ScannedText, _ start: Int, _ limit: Int, trailing: (Unicode.Scalar) -> Bool) -> Int {
    var otherStart: Int?
    if text.classes[start] == .other {
        otherStart = start
    } else if text.scalars[start] == space && start + 1 < limit && text.classes[start + 1] == .other {
        otherStart = start + 1
    }
    if let otherStart {
        var end = runEnd(text, from: otherStart, limit: limit, of: .other)
        while end < limit && trailing(text.scalars[end]) { end += 1 }
        return end
    }
    // `\s*[\r\n]+`: white space up to and including the last line break of the run; the regex
    // engine reaches it by backtracking the greedy `\s*`.
    let whiteEnd = runEnd(text, from: start, limit: limit, of: .whitespace)
    var lastBreak = whiteEnd - 1
    while lastBreak >= start && !isLineBreak(text.scalars[lastBreak]) { lastBreak -= 1 }
    if lastBreak >= start { return lastBreak + 1 }
    // `\s+(?!\S)|\s+`
    return whitespaceEnd(text, start, limit)
}

/// One o200k match starting at `start`; returns its end (always past `start`). The two word alternatives
/// are tried with their optional leading scalar first, then without, as the regex engine backtracks.
private func o200kPieceEnd(_ text: ScannedText, _ start: Int, _ limit: Int) -> Int {
    func sets(_ i: Int) -> (upper: Bool, lower: Bool) { ScalarClass.o200kLetterSets(text.scalars[i]) }
    func upperRun(_ from: Int) -> Int {
        var i = from
        while i < limit && sets(i).upper { i += 1 }
        return i
    }
    func lowerRun(_ from: Int) -> Int {
        var i = from
        while i < limit && sets(i).lower { i += 1 }
        return i
    }
    func withContraction(_ end: Int) -> Int {
        guard end < limit, let c = contractionEnd(text, end, limit, ignoringCase: true) else { return end }
        return c
    }
    // `upper* lower+`: the greedy upper run gives back scalars until a lower one can follow.
    func upperStarLowerPlus(_ from: Int) -> Int? {
        var j = upperRun(from)
        while j >= from {
            if j < limit && sets(j).lower { return lowerRun(j) }
            j -= 1
        }
        return nil
    }
    // `upper+ lower*`
    func upperPlusLowerStar(_ from: Int) -> Int? {
        let a = upperRun(from)
        return a > from ? lowerRun(a) : nil
    }
    let scalar = text.scalars[start]
    let kind = text.classes[start]
    let canLead = kind != .letter && kind != .number && !isLineBreak(scalar)
    for word in [upperStarLowerPlus, upperPlusLowerStar] {
        if canLead && start + 1 < limit, let end = word(start + 1) { return withContraction(end) }
        if let end = word(start) { return withContraction(end) }
    }
    // `\p{N}{1,3}`
    if kind == .number { return min(runEnd(text, from: start, limit: limit, of: .number), start + 3) }
    return punctuationOrWhitespaceEnd(text, start, limit) { isLineBreak($0) || $0 == "/" }
}
