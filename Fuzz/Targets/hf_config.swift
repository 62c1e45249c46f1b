// libFuzzer entry: arbitrary bytes as a config.json decode into a consistent HFModelConfig or are
// rejected with a ModelFileError.
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHFConfig(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let config = try? HFModelConfig.decode(Data(bytes: data, count: size), name: "config.json") else { return 0 }
    precondition(config.hiddenSize > 0 && config.numAttentionHeads % config.numKeyValueHeads == 0)
    precondition(config.resolvedHeadDim >= 0)
    return 0
}
