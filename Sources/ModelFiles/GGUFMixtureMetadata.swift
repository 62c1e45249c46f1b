// What a GGUF file says about a mixture-of-experts model and its YaRN RoPE, as llama.cpp's converters
// write them (`{arch}.expert_count`, `expert_used_count`, `expert_feed_forward_length`;
// `rope.scaling.type` yarn with `factor`, `original_context_length`, `yarn_beta_fast`, `yarn_beta_slow`,
// `yarn_attn_factor`): every number checked here, before it sizes a tensor, and named when it is wrong.
import Foundation

public struct GGUFMixtureMetadata: Sendable, Equatable {
    public var expertCount: Int
    public var expertsPerToken: Int
    /// Each expert's inner width, when the file gives it apart from `feed_forward_length`.
    public var expertWidth: Int?

    /// nil when the file has no `{arch}.expert_count` (or it is 0: a dense model).
    public init?(_ file: GGUFFile, prefix p: String) throws {
        func fail(_ key: String, _ why: String) -> ModelFileError { ModelFileError(file: file.name, field: p + key, reason: why) }
        guard let raw = file.metadata[p + "expert_count"] else { return nil }
        guard let count = raw.intValue else { throw fail("expert_count", "must be a whole number") }
        if count == 0 { return nil }
        guard (1...65_536).contains(count) else { throw fail("expert_count", "is \(count), outside 1...65536; the file is corrupt") }
        guard let used = file.int(p + "expert_used_count") else {
            throw fail("expert_used_count", "is missing or not a whole number; a mixture-of-experts file gives how many experts each token uses")
        }
        guard (1...count).contains(used) else { throw fail("expert_used_count", "is \(used), outside 1...\(count) (the expert count)") }
        expertCount = count
        expertsPerToken = used
        if let raw = file.metadata[p + "expert_feed_forward_length"] {
            guard let width = raw.intValue, (1...(1 << 24)).contains(width) else {
                throw fail("expert_feed_forward_length", "must be a whole number in 1...16777216")
            }
            expertWidth = width
        }
    }
}

public struct GGUFYarnMetadata: Sendable, Equatable {
    public var factor: Double
    public var originalContextLength: Int
    public var betaFast: Double?
    public var betaSlow: Double?
    public var attentionFactor: Double?

    /// nil unless `{arch}.rope.scaling.type` is "yarn".
    public init?(_ file: GGUFFile, prefix p: String) throws {
        guard file.string(p + "rope.scaling.type") == "yarn" else { return nil }
        func fail(_ key: String, _ why: String) -> ModelFileError { ModelFileError(file: file.name, field: p + key, reason: why) }
        func positive(_ key: String, required: Bool) throws -> Double? {
            guard let raw = file.metadata[p + key] else {
                if required { throw fail(key, "is missing; YaRN scaling needs it (the file is incomplete)") }
                return nil
            }
            guard let v = raw.doubleValue, v > 0, v.isFinite, v < 1e9 else { throw fail(key, "must be a positive number below 1e9") }
            return v
        }
        factor = try positive("rope.scaling.factor", required: true)!
        guard let original = file.int(p + "rope.scaling.original_context_length"), (1...(1 << 30)).contains(original) else {
            throw fail("rope.scaling.original_context_length", "must be a whole number in 1...2^30 (the context YaRN extends)")
        }
        originalContextLength = original
        betaFast = try positive("rope.scaling.yarn_beta_fast", required: false)
        betaSlow = try positive("rope.scaling.yarn_beta_slow", required: false)
        attentionFactor = try positive("rope.scaling.yarn_attn_factor", required: false)
    }
}
