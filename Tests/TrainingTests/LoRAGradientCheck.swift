// The comparison every whole-model gradient test makes: analytic against numerical gradients per projection
// type and A/B part, so that a missing term in one shows even beside larger gradients elsewhere.
import LazarusTestSupport
import Testing
import Training
import Transformer

func expectGradientsMatch(_ gradient: [Double], _ numeric: [Double], layout: LoRAParameterLayout, _ what: String,
                          bound: Double = 5e-3, smallest: Double) {
    for p in Projection.allCases {
        for part in ["A", "B"] {
            var idx: [Int] = []
            for s in layout.slots where s.projection == p {
                let (o, shape) = part == "A" ? (s.aOffset, s.aShape) : (s.bOffset, s.bShape)
                idx += Array(o..<(o + shape[0] * shape[1]))
            }
            guard !idx.isEmpty else { continue }
            let error = relativeError(idx.map { gradient[$0] }, idx.map { numeric[$0] })
            #expect(error < bound, "\(what): \(p.rawValue) \(part): relative error \(error)")
            #expect(idx.map { abs(numeric[$0]) }.max()! > smallest, "\(what): \(p.rawValue) \(part): gradient too small to test")
        }
    }
}
