// libFuzzer entry: arbitrary UTF-8 text through a small byte-level tokenizer (every byte is a token, plus a
// few merges and a special token) must decode back to exactly the same bytes, under every pre-tokenizer.
import Foundation

private let tokenizers: [BPETokenizer] = {
    let alphabet = (0..<256).map { byteLevelSymbol(UInt8($0)) }
    let merges = ["1 2", "Ġ a", "a d", "ad d", "Ġ 1"]
    let extra = ["12", "Ġa", "ad", "add", "Ġ1", "<|special|>"]
    return PreTokenizerKind.allCases.map { kind in
        try! BPETokenizer(tokens: alphabet + extra, merges: merges, tokenTypes: nil, preTokenizer: kind, bosTokenId: nil,
                          eosTokenId: nil, addBosToken: false, specialTokens: ["<|special|>"], source: "fuzz")
    }
}()

/// GPT-2's byte-to-symbol table, written out here so the fuzz target does not lean on the code under test.
private func byteLevelSymbol(_ b: UInt8) -> String {
    let printable = (33...126).contains(b) || (161...172).contains(b) || (174...255).contains(b)
    if printable { return String(UnicodeScalar(b)) }
    var n = 0
    for c in 0..<Int(b) where !((33...126).contains(c) || (161...172).contains(c) || (174...255).contains(c)) { n += 1 }
    return String(UnicodeScalar(UInt32(256 + n))!)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTokenizerRoundTrip(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let text = String(validating: bytes, as: UTF8.self) else { return 0 }
    for t in tokenizers {
        let ids = t.encode(text)
        if t.decodeBytes(ids) != bytes { fatalError("round trip failed under \(t.preTokenizerKind) for \(bytes)") }
    }
    return 0
}
