// libFuzzer entry: arbitrary bytes as a tokenizer.json must load (byte-level, or SentencePiece-style with
// its normalizer or Metaspace) or be rejected with a TokenizerError, and a tokenizer that loads must encode
// and decode a fixed text without crashing.
import Foundation

private let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("lazarus-fuzz-tokenizer-\(getpid())")
private let file = scratch.appendingPathComponent("tokenizer.json")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTokenizerJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    try? FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    try? Data(bytes: data, count: size).write(to: file)
    if let tokenizer = try? TokenizerJSON.load(file) {
        let ids = tokenizer.encode("7 * 8 = multiply: 56 <|im_start|>héllo  12 ▁x <s>  \u{10FFFF}")
        _ = tokenizer.decode(ids)
        _ = ids.map { tokenizer.piece($0) }
    }
    return 0
}
