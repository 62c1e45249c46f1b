// libFuzzer entry: bytes as the GGUF file of a mixture-of-experts model. Its expert and YaRN metadata are
// read with every number checked (or rejected with a ModelFileError), and every expert tensor (ffn_*_exps,
// MXFP4 or another type) and every MXFP4 tensor dequantises to exactly its element count, or is refused,
// without a crash. Seeds: tiny gpt-oss (MXFP4 experts, YaRN) and llama-with-experts files from tools/make_tiny_moe.py.
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMixtureGGUF(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let file = try? GGUFFile(data: Data(bytes: data, count: size), name: "fuzz.gguf") else { return 0 }
    let prefix = (file.string("general.architecture") ?? "") + "."
    if let mixture = try? GGUFMixtureMetadata(file, prefix: prefix) {
        precondition(mixture.expertCount >= 1 && mixture.expertCount <= 65_536)
        precondition(mixture.expertsPerToken >= 1 && mixture.expertsPerToken <= mixture.expertCount)
        precondition(mixture.expertWidth.map { $0 >= 1 } ?? true)
    }
    if let yarn = try? GGUFYarnMetadata(file, prefix: prefix) {
        precondition(yarn.factor > 0 && yarn.factor.isFinite && yarn.originalContextLength >= 1)
        precondition([yarn.betaFast, yarn.betaSlow, yarn.attentionFactor].allSatisfy { $0.map { $0 > 0 && $0.isFinite } ?? true })
    }
    for tensor in file.tensors where tensor.name.contains("_exps") || tensor.type == .mxfp4 {
        precondition(file.dataOffset + tensor.offset + tensor.byteCount <= size)
        if let values = try? file.dequantizedTensor(tensor) {
            precondition(values.count == tensor.elementCount)
        }
    }
    return 0
}
