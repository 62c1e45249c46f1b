// exp over eight Floats at once, for the softmax and log-sum-exp of 49152-wide vocabulary rows, where a
// scalar libm call per entry dominated the logit lens. Not a general libm: inputs below −87.3 give 0
// (no subnormals), inputs are clamped at 88.3; relative error about 2e-7 against Foundation's exp.

public enum VectorExp {
    /// e^x = 2^n · e^r with n = round(x·log₂e) and |r| ≤ ln2/2; e^r by its Taylor series to r⁷
    /// (truncation error below 1e-8 there). ln2 is split in two (Cody–Waite) so r keeps its low bits.
    @inline(__always)
    public static func exp(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let lower: Float = -87.3, upper: Float = 88.3
        // Clamped by lane selects: SIMD8's clamped(lowerBound:upperBound:) compiles to out-of-line pointwise calls.
        let low = x.replacing(with: lower, where: x .< lower)
        let clamped = low.replacing(with: upper, where: low .> upper)
        // n = round(x·log₂e) to nearest-even by adding 1.5·2²³: the sum's ulp is 1, so the float adder rounds,
        // and the low bits of the sum's pattern are n itself. Plain float adds and integer lanes only — the
        // standard library's SIMD rounding and Float→Int32 conversion are generic per-lane calls here.
        let magic: Float = 12_582_912
        let shifted = clamped * 1.442_695_04 + magic
        let n = shifted - magic
        var r = clamped - n * 0.693_145_75
        r = r - n * 1.428_606_8e-6
        var p = SIMD8<Float>(repeating: 1.0 / 5040)
        p = p * r + 1.0 / 720
        p = p * r + 1.0 / 120
        p = p * r + 1.0 / 24
        p = p * r + 1.0 / 6
        p = p * r + 0.5
        p = p * r + 1
        p = p * r + 1
        let exponent = (unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000 &+ 127) &<< 23
        let scale = unsafeBitCast(exponent, to: SIMD8<Float>.self)
        return (p * scale).replacing(with: 0, where: x .< lower)
    }

    /// The scalar form of `exp(_:)` (tails of rows, and tests).
    @inline(__always)
    public static func exp(_ x: Float) -> Float { exp(SIMD8(repeating: x))[0] }
}
