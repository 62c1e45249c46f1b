// `lazarus bench`: the performance figures of docs/SPEC.md §8, each the median of repetitions after a warm-up.
// The same five workloads run under PyTorch + PEFT in tools/peer/, so the two can be compared as ratios.
import Foundation
import Introspection
import Kernels
import Transformer
import Training

public struct BenchmarkFigures: Codable, Sendable {
    public var sgemmGflops1024: Double
    public var sgemmGflops2048: Double
    public var prefillTokensPerSecond: Double
    public var decodeTokensPerSecond: Double
    public var lensSweepSeconds: Double
    public var loraStepSeconds: Double
    public var peakRssMB: Double
    public var loadSeconds: Double
    public var model: String
    public var threads: Int
    /// One prompt decoded alone with the KV cache, 64 steps: the rate a user of `generate` sees.
    public var decodeSingleTokensPerSecond: Double
    /// The machine and the kernels the figures came from: without them a figure cannot be compared.
    public var cpuModel: String
    public var cpuFeatures: [String]
    public var usableCores: Int
    public var blasLibrary: String
    public var blasVersion: String
    public var blasCore: String
    /// What the BLAS loader overrode and why (empty when it kept the library's own choice).
    public var blasNote: String
    /// Threads OpenBLAS started while it loaded (0: Lazarus asks it for none; see BLASLibrary.poolThreads).
    public var blasPoolThreads: Int
    /// The 1-minute load average when the run ended: a figure from a loaded machine is not a result.
    public var loadAverage1m: Double
    /// The quantised-weight kernel path (`native` figures) and every path this CPU can run.
    public var kernelPath: String
    public var kernelPathsSupported: [String]
    /// The same prefill and decode workloads with `native` weights (0 when the model is not a quantised GGUF file).
    public var nativePrefillTokensPerSecond: Double
    public var nativeDecodeTokensPerSecond: Double
    public var nativeDecodeSingleTokensPerSecond: Double

    enum CodingKeys: String, CodingKey {
        case sgemmGflops1024 = "sgemm_gflops_1024", sgemmGflops2048 = "sgemm_gflops_2048"
        case prefillTokensPerSecond = "prefill_tokens_per_s", decodeTokensPerSecond = "decode_tokens_per_s"
        case lensSweepSeconds = "lens_sweep_s", loraStepSeconds = "lora_step_s", peakRssMB = "peak_rss_mb", loadSeconds = "load_s"
        case model, threads
        case decodeSingleTokensPerSecond = "decode_single_tokens_per_s"
        case cpuModel = "cpu_model", cpuFeatures = "cpu_features", usableCores = "usable_cores"
        case blasLibrary = "blas_library", blasVersion = "blas_version", blasCore = "blas_core", blasNote = "blas_note"
        case blasPoolThreads = "blas_pool_threads"
        case loadAverage1m = "load_average_1m"
        case kernelPath = "kernel_path", kernelPathsSupported = "kernel_paths_supported"
        case nativePrefillTokensPerSecond = "native_prefill_tokens_per_s", nativeDecodeTokensPerSecond = "native_decode_tokens_per_s"
        case nativeDecodeSingleTokensPerSecond = "native_decode_single_tokens_per_s"
    }
}

