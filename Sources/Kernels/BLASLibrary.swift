// Which BLAS this process runs and on what CPU: the loader's record (Sources/COpenBLAS/blas_loader.c) as
// values, for `lazarus bench` and for tests. Reading it loads the BLAS, as the first sgemm would.
import COpenBLAS
import Foundation

public struct BLASLibrary: Sendable, Equatable {
    public enum Kind: String, Sendable { case scipyOpenBLAS = "scipy-openblas32", systemOpenBLAS = "system-openblas" }
    public var kind: Kind
    /// The shared object dlopen took.
    public var path: String
    /// `openblas_get_config()`: version and build options.
    public var config: String
    /// `openblas_get_corename()` after any correction: the kernels sgemm runs.
    public var core: String
    public var coreLevel: KernelLevel
    /// What the loader overrode or reloaded, and why; empty when it took the library's own choice.
    public var note: String
    /// True when the core is still generic for this CPU (warned on stderr at load).
    public var genericOnCapableCPU: Bool
    /// Threads the library started while it loaded. Lazarus loads it asking for one thread, so this is 0: an
    /// idle OpenBLAS pool busy-waits ~0.1 s after it starts, on the core Lazarus's own second worker needs.
    public var poolThreads: Int

    /// The version number out of the config string ("OpenBLAS 0.3.34.481.3 DYNAMIC_ARCH ..." → "0.3.34.481.3").
    public var version: String {
        let words = config.split(separator: " ")
        guard let i = words.firstIndex(of: "OpenBLAS"), i + 1 < words.count else { return config }
        return String(words[i + 1])
    }

    /// The loaded library (loaded now if no sgemm ran yet).
    public static var loaded: BLASLibrary {
        let p = lazarus_blas_info_get()!.pointee
        return BLASLibrary(kind: p.kind == Int32(LAZARUS_BLAS_SCIPY_OPENBLAS) ? .scipyOpenBLAS : .systemOpenBLAS,
                           path: cString(p.path), config: cString(p.config), core: cString(p.core),
                           coreLevel: KernelLevel(p.core_level), note: cString(p.note),
                           genericOnCapableCPU: p.generic_on_capable != 0, poolThreads: Int(p.pool_threads))
    }

    private static func cString<T>(_ tuple: T) -> String {
        withUnsafeBytes(of: tuple) { raw in
            let bytes = raw.prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self)
        }
    }
}

/// The widest vector class of a CPU or of a BLAS core's kernels.
public enum KernelLevel: Int, Sendable, Comparable, CustomStringConvertible {
    case unknown = -1, generic = 0, avx = 1, avx2 = 2, avx512 = 3

    init(_ raw: Int32) { self = KernelLevel(rawValue: Int(raw)) ?? .unknown }

    /// OpenBLAS's name for a core (case-insensitive), as the loader classifies it.
    public init(openBLASCore name: String) { self.init(lazarus_level_of_core(name)) }

    public static func < (a: KernelLevel, b: KernelLevel) -> Bool { a.rawValue < b.rawValue }
    public var description: String { ["unknown", "generic", "avx", "avx2", "avx512"][rawValue + 1] }
}

/// The CPU this process runs on: its name from /proc/cpuinfo and the features CPUID reports (with OS support).
public struct CPUDescription: Sendable {
    public var model: String
    /// The features Lazarus's kernels (and OpenBLAS's cores) use, by their /proc/cpuinfo names.
    public var features: [String]
    public var level: KernelLevel
    /// Cores in this process's affinity mask.
    public var usableCores: Int

    public static var current: CPUDescription {
        let bits = lazarus_cpu_features()
        let named: [(Int32, String)] = [(Int32(LAZARUS_CPU_AVX), "avx"), (Int32(LAZARUS_CPU_FMA), "fma"), (Int32(LAZARUS_CPU_AVX2), "avx2"),
                                        (Int32(LAZARUS_CPU_AVX512F), "avx512f"), (Int32(LAZARUS_CPU_AVX512BW), "avx512bw"),
                                        (Int32(LAZARUS_CPU_AVX512DQ), "avx512dq"), (Int32(LAZARUS_CPU_AVX512VL), "avx512vl"),
                                        (Int32(LAZARUS_CPU_AVX512VNNI), "avx512_vnni")]
        return CPUDescription(model: modelName(), features: named.filter { bits & $0.0 != 0 }.map(\.1),
                              level: KernelLevel(lazarus_level_of_features(bits)), usableCores: Int(lazarus_cpu_usable_cores()))
    }

    /// `model name` of the first processor in /proc/cpuinfo; "unknown" where there is none.
    static func modelName() -> String {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown" }
        for line in text.split(separator: "\n") where line.hasPrefix("model name") {
            if let colon = line.firstIndex(of: ":") { return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces) }
        }
        return "unknown"
    }
}

/// How busy the machine is, for the record beside every timing.
public enum MachineLoad {
    /// The 1-minute load average of /proc/loadavg (-1 where unreadable).
    public static var oneMinute: Double {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8),
              let first = text.split(separator: " ").first, let value = Double(first) else { return -1 }
        return value
    }
    /// Cores other processes kept busy over the last sampling window (-1 before two samples).
    public static var othersBusyCores: Double { lazarus_cpu_others_busy() }
    /// Usable cores minus those others hold (at least 1): the pool size BLAS and row splits use now.
    public static var freeCores: Int { Int(lazarus_cpu_free_cores(500)) }

    /// The busy ticks the sampler counts for one /proc/stat cpu line (user nice system idle iowait irq softirq
    /// steal): niced time only when this process is niced itself (blas_loader.c says why).
    public static func busyTicks(_ ticks: [UInt64], countingNice: Bool) -> UInt64 {
        precondition(ticks.count == 8, "busyTicks: a /proc/stat cpu line has 8 counters here, got \(ticks.count)")
        return ticks.withUnsafeBufferPointer { lazarus_busy_ticks($0.baseAddress!, countingNice ? 1 : 0) }
    }
}
