// F16 and BF16 conversions: known bit patterns, ties to even, and every pattern's round trip.
import Testing
import ModelFiles

struct HalfFloatTests {
    @Test func knownHalfValues() {
        let cases: [(UInt16, Float)] = [
            (0x3C00, 1), (0xC000, -2), (0x3800, 0.5), (0x7BFF, 65504), (0x0001, 0x1p-24), (0x0400, 0x1p-14),
            (0x0000, 0), (0x3555, 0.333251953125),
        ]
        for (bits, value) in cases {
            #expect(HalfFloat.toFloat(bits) == value)
            #expect(HalfFloat.fromFloat(value) == bits)
        }
        #expect(HalfFloat.toFloat(0x8000).sign == .minus)
        #expect(HalfFloat.toFloat(0x7C00) == .infinity)
        #expect(HalfFloat.toFloat(0xFC00) == -.infinity)
        #expect(HalfFloat.toFloat(0x7E00).isNaN)
        #expect(HalfFloat.toFloat(HalfFloat.fromFloat(.nan)).isNaN)
    }

    @Test func halfRoundsToNearestEven() {
        #expect(HalfFloat.fromFloat(1 + 0x1p-11) == 0x3C00)       // halfway, even stays
        #expect(HalfFloat.fromFloat(1 + 3 * 0x1p-11) == 0x3C02)   // halfway, odd rounds up
        #expect(HalfFloat.fromFloat(1 + 0x1p-11 + 0x1p-20) == 0x3C01)
        #expect(HalfFloat.fromFloat(65520) == 0x7C00)             // halfway to 65536 → infinity
        #expect(HalfFloat.fromFloat(65519) == 0x7BFF)
        #expect(HalfFloat.fromFloat(0x1p-25) == 0x0000)           // halfway to the smallest subnormal → 0
        #expect(HalfFloat.fromFloat(0x1p-25 * 1.5) == 0x0001)
        #expect(HalfFloat.fromFloat(1e-10) == 0)
    }

    @Test func everyHalfPatternRoundTrips() {
        for bits in UInt16.min...UInt16.max {
            let value = HalfFloat.toFloat(bits)
            if value.isNaN { continue }
            #expect(HalfFloat.fromFloat(value) == bits)
        }
    }

    @Test func bfloat16() {
        #expect(BFloat16.toFloat(0x3F80) == 1)
        #expect(BFloat16.fromFloat(1) == 0x3F80)
        #expect(BFloat16.fromFloat(-2.5) == 0xC020)
        #expect(BFloat16.fromFloat(Float(bitPattern: 0x3F80_8000)) == 0x3F80)   // tie, even stays
        #expect(BFloat16.fromFloat(Float(bitPattern: 0x3F81_8000)) == 0x3F82)   // tie, odd rounds up
        #expect(BFloat16.toFloat(BFloat16.fromFloat(.nan)).isNaN)
        for bits in UInt16.min...UInt16.max {
            let value = BFloat16.toFloat(bits)
            if value.isNaN { continue }
            #expect(BFloat16.fromFloat(value) == bits)
        }
    }
}