public enum Benchmark {
    /// Median wall time of `repeats` runs of `body` after `warmup` unmeasured runs.
    public static func median(warmup: Int = 1, repeats: Int, _ body: () throws -> Void) rethrows -> Double {
        for _ in 0..<warmup { try body() }
        var times: [Double] = []
        for _ in 0..<max(1, repeats) {
            let t0 = DispatchTime.now().uptimeNanoseconds
            try body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
        times.sort()
        return times[times.count / 2]
    }

    /// GFLOP/s of one n×n×n sgemm through the same path the model uses.
    public static func sgemmGflops(_ n: Int, repeats: Int = 5) -> Double {
        var rng = SeededRandom(seed: 1)
        let a = Matrix(rows: n, cols: n, values: (0..<(n * n)).map { _ in rng.uniform(-1, 1) })
        let b = Matrix(rows: n, cols: n, values: (0..<(n * n)).map { _ in rng.uniform(-1, 1) })
        var c = Matrix(rows: n, cols: n)
        let t = median(repeats: repeats) { Matmul.linear(a, b, into: &c) }
        return 2 * Double(n) * Double(n) * Double(n) / t / 1e9
    }

    /// The 32 prompts of the prefill figure: arithmetic problems as the experiments ask them.
    public static func arithmeticPrompts(_ count: Int) -> [String] {
        let ops = ["*", "+", "-"]
        return (0..<count).map { i in "\(7 + i % 40) \(ops[i % 3]) \(3 + (i * 7) % 45) =" }
    }

    /// Peak resident memory of this process so far, in MiB.
    public static func peakResidentMB() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024 // Linux reports KiB
    }

    /// The workloads `run` can be limited to (for profiling one of them); a skipped figure reads 0.
    public static let workloads: Set<String> = ["sgemm", "prefill", "decode", "lens", "lora"]

    /// `native`, when given, is the same file loaded with `.native` weights: prefill and decode run on it too.
    public static func run(_ loaded: LoadedModel, native: LoadedModel? = nil, modelName: String, quick: Bool = false, loadSeconds: Double = 0,
                           only: Set<String> = workloads, log: (String) -> Void = { _ in }) throws -> BenchmarkFigures {
        let repeats = quick ? 2 : 5
        let model = loaded.model, tokenizer = loaded.tokenizer
        var g1024 = 0.0, g2048 = 0.0, prefillRate = 0.0, decodeRate = 0.0, singleRate = 0.0, sweep = 0.0, loraStep = 0.0
        if only.contains("sgemm") {
            log("sgemm")
            g1024 = sgemmGflops(1024, repeats: repeats)
            g2048 = sgemmGflops(2048, repeats: quick ? 1 : 3)
        }

        let prompts = arithmeticPrompts(32).map { tokenizer.encode($0) }
        let tokens = prompts.reduce(0) { $0 + $1.count }
        var nativePrefill = 0.0, nativeDecode = 0.0, nativeSingle = 0.0
        let nativeModel = native.map(\.model).flatMap { $0.weights.isNative ? $0 : nil }
        if only.contains("prefill") {
            log("prefill: 32 prompts in one batch")
            prefillRate = Double(tokens) / (try median(repeats: repeats) { _ = try model.forward(prompts, logits: .lastToken) })
            if let nativeModel {
                log("prefill (native weights)")
                nativePrefill = Double(tokens) / (try median(repeats: repeats) { _ = try nativeModel.forward(prompts, logits: .lastToken) })
            }
        }
        if only.contains("decode") {
            decodeRate = try decodeTokensPerSecond(model: model, prompts: prompts, repeats: repeats, log: log)
            singleRate = try singleStreamTokensPerSecond(model: model, prompt: tokenizer.encode(singleStreamPrompt),
                                                         repeats: quick ? 1 : 3, log: log)
            if let nativeModel {
                nativeDecode = try decodeTokensPerSecond(model: nativeModel, prompts: prompts, repeats: repeats, log: log)
                nativeSingle = try singleStreamTokensPerSecond(model: nativeModel, prompt: tokenizer.encode(singleStreamPrompt),
                                                               repeats: quick ? 1 : 3, log: log)
            }
        }
        if only.contains("lens") {
            log("lens sweep: 300 prompts × every layer")
            let lensPrompts = arithmeticPrompts(300).map { tokenizer.encode($0) }
            sweep = try median(warmup: quick ? 0 : 1, repeats: quick ? 1 : 3) {
                let states = try HiddenStateCollector.collect(model: model, prompts: lensPrompts)
                LogitLens.forEachChunk(model: model, states: states.states) { _, _, probs in _ = TopK.argmax(probs, 0) }
            }
        }
        if only.contains("lora") {
            log("LoRA step: batch 4, rank 16, q/k/v/o")
            loraStep = try LoRABenchmark.stepSeconds(model: model, tokenizer: { tokenizer.encode($0) }, repeats: repeats)
        }
        let blas = BLASLibrary.loaded, cpu = CPUDescription.current
        return BenchmarkFigures(sgemmGflops1024: g1024, sgemmGflops2048: g2048, prefillTokensPerSecond: prefillRate,
                                decodeTokensPerSecond: decodeRate, lensSweepSeconds: sweep, loraStepSeconds: loraStep,
                                peakRssMB: peakResidentMB(), loadSeconds: loadSeconds, model: modelName, threads: BLASThreads.current,
                                decodeSingleTokensPerSecond: singleRate, cpuModel: cpu.model, cpuFeatures: cpu.features,
                                usableCores: cpu.usableCores, blasLibrary: blas.path, blasVersion: blas.version, blasCore: blas.core,
                                blasNote: blas.note, blasPoolThreads: blas.poolThreads, loadAverage1m: MachineLoad.oneMinute,
                                kernelPath: KernelPath.current.description,
                                kernelPathsSupported: KernelPath.allCases.filter(\.isSupported).map(\.description),
                                nativePrefillTokensPerSecond: nativePrefill, nativeDecodeTokensPerSecond: nativeDecode,
                                nativeDecodeSingleTokensPerSecond: nativeSingle)
    }

