// PEFT's default LoRA initialisation: A from kaiming_uniform(a=√5) on its [r, in] weight, which is
// U(−1/√in, 1/√in) (gain √(2/(1+5)) times √(3/fan_in)); B zero, so a fresh adapter changes nothing.
// The draws are seeded and ordered as the flat layout orders the parameters.
import Kernels
import Transformer

public enum LoRAInitialisation {
    /// The bound of A's uniform distribution for an input width.
    public static func bound(inputWidth: Int) -> Float { 1 / Float(inputWidth).squareRoot() }

    public static func initialParameters(layout: LoRAParameterLayout, seed: UInt64) -> [Float] {
        var rng = SeededRandom(seed: seed)
        var values = [Float](repeating: 0, count: layout.count)
        for s in layout.slots {
            let bound = bound(inputWidth: s.aShape[1])
            for i in 0..<(s.aShape[0] * s.aShape[1]) { values[s.aOffset + i] = rng.uniform(-bound, bound) }
        }
        return values
    }

    public static func adapters(config: ModelConfig, settings: LoRASettings, seed: UInt64) -> LoRAAdapters {
        let layout = LoRAParameterLayout(config: config, settings: settings)
        return layout.adapters(from: initialParameters(layout: layout, seed: seed))
    }
}
