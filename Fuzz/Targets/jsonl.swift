// libFuzzer entry: arbitrary bytes as a labelled-prompt JSONL file load or are rejected with an error.
import Foundation

private let file = FileManager.default.temporaryDirectory.appendingPathComponent("lazarus-fuzz-\(getpid()).jsonl")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSONL(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    try? Data(bytes: data, count: size).write(to: file)
    if let records = try? LabelledPrompts.load(file, labelField: "task") {
        precondition(records.prompts.count == records.labels.count)
    }
    return 0
}
