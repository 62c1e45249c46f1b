// Every block type decoded from the raw bytes in quant_blocks.json (tools/make_quant_reference.py) against
// gguf-py's `gguf.quants.dequantize`, bit for bit; and the default model's own first blocks read from its file.
// Not the formula tests (DequantizeTests.swift), which pack hand-chosen values.
import Foundation
import ModelFiles
import Testing

struct GGUFPyQuantReference: Decodable {
    struct Case: Decodable {
        var type: String
        var ggml_type: UInt32
        var source: String
        var block_values: Int
        var block_bytes: Int
        var blocks: Int
        var bytes_base64: String
        var values: [Double?]
        var value_bits: [UInt32]
    }
    var generator: String
    var gguf_version: String
    var cases: [Case]

    static func load() throws -> GGUFPyQuantReference {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/quant_blocks.json", withExtension: nil))
        return try JSONDecoder().decode(GGUFPyQuantReference.self, from: Data(contentsOf: url))
    }
}

/// Units in the last place between two floats of the same sign (any two finite floats, through the
/// sign-magnitude ordering of their bit patterns); infinities count only when equal.
func ulpDistance(_ a: Float, _ b: Float) -> UInt32 {
    func ordered(_ x: Float) -> Int64 {
        let bits = Int64(x.bitPattern & 0x7FFF_FFFF)
        return x.sign == .minus ? -bits : bits
    }
    if a.isNaN || b.isNaN { return a.isNaN && b.isNaN ? 0 : .max }
    if a.isInfinite || b.isInfinite { return a == b ? 0 : .max }
    return UInt32(clamping: abs(ordered(a) - ordered(b)))
}

/// The default model's file, found as `ModelLoader.resolve("default")` finds it (ModelFiles cannot use Llama).
func defaultModelFile() -> URL? {
    let name = "SmolLM2-135M-Instruct.Q4_1.gguf"
    var candidates: [URL] = []
    if let env = ProcessInfo.processInfo.environment["LAZARUS_DEFAULT_MODEL"], !env.isEmpty {
        candidates.append(URL(fileURLWithPath: env))
    }
    candidates.append(URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("models/\(name)"))
    return candidates.first { FileManager.default.fileExists(atPath: $0.path) }
}

@Suite struct GGUFPyReferenceTests {
    @Test func everyTypeDecodesAsGGUFPyDoes() throws {
        let ref = try GGUFPyQuantReference.load()
        #expect(Set(ref.cases.map(\.type)).isSuperset(of: ["Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q4_K", "Q5_K", "Q6_K", "F16", "BF16"]))
        var worstUlps: [String: UInt32] = [:]
        for c in ref.cases {
            let type = try #require(GGMLType(rawValue: c.ggml_type), "\(c.type)")
            #expect(type.name == c.type)
            // The block geometry Lazarus writes down as data is gguf-py's.
            #expect(type.valuesPerBlock == c.block_values && type.bytesPerBlock == c.block_bytes, "\(c.type) geometry")
            let bytes = try #require(Data(base64Encoded: c.bytes_base64))
            #expect(bytes.count == c.blocks * c.block_bytes)
            let out = try decoded(type, [UInt8](bytes))
            #expect(out.count == c.value_bits.count, "\(c.type) value count")
            var worst: UInt32 = 0
            for (i, (got, bits)) in zip(out, c.value_bits).enumerated() {
                let expected = Float(bitPattern: bits)
                // The JSON's decimal value and its bit pattern are one number (null where not finite).
                if let v = c.values[i] { #expect(Float(v) == expected, "\(c.type)[\(i)] fixture self-check") } else { #expect(!expected.isFinite) }
                let ulps = ulpDistance(got, expected)
                worst = max(worst, ulps)
                #expect(ulps <= 1, "\(c.type)[\(i)] (\(c.source)): \(got) vs gguf-py \(expected)")
            }
            worstUlps[c.type, default: 0] = max(worstUlps[c.type, default: 0], worst)
        }
        print("gguf-py dequantisation, largest difference in ulps by type: \(worstUlps.sorted { $0.key < $1.key })")
    }

    @Test func realBlocksAreCoveredAndReadBackFromTheModelFile() throws {
        let ref = try GGUFPyQuantReference.load()
        let real = ref.cases.filter { $0.source.contains("default model") }
        #expect(Set(real.map(\.type)) == ["Q4_1", "Q8_0"], "the fixture holds the default model's Q4_1 and Q8_0 blocks")
        guard let url = defaultModelFile() else {
            Issue.record("the default model is not installed (set LAZARUS_DEFAULT_MODEL or run scripts/bootstrap.sh)")
            return
        }
        let file = try GGUFFile(contentsOf: url)
        for c in real {
            // "first two blocks of NAME in the default model"
            let name = try #require(c.source.split(separator: " ").first { $0.hasSuffix(".weight") }.map(String.init))
            let info = try #require(file.tensor(named: name))
            #expect(info.type.name == c.type)
            let raw = file.rawBytes(of: info)
            #expect([UInt8](raw.prefix(c.blocks * c.block_bytes)) == [UInt8](try #require(Data(base64Encoded: c.bytes_base64))), "\(name) bytes")
            // The whole tensor through the loader's (two-thread) path starts with gguf-py's values.
            let values = try file.dequantizedTensor(info)
            for (i, bits) in c.value_bits.enumerated() {
                #expect(ulpDistance(values[i], Float(bitPattern: bits)) <= 1, "\(name)[\(i)]")
            }
        }
    }
}
