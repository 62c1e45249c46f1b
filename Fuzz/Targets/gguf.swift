// libFuzzer entry: arbitrary bytes as a GGUF file parse or are rejected with a ModelFileError;
// every tensor of a parsed file dequantises (or is refused by type) without a crash.
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGGUF(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let file = try? GGUFFile(data: Data(bytes: data, count: size), name: "fuzz.gguf") else { return 0 }
    for tensor in file.tensors {
        precondition(file.dataOffset + tensor.offset + tensor.byteCount <= size)
        if let values = try? file.dequantizedTensor(tensor) {
            precondition(values.count == tensor.elementCount)
        }
    }
    for key in file.metadataKeys {
        precondition(file.metadata[key] != nil)
        _ = file.metadata[key]?.stringArray
        _ = file.metadata[key]?.floatArray
    }
    return 0
}
