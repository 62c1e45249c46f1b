// The BLAS loader: its CPU features against the kernel's own list in /proc/cpuinfo, its classification of
// OpenBLAS core names, and the library it loaded for this (library-user) process.
import Foundation
import Testing
import Kernels

@Suite struct BLASLoaderTests {
    /// The flags line of /proc/cpuinfo: the kernel's view of CPUID, an independent reading of the same bits.
    static func cpuinfoFlags() -> Set<String> {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return [] }
        return Set(line.split(separator: ":").last!.split(separator: " ").map(String.init))
    }

    @Test func cpuFeaturesAgreeWithProcCpuinfo() throws {
        let flags = Self.cpuinfoFlags()
        try #require(!flags.isEmpty, "no flags line in /proc/cpuinfo")
        let cpu = CPUDescription.current
        for feature in ["avx", "fma", "avx2", "avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512_vnni"] {
            #expect(cpu.features.contains(feature) == flags.contains(feature), "\(feature): CPUID and /proc/cpuinfo disagree")
        }
        #expect(!cpu.model.isEmpty && cpu.model != "unknown")
        #expect(cpu.usableCores >= 1)
    }

    @Test func coreNamesAreClassifiedByTheirKernels() {
        #expect(KernelLevel(openBLASCore: "Prescott") == .generic)
        #expect(KernelLevel(openBLASCore: "Katmai") == .generic)
        #expect(KernelLevel(openBLASCore: "nehalem") == .generic, "case-insensitive, as OPENBLAS_CORETYPE is")
        #expect(KernelLevel(openBLASCore: "Sandybridge") == .avx)
        #expect(KernelLevel(openBLASCore: "Haswell") == .avx2)
        #expect(KernelLevel(openBLASCore: "Zen") == .avx2)
        #expect(KernelLevel(openBLASCore: "SkylakeX") == .avx512)
        #expect(KernelLevel(openBLASCore: "SapphireRapids") == .avx512)
        #expect(KernelLevel(openBLASCore: "NoSuchCore") == .unknown)
    }

    /// The library a test process gets is the one the CLI gets (same loader, same search), and it does not run
    /// generic kernels on a CPU with AVX2: the failure of issue 11 (Debian's 0.3.21 "Prescott" on a new Xeon).
    @Test func loadedLibraryRunsTheCPUsKernels() {
        let blas = BLASLibrary.loaded, cpu = CPUDescription.current
        #expect(!blas.genericOnCapableCPU, "\(blas.path) runs \(blas.core) on a \(cpu.level) CPU: \(blas.note)")
        #expect(blas.coreLevel >= min(cpu.level, .avx2), "\(blas.core) on \(cpu.features)")
        #expect(blas.config.contains("OpenBLAS"), "\(blas.config)")
        #expect(FileManager.default.fileExists(atPath: blas.path) || blas.path == "libopenblas.so.0", "\(blas.path)")
        let installed = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".lazarus-deps/scipy-openblas32/lib/libscipy_openblas.so")
        if FileManager.default.fileExists(atPath: installed.path) {
            #expect(blas.kind == .scipyOpenBLAS, "scipy-openblas32 is installed but \(blas.path) was loaded")
        }
    }

    @Test func freeCoresStayWithinTheAffinityMask() {
        let usable = CPUDescription.current.usableCores
        for _ in 0..<3 {
            let free = MachineLoad.freeCores
            #expect(free >= 1 && free <= usable)
            #expect(Parallel.workerCount >= 1 && Parallel.workerCount <= usable)
        }
        #expect(BLASThreads.current >= 1 && BLASThreads.current <= max(usable, 1))
    }
}
