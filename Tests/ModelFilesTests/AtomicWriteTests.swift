// AtomicWrite on every kind of target: a regular file is replaced by rename (a new inode, no temporary left),
// a link keeps pointing at its replaced file, and special files made in the test's own folder (a FIFO, and
// character devices with the numbers of /dev/null and /dev/full) are written in place and stay what they were.
import Foundation
import Testing
import ModelFiles
#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized) struct AtomicWriteTests {
    static func kind(_ path: String) -> mode_t {
        var info = stat()
        guard lstat(path, &info) == 0 else { return 0 }
        return info.st_mode & S_IFMT
    }

    static func inode(_ path: String) -> UInt64 {
        var info = stat()
        guard stat(path, &info) == 0 else { return 0 }
        return UInt64(info.st_ino)
    }

    @Test func createsFoldersReplacesAndLeavesNoTemporaryFiles() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("a/b/results.json")
        try AtomicWrite.write(Data("first".utf8), to: url)
        try AtomicWrite.write(Data("second".utf8), to: url)
        #expect(try Data(contentsOf: url) == Data("second".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: url.deletingLastPathComponent().path) == ["results.json"])
        expectRejection("x") { try AtomicWrite.write(Data(), to: URL(fileURLWithPath: "/proc/no-such-dir/x")) }
    }

    @Test func regularFileIsReplacedByRename() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("out.json")
        try Data("old".utf8).write(to: file)
        let before = Self.inode(file.path)
        try AtomicWrite.write(Data("new".utf8), to: file)
        #expect(try Data(contentsOf: file) == Data("new".utf8))
        #expect(Self.inode(file.path) != before, "a regular file is replaced, not rewritten")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["out.json"])
    }

    @Test func linkToARegularFileKeepsTheLink() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let target = folder.appendingPathComponent("real.json"), link = folder.appendingPathComponent("link.json")
        try Data("old".utf8).write(to: target)
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: target)
        try AtomicWrite.write(Data("new".utf8), to: link)
        #expect(Self.kind(link.path) == S_IFLNK)
        #expect(try Data(contentsOf: target) == Data("new".utf8))
    }

    @Test func fifoIsWrittenInPlace() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let fifo = folder.appendingPathComponent("pipe")
        #expect(mkfifo(fifo.path, 0o600) == 0)
        final class Box: @unchecked Sendable { var data = Data() }
        let received = Box()
        let done = DispatchGroup()
        let path = fifo.path
        DispatchQueue.global().async(group: done) { received.data = FileHandle(forReadingAtPath: path)?.readDataToEndOfFile() ?? Data() }
        let payload = Data(repeating: 0x41, count: 200_000)  // more than a pipe buffer holds
        try AtomicWrite.write(payload, to: fifo)
        #expect(done.wait(timeout: .now() + 10) == .success)
        #expect(received.data == payload)
        #expect(Self.kind(fifo.path) == S_IFIFO)
    }

    @Test func characterDevicesAreWrittenInPlace() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let null = folder.appendingPathComponent("null"), full = folder.appendingPathComponent("full")
        // Linux's memory devices: 1,3 is null (swallows writes), 1,7 is full (every write fails with ENOSPC).
        // glibc's makedev(major, minor) for numbers this small (a macro Swift does not import).
        func device(_ major: UInt64, _ minor: UInt64) -> dev_t { dev_t((major << 8) | minor) }
        guard mknod(null.path, S_IFCHR | 0o666, device(1, 3)) == 0, mknod(full.path, S_IFCHR | 0o666, device(1, 7)) == 0 else {
            Issue.record("mknod needs CAP_MKNOD: \(String(cString: strerror(errno)))")
            return
        }
        try AtomicWrite.write(Data("{}".utf8), to: null)
        #expect(Self.kind(null.path) == S_IFCHR)
        expectRejection("\(full.path): cannot write to this character device: No space left on device") {
            try AtomicWrite.write(Data("{}".utf8), to: full)
        }
        #expect(Self.kind(full.path) == S_IFCHR)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() == ["full", "null"])
    }

    @Test func foldersAndSocketsAreRefused() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        expectRejection("\(folder.path): is a folder") { try AtomicWrite.write(Data(), to: folder) }
        let socketPath = folder.appendingPathComponent("s").path
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in socketPath.utf8.enumerated() { raw[i] = b }
        }
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        #expect(bound == 0)
        expectRejection("\(socketPath): is a socket") { try AtomicWrite.write(Data("x".utf8), to: URL(fileURLWithPath: socketPath)) }
        #expect(Self.kind(socketPath) == S_IFSOCK)
    }
}
