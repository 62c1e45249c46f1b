// An exclusive claim on an adapter (checkpoint) folder while a run writes it: flock(2) on a lock file in
// the folder, holding the owner's pid. Two runs on one folder would otherwise interleave their saves (an
// adapter_config.json with r=8 beside rank-16 tensors). The kernel drops the lock when its process ends,
// however it ends (SIGKILL included), so a stale lock never blocks the next run. Not a lock for readers.
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public final class AdapterFolderLock {
    public static let fileName = ".lazarus.lock"
    public let folder: URL
    private let descriptor: Int32

    /// Takes the lock, creating the folder; throws `TrainingError.folderInUse` naming the holder's pid.
    public init(folder: URL) throws {
        self.folder = folder
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder), !isFolder.boolValue {
            throw TrainingError.checkpoint(file: folder.path, reason: "is a file, not a folder; give a folder for the adapters and checkpoints")
        }
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw TrainingError.checkpoint(file: folder.path, reason: "cannot create the folder: \(error.localizedDescription)")
        }
        let path = folder.appendingPathComponent(Self.fileName).path
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw TrainingError.checkpoint(file: path, reason: "cannot open the lock file: \(String(cString: strerror(errno)))")
        }
        var result: Int32
        repeat { result = flock(fd, LOCK_EX | LOCK_NB) } while result != 0 && errno == EINTR
        guard result == 0 else {
            let busy = errno == EWOULDBLOCK
            let reason = String(cString: strerror(errno))
            let holder = Self.readPid(fd)
            close(fd)
            if busy { throw TrainingError.folderInUse(folder: folder.path, pid: holder) }
            throw TrainingError.checkpoint(file: path, reason: "cannot lock the folder: \(reason)")
        }
        // The pid is written after the lock is held, so a second run reads the holder's, never its own.
        let text = "\(getpid())\n"
        _ = ftruncate(fd, 0)
        _ = text.withCString { pwrite(fd, $0, strlen($0), 0) }
        descriptor = fd
    }

    deinit {
        // The file stays: unlinking it would let a third run lock a new file while a second holds the old one.
        _ = flock(descriptor, LOCK_UN)
        close(descriptor)
    }

    private static func readPid(_ fd: Int32) -> Int? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, 31, 0) }
        guard count > 0 else { return nil }
        return Int(String(decoding: buffer[0..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
