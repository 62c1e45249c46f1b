// `lazarus bench`: the performance figures of docs/SPEC.md §8 on this machine (medians after a warm-up).
import ArgumentParser
import Benchmarks
import Foundation
import Transformer

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench", abstract: "sgemm, prefill, decode, lens sweep and LoRA step figures.")
    @OptionGroup var model: ModelOption
    @Flag(help: "Fewer repetitions (a quick look, not for the record).") var quick = false
    @OptionGroup var output: ReportOutput
    @Option(help: "Run only these workloads, comma-separated (sgemm, prefill, decode, lens, lora); the others read 0.")
    var only: String?

    func run() throws {
        let progress = TerminalProgress()
        let loadStart = Date()
        let m = try model.load()
        let loadSeconds = Date().timeIntervalSince(loadStart)
        // The same file with its quantised blocks kept (a folder of safetensors has none: no native figures).
        let native = m.format == .gguf ? try model.load(weights: .native) : nil
        let selected = only.map { Set($0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }) } ?? Benchmark.workloads
        guard selected.isSubset(of: Benchmark.workloads) else {
            throw ValidationError("--only takes \(Benchmark.workloads.sorted().joined(separator: ", "))")
        }
        let figures = try Benchmark.run(m, native: native, modelName: m.name, quick: quick, loadSeconds: loadSeconds, only: selected) { progress.status("bench: \($0)") }
        if try output.emit(figures) { return }
        let rows: [(String, String)] = [
            ("sgemm 1024³", String(format: "%.1f GFLOP/s", figures.sgemmGflops1024)),
            ("sgemm 2048³", String(format: "%.1f GFLOP/s", figures.sgemmGflops2048)),
            ("prefill (32 prompts)", String(format: "%.0f tokens/s", figures.prefillTokensPerSecond)),
            ("decode (KV cache, 16)", String(format: "%.1f tokens/s", figures.decodeTokensPerSecond)),
            ("decode single (64 steps)", String(format: "%.1f tokens/s", figures.decodeSingleTokensPerSecond)),
            ("native prefill", String(format: "%.0f tokens/s", figures.nativePrefillTokensPerSecond)),
            ("native decode (16)", String(format: "%.1f tokens/s", figures.nativeDecodeTokensPerSecond)),
            ("native decode single", String(format: "%.1f tokens/s", figures.nativeDecodeSingleTokensPerSecond)),
            ("lens sweep (300 × all)", String(format: "%.2f s", figures.lensSweepSeconds)),
            ("LoRA step (b4 r16 qkvo)", String(format: "%.3f s", figures.loraStepSeconds)),
            ("model load", String(format: "%.2f s", figures.loadSeconds)),
            ("peak memory", String(format: "%.0f MiB", figures.peakRssMB)),
        ]
        print("model \(figures.model), \(figures.threads) BLAS threads of \(figures.usableCores) cores, load average \(String(format: "%.2f", figures.loadAverage1m))")
        print("cpu   \(figures.cpuModel) (\(figures.cpuFeatures.joined(separator: " ")))")
        print("blas  \(figures.blasLibrary) \(figures.blasVersion), core \(figures.blasCore)")
        if !figures.blasNote.isEmpty { print("      \(figures.blasNote)") }
        print("quant kernels \(figures.kernelPath) (this CPU runs \(figures.kernelPathsSupported.joined(separator: ", ")))")
        for (k, v) in rows { print(k.padding(toLength: 26, withPad: " ", startingAt: 0) + v) }
        output.printWrote()
    }
}
