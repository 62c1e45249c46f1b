// libFuzzer entry: arbitrary bytes as a .safetensors file parse or are rejected with a ModelFileError;
// every float tensor of a parsed file converts without a crash.
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafetensors(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let file = try? SafetensorsFile(data: Data(bytes: data, count: size), name: "fuzz.safetensors") else { return 0 }
    for name in file.tensorNames {
        precondition(file.shape(of: name) != nil && file.dtype(of: name) != nil)
        if let values = try? file.floatTensor(named: name) {
            precondition(values.count == file.shape(of: name)!.reduce(1, *))
        }
    }
    return 0
}
