// Which quantised-weight kernel path the binary reports and runs: the best for the CPU unless the diagnostic
// LAZARUS_KERNEL names another (in the child's environment only); an unknown name is said on stderr and ignored.
import Foundation
import Testing

@Suite struct KernelPathCLITests {
    static func info(_ environment: [String: String]) throws -> (json: [String: Any], stderr: String) {
        let run = try LazarusProcess.run(["model", "info", LazarusProcess.tinyModel.path, "--json"], environment: environment)
        guard run.status == 0 else { throw TestFailure("model info: status \(run.status): \(run.stderr)") }
        guard let json = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any] else {
            throw TestFailure("model info --json printed no object: \(run.stdout)")
        }
        return (json, run.stderr)
    }

    @Test func theEnvironmentForcesARunnablePathAndNothingElse() throws {
        let best = try Self.info([:]).json["kernel_path"] as? String
        #expect(["scalar", "avx2", "avx512vnni"].contains(best ?? ""), "\(best ?? "nil")")
        #expect(try Self.info(["LAZARUS_KERNEL": "scalar"]).json["kernel_path"] as? String == "scalar")
        let bogus = try Self.info(["LAZARUS_KERNEL": "sse9"])
        #expect(bogus.json["kernel_path"] as? String == best)
        #expect(bogus.stderr.contains("LAZARUS_KERNEL=sse9"), "\(bogus.stderr)")
    }

    @Test func generateTakesBothWeightKinds() throws {
        for w in ["native", "f32"] {
            let run = try LazarusProcess.run(["generate", LazarusProcess.tinyModel.path, "hello", "--max-tokens", "3", "--weights", w, "--json"])
            #expect(run.status == 0, "\(w): \(run.stderr)")
        }
        let bad = try LazarusProcess.run(["generate", LazarusProcess.tinyModel.path, "hello", "--weights", "int3"])
        #expect(bad.status == 64, "\(bad.stderr)")
    }
}