    /// The single-stream prompt (the one tools/peer/ decodes under PyTorch and llama.cpp).
    public static let singleStreamPrompt = "Once upon a time"
    public static let singleStreamSteps = 64

    /// Tokens per second of `singleStreamSteps` greedy steps of one prompt with the KV cache; the prefill that
    /// fills the cache is not timed. Median over `repeats` runs after one warm-up.
    static func singleStreamTokensPerSecond(model: TransformerModel, prompt: [Int], repeats: Int, log: (String) -> Void) throws -> Double {
        log("decode: \(singleStreamSteps) greedy steps of one prompt with the KV cache")
        let steps = singleStreamSteps
        var times: [Double] = []
        for run in 0..<(repeats + 1) {
            var cache: KVCache? = KVCache(config: model.config, sequences: 1, capacity: prompt.count + steps + 1)
            var step = try model.forward([prompt], adapters: nil, cache: &cache, capture: .none, logits: .lastToken, saveActivations: false)
            let t0 = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<steps {
                step = try model.forward([[TopK.argmax(step.logits, 0)]], adapters: nil, cache: &cache, capture: .none,
                                         logits: .lastToken, saveActivations: false)
            }
            if run > 0 { times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9) }
        }
        return Double(steps) / times.sorted()[times.count / 2]
    }

    static func decodeTokensPerSecond(model: TransformerModel, prompts: [[Int]], repeats: Int, log: (String) -> Void) throws -> Double {
        log("decode: 16 greedy steps of the 32 prompts with the KV cache")
        // As the experiments decode (and as the PyTorch side measures): the 32 prompts step together, one
        // token each per step. Only the 16 cached steps are timed, not the prefill that fills the cache.
        let steps = 16
        var decodeTimes: [Double] = []
        for run in 0..<(repeats + 1) {
            var cache: KVCache? = KVCache(config: model.config, sequences: prompts.count, capacity: (prompts.map(\.count).max() ?? 0) + steps + 1)
            var step = try model.forward(prompts, adapters: nil, cache: &cache, capture: .none, logits: .lastToken, saveActivations: false)
            let t0 = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<steps {
                let next = (0..<prompts.count).map { [TopK.argmax(step.logits, $0)] }
                step = try model.forward(next, adapters: nil, cache: &cache, capture: .none, logits: .lastToken, saveActivations: false)
            }
            if run > 0 { decodeTimes.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9) }
        }
        let decodeTime = decodeTimes.sorted()[decodeTimes.count / 2]
        return Double(prompts.count * steps) / decodeTime
    }
}
