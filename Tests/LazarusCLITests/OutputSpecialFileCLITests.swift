// --output onto special files made in the test's own folder (a FIFO; devices with /dev/null's and /dev/full's
// numbers): written in place, never renamed over; a regular file is still replaced whole.
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized) struct OutputSpecialFileCLITests {
    static let tiny = LazarusProcess.tinyModel.path

    @Test func outputToAFIFOIsWrittenInPlace() throws {
        let folder = try temporaryFolder("fifo")
        defer { try? FileManager.default.removeItem(at: folder) }
        let fifo = folder.appendingPathComponent("pipe")
        #expect(mkfifo(fifo.path, 0o600) == 0)
        final class Box: @unchecked Sendable { var data = Data() }
        let received = Box()
        let reading = DispatchGroup()
        let path = fifo.path
        DispatchQueue.global().async(group: reading) { received.data = FileHandle(forReadingAtPath: path)?.readDataToEndOfFile() ?? Data() }
        let run = try LazarusProcess.run(CLIExpect.lens(["--output", fifo.path]))
        #expect(run.status == 0, "\(run.stderr)")
        #expect(reading.wait(timeout: .now() + 20) == .success)
        let report = try JSONSerialization.jsonObject(with: received.data) as? [String: Any]
        #expect((report?["prompts"] as? [Any])?.count == 1)
        #expect(fileKind(fifo.path) == S_IFIFO)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["pipe"])
    }

    @Test func outputToDeviceNodesNeverReplacesThem() throws {
        let folder = try temporaryFolder("devices")
        defer { try? FileManager.default.removeItem(at: folder) }
        let null = folder.appendingPathComponent("null"), full = folder.appendingPathComponent("full")
        func device(_ major: UInt64, _ minor: UInt64) -> dev_t { dev_t((major << 8) | minor) }  // glibc's makedev, small numbers
        guard mknod(null.path, S_IFCHR | 0o666, device(1, 3)) == 0, mknod(full.path, S_IFCHR | 0o666, device(1, 7)) == 0 else {
            Issue.record("mknod needs CAP_MKNOD: \(String(cString: strerror(errno)))")
            return
        }
        let ok = try LazarusProcess.run(CLIExpect.lens(["--output", null.path]))
        #expect(ok.status == 0 && ok.stderr.isEmpty, "\(ok.stderr)")
        #expect(fileKind(null.path) == S_IFCHR)
        try CLIExpect.error(CLIExpect.lens(["--output", full.path]), "lazarus: \(full.path): cannot write to this character device: No space left on device")
        #expect(fileKind(full.path) == S_IFCHR)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() == ["full", "null"])
        // A regular file is still replaced whole.
        let regular = folder.appendingPathComponent("report.json")
        try Data("old".utf8).write(to: regular)
        #expect(try LazarusProcess.run(CLIExpect.lens(["--output", regular.path])).status == 0)
        #expect((try JSONSerialization.jsonObject(with: Data(contentsOf: regular)) as? [String: Any])?["prompts"] != nil)
    }

    /// `--output /dev/stdout > FILE`: the JSON goes through the process's own stdout, so the table printed
    /// after it follows it in FILE (a second descriptor at offset 0 would overwrite it), and FILE is the same file.
    @Test func outputToDevStdoutRedirectedToAFileKeepsBothAndTheFile() throws {
        let folder = try temporaryFolder("stdout")
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("out.txt")
        try Data().write(to: file)
        var before = stat()
        _ = stat(file.path, &before)
        let command = "exec \"$0\" introspect logit-lens --model \"$1\" --prompts ab --targets add --layers 1 --output /dev/stdout > \"$2\""
        let (status, _) = try CLIExpect.wrapped("/bin/sh", ["-c", command, try LazarusProcess.executable().path, Self.tiny, file.path], standardError: true)
        #expect(status == 0)
        var after = stat()
        _ = stat(file.path, &after)
        #expect(before.st_ino == after.st_ino, "the redirected file was replaced")
        let text = try String(contentsOf: file, encoding: .utf8)
        let split = try #require(text.range(of: "}\ntarget tokens: "))
        #expect((try JSONSerialization.jsonObject(with: Data(text[..<split.lowerBound].utf8 + [0x7D])) as? [String: Any])?["prompts"] != nil)
        #expect(text.hasSuffix("wrote /dev/stdout\n"))
    }
}
