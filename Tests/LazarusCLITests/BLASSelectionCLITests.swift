// What `lazarus bench` reports about the BLAS, and what it does when told to run generic kernels: the
// failure of issue 11 simulated with OPENBLAS_CORETYPE=Prescott in the child's environment only.
import Foundation
import Testing

@Suite struct BLASSelectionCLITests {
    static func bench(_ environment: [String: String]) throws -> (json: [String: Any], stderr: String) {
        let run = try LazarusProcess.run(["bench", "--model", LazarusProcess.tinyModel.path, "--quick", "--only", "sgemm", "--json"],
                                         environment: environment)
        guard run.status == 0 else { throw TestFailure("bench: status \(run.status): \(run.stderr)") }
        guard let json = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any] else {
            throw TestFailure("bench --json printed no object: \(run.stdout)")
        }
        return (json, run.stderr)
    }

    /// The names OpenBLAS gives its SSE-only kernel tables (scipy-openblas32 reports a forced Prescott as "Katmai").
    static let genericCores: Set<String> = ["prescott", "katmai", "core2", "nehalem", "penryn", "atom", "barcelona"]

    @Test func forcedGenericCoreIsSetAsideAndReported() throws {
        let quiet = try Self.bench([:])
        let forced = try Self.bench(["OPENBLAS_CORETYPE": "Prescott"])
        let features = forced.json["cpu_features"] as? [String] ?? []
        let core = forced.json["blas_core"] as? String ?? ""
        #expect(!core.isEmpty)
        #expect(forced.json["blas_library"] as? String == quiet.json["blas_library"] as? String)
        if features.contains("avx2") {
            #expect(!Self.genericCores.contains(core.lowercased()), "ran \(core) on a CPU with \(features)")
            let note = forced.json["blas_note"] as? String ?? ""
            #expect(note.contains("OPENBLAS_CORETYPE=Prescott"), "\(note)")
            #expect(forced.stderr.contains("OPENBLAS_CORETYPE=Prescott"), "the override is said on stderr: \(forced.stderr)")
        }
        #expect(quiet.stderr.isEmpty, "\(quiet.stderr)")
        #expect((quiet.json["sgemm_gflops_1024"] as? Double ?? 0) > 0)
        #expect((quiet.json["cpu_model"] as? String ?? "").isEmpty == false)
    }

    /// The pool follows the free cores but never exceeds what the user asked OpenBLAS for.
    @Test func userThreadCountIsTheCap() throws {
        let one = try Self.bench(["OPENBLAS_NUM_THREADS": "1"])
        #expect(one.json["threads"] as? Int == 1)
        let usable = one.json["usable_cores"] as? Int ?? 0
        let free = try Self.bench([:]).json["threads"] as? Int ?? 0
        #expect(free >= 1 && free <= usable)
    }

    /// OpenBLAS starts no thread pool of its own, whatever the user asked it for: an idle pool busy-waits ~0.1 s
    /// after it starts, and on two cores that halved the first products (a 1024³ sgemm at 240 GFLOP/s, not 440).
    /// Through the system fallback too, which sizes its pool the same way.
    @Test func openBLASStartsNoPool() throws {
        for environment in [[:], ["OPENBLAS_NUM_THREADS": "2"], ["LAZARUS_BLAS": "system"]] {
            let run = try Self.bench(environment)
            #expect(run.json["blas_pool_threads"] as? Int == 0, "\(environment): \(run.json["blas_pool_threads"] ?? "missing")")
        }
        // The user's request still caps Lazarus's own workers.
        #expect(try Self.bench(["OPENBLAS_NUM_THREADS": "2"]).json["threads"] as? Int == 2)
    }

    /// The fallback (the system's libopenblas.so.0, through its unprefixed symbols) runs and is checked the
    /// same way: a forced Prescott is set aside there too.
    @Test func systemFallbackIsCheckedToo() throws {
        let system = try Self.bench(["LAZARUS_BLAS": "system", "OPENBLAS_CORETYPE": "Prescott"])
        let library = system.json["blas_library"] as? String ?? ""
        #expect(library.contains("libopenblas") && !library.contains("scipy"), "\(library)")
        #expect((system.json["sgemm_gflops_1024"] as? Double ?? 0) > 0)
        let features = system.json["cpu_features"] as? [String] ?? []
        let core = system.json["blas_core"] as? String ?? ""
        if features.contains("avx2") { #expect(!Self.genericCores.contains(core.lowercased()), "ran \(core) on a CPU with \(features)") }
    }
}
