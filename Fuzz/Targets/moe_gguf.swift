// libFuzzer entry: bytes as the GGUF file of a mixture-of-experts model. Its expert and YaRN metadata are
// read with every number checked (or rejected with a ModelFileError), and every expert tensor (ffn_*_exps,
// MXFP4 or another type) and every MXFP4 tensor dequantises to exactly its element count, or is refused,
// without a crash; each MXFP4 tensor's bytes, read as transformers' checkpoint layout (16-byte code groups, then
// one scale byte each), repack into ggml blocks (MXFP4Blocks.ggmlBlocks, what native experts hold) that decode to
// exactly what that layout decodes to, or both refuse. Seeds: tiny gpt-oss (MXFP4 experts, YaRN) and llama-with-experts files from tools/make_tiny_moe.py.
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
        guard tensor.type == .mxfp4, tensor.byteCount % 17 == 0, tensor.byteCount > 0 else { continue }
        let bytes = file.rawBytes(of: tensor), groups = tensor.byteCount / 17
        let codes = bytes.prefix(groups * 16), scales = bytes.suffix(groups)
        let decoded = try? MXFP4Blocks.decodeTransformersLayout(blocks: Data(codes), scales: Data(scales), rows: groups, groups: 1, file: "f", tensor: tensor.name)
        let repacked = try? MXFP4Blocks.ggmlBlocks(fromTransformersLayout: Data(codes), scales: Data(scales), allRows: groups, groups: 1,
                                                   rows: Array(0..<groups), file: "f", tensor: tensor.name)
        precondition((decoded == nil) == (repacked == nil))
        if let decoded, let repacked {
            precondition(repacked.count == groups * 17)
            var values = [Float](repeating: 0, count: groups * 32)
            let ok: Bool = repacked.withUnsafeBytes { raw in
                values.withUnsafeMutableBufferPointer { out in (try? Dequantize.decode(.mxfp4, blocks: raw, into: out)) != nil }
            }
            precondition(ok && values.map(\.bitPattern) == decoded.map(\.bitPattern))
        }
    }
    return 0
}
