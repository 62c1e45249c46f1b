// Adapter folders: a checkpoint needs --resume or --overwrite, --resume names what changed (rank, alpha,
// targets, model), a second writer is refused naming the holder's pid; refused runs leave the folder unchanged.
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized) struct AdapterFolderCLITests {
    static let tiny = LazarusProcess.tinyModel.path

    @Test func aFolderWithACheckpointNeedsResumeOrOverwrite() throws {
        let folder = try temporaryFolder("adapters")
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = try CLIExpect.trainingData(folder)
        let out = folder.appendingPathComponent("run")
        let first = try LazarusProcess.run(CLIExpect.train(data, out, ["--steps", "2"]))
        #expect(first.status == 0, "\(first.stderr)")
        let saved = snapshot(out)
        #expect(saved["optimizer.safetensors"] != nil && saved["metrics.jsonl"] != nil)
        let optimizer = out.appendingPathComponent("optimizer.safetensors").path

        try CLIExpect.error(CLIExpect.train(data, out, ["--steps", "3"]),
                             "lazarus: \(out.path): holds a checkpoint of 2 steps; pass --resume to continue it or --overwrite to replace it")
        try CLIExpect.error(CLIExpect.train(data, out, ["--steps", "3", "--resume", "--rank", "4"]),
                             "lazarus: \(optimizer): was trained with rank 2, this run asks for 4; resume with --rank 2, or train anew with --overwrite")
        try CLIExpect.error(CLIExpect.train(data, out, ["--steps", "3", "--resume", "--alpha", "8"]),
                             "lazarus: \(optimizer): was trained with alpha 4.0, this run asks for 8.0; resume with --alpha 4.0, or train anew with --overwrite")
        try CLIExpect.error(CLIExpect.train(data, out, ["--steps", "3", "--resume", "--targets", "q_proj,v_proj"]),
                             "lazarus: \(optimizer): was trained with targets q_proj,k_proj,v_proj,o_proj, this run asks for q_proj,v_proj; resume with --targets q_proj,k_proj,v_proj,o_proj, or train anew with --overwrite")
        let copy = folder.appendingPathComponent("other.gguf")
        try FileManager.default.copyItem(at: LazarusProcess.tinyModel, to: copy)
        var otherModel = CLIExpect.train(data, out, ["--steps", "3", "--resume"])
        otherModel[3] = copy.path
        try CLIExpect.error(otherModel, "lazarus: \(optimizer): was trained with the model \(Self.tiny), this run asks for \(copy.path); resume with --model \(Self.tiny), or train anew with --overwrite")
        #expect(snapshot(out) == saved, "a refused run changed the adapter folder")

        // A checkpoint that cannot be read is named by its full path.
        let cut = saved["optimizer.safetensors"]!.prefix(5)
        try cut.write(to: URL(fileURLWithPath: optimizer))
        let line = try LazarusProcess.run(CLIExpect.train(data, out, ["--steps", "3", "--resume"])).stderrLines
        #expect(line.count == 1 && line[0].hasPrefix("lazarus: \(optimizer): header length: the file is 5 bytes"), "\(line)")
        try saved["optimizer.safetensors"]!.write(to: URL(fileURLWithPath: optimizer))

        // An example longer than the model's context is refused before --overwrite removes anything.
        let long = folder.appendingPathComponent("long")
        try FileManager.default.createDirectory(at: long, withIntermediateDirectories: true)
        try Data("{\"text\": \"\(String(repeating: "a", count: 100))\"}\n".utf8).write(to: long.appendingPathComponent("train.jsonl"))
        try CLIExpect.error(CLIExpect.train(long, out, ["--steps", "1", "--overwrite"]),
                            "lazarus: training example 1 has 101 tokens, more than the model's context length of 64; lower --max-seq-length to 64")
        #expect(snapshot(out) == saved)

        // --resume on a folder that does not exist creates nothing; a file given as the folder is named as such.
        let absent = folder.appendingPathComponent("absent")
        try CLIExpect.error(CLIExpect.train(data, absent, ["--steps", "1", "--resume"]),
                            "lazarus: \(absent.path)/optimizer.safetensors: not found: --resume needs a folder written by an earlier `lazarus train lora` run")
        #expect(!FileManager.default.fileExists(atPath: absent.path))
        let plainFile = folder.appendingPathComponent("plain")
        try Data("x".utf8).write(to: plainFile)
        try CLIExpect.error(CLIExpect.train(data, plainFile, ["--steps", "1"]),
                            "lazarus: \(plainFile.path): is a file, not a folder; give a folder for the adapters and checkpoints")
        #expect(try Data(contentsOf: plainFile) == Data("x".utf8))

        let replaced = try LazarusProcess.run(CLIExpect.train(data, out, ["--steps", "1", "--overwrite"]))
        #expect(replaced.status == 0, "\(replaced.stderr)")
        let state = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("trainer_state.json"))) as? [String: Any]
        #expect(state?["step"] as? Int == 1)
        let resumed = try LazarusProcess.run(CLIExpect.train(data, out, ["--steps", "3", "--resume"]))
        #expect(resumed.status == 0 && resumed.stdout.contains("finished step 3/3"), "\(resumed.stdout) \(resumed.stderr)")
    }

    @Test func aSecondWriterIsRefusedNamingTheHoldersPid() throws {
        let folder = try temporaryFolder("lock")
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = try CLIExpect.trainingData(folder)
        let out = folder.appendingPathComponent("run")
        let holder = try LazarusProcess(CLIExpect.train(data, out, ["--steps", "100000"]))
        let lock = out.appendingPathComponent(".lazarus.lock")
        let deadline = Date().addingTimeInterval(30)
        while (try? String(contentsOf: lock, encoding: .utf8))?.hasSuffix("\n") != true, Date() < deadline { usleep(10_000) }
        try CLIExpect.error(CLIExpect.train(data, out, ["--steps", "2", "--overwrite"]),
                             "lazarus: \(out.path): is being written by another lazarus run (pid \(holder.process.processIdentifier)); wait for it to finish or use another adapter folder")
        holder.signal(SIGKILL)
        _ = holder.wait()
        // The kernel dropped the dead holder's lock: the folder is usable again at once.
        let next = try LazarusProcess.run(CLIExpect.train(data, out, ["--steps", "1", "--overwrite"]))
        #expect(next.status == 0, "\(next.stderr)")
    }
}
