// The one way Lazarus writes a whole output file (results, reports, plots, adapters, checkpoints, data):
// a regular file is replaced atomically — a temporary file in the same folder, fsync, then rename over the
// target — so readers see the old contents or the new, never a torn file. A target that exists and is not a
// regular file (a device such as /dev/null, a FIFO, /dev/stdout) is opened and written in place, never
// renamed over: replacing /dev/null with a JSON file would break the machine. Not a streaming writer.
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum AtomicWrite {
    /// What is at a path before it is written: nothing, a regular file (renamed over) or a special file
    /// (written in place). A symbolic link counts as what it points to.
    enum Target: Equatable {
        case absent
        case regular(resolvedPath: String)
        case special(kind: String)
        case folder
    }

    /// Writes `data` to `url`, creating the parent folders. Throws `ModelFileError` naming the file's path.
    public static func write(_ data: Data, to url: URL) throws {
        let path = url.path
        switch try target(path) {
        case .folder:
            throw ModelFileError(file: path, reason: "is a folder; give the path of a file to write")
        case .special(let kind):
            try writeInPlace(data, path: path, kind: kind)
        case .regular(let resolved):
            // A link to a regular file: replace the file it points to, and keep the link.
            try replace(data, at: URL(fileURLWithPath: resolved), shownAs: path)
        case .absent:
            try replace(data, at: url, shownAs: path)
        }
    }

    static func target(_ path: String) throws -> Target {
        var info = stat()
        guard stat(path, &info) == 0 else {
            // A dangling link is written through (as the shell's `>` would); anything else absent is created.
            return .absent
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG:
            // /dev/stdout, /dev/fd/N and /proc/self/fd/N name a descriptor the process already has open (a
            // shell redirect): renaming over the file it resolves to would cut that descriptor off.
            if path.hasPrefix("/dev/") || path.hasPrefix("/proc/") { return .special(kind: "file behind \(path)") }
            var linkInfo = stat()
            if lstat(path, &linkInfo) == 0, linkInfo.st_mode & S_IFMT == S_IFLNK, let real = realpath(path, nil) {
                defer { free(real) }
                return .regular(resolvedPath: String(cString: real))
            }
            return .regular(resolvedPath: path)
        case S_IFDIR: return .folder
        case S_IFCHR: return .special(kind: "character device")
        case S_IFBLK: return .special(kind: "block device")
        case S_IFIFO: return .special(kind: "FIFO")
        case S_IFSOCK: return .special(kind: "socket")
        default: return .special(kind: "special file")
        }
    }

    /// Opens an existing special file and writes to it; a socket cannot be opened as a file and is refused.
    private static func writeInPlace(_ data: Data, path: String, kind: String) throws {
        guard kind != "socket" else {
            throw ModelFileError(file: path, reason: "is a socket, which cannot be written as a file; give the path of a regular file, a device or a FIFO")
        }
        // The process's own stdout or stderr (/dev/stdout redirected to a file): write through that descriptor,
        // sharing its offset, so the JSON and the lines printed around it follow each other instead of
        // overwriting one another from offset 0.
        if let own = ownDescriptor(for: path) {
            fflush(nil)
            if let failure = writeAll(data, to: own) {
                throw ModelFileError(file: path, reason: "cannot write to this \(kind): \(failure)")
            }
            return
        }
        // No O_CREAT: the file exists, and if it vanished meanwhile nothing is created in its place.
        var descriptor: Int32
        // O_APPEND: a regular file reached through /dev/stdout keeps what the process already wrote there.
        repeat { descriptor = open(path, O_WRONLY | O_NOCTTY | O_APPEND) } while descriptor < 0 && errno == EINTR
        guard descriptor >= 0 else {
            throw ModelFileError(file: path, reason: "cannot open this \(kind) for writing: \(String(cString: strerror(errno)))")
        }
        if let failure = writeAll(data, to: descriptor) {
            close(descriptor)
            throw ModelFileError(file: path, reason: "cannot write to this \(kind): \(failure)")
        }
        guard close(descriptor) == 0 else {
            throw ModelFileError(file: path, reason: "cannot close this \(kind): \(String(cString: strerror(errno)))")
        }
    }

    /// 1 or 2 when `path` is the same open file as this process's stdout or stderr.
    private static func ownDescriptor(for path: String) -> Int32? {
        var target = stat()
        guard stat(path, &target) == 0 else { return nil }
        for fd: Int32 in [1, 2] {
            var info = stat()
            if fstat(fd, &info) == 0, info.st_dev == target.st_dev, info.st_ino == target.st_ino { return fd }
        }
        return nil
    }

    /// Temporary file, fsync, rename over `url`, fsync of the folder.
    private static func replace(_ data: Data, at url: URL, shownAs path: String) throws {
        let name = url.lastPathComponent
        let folder = url.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw ModelFileError(file: path, reason: "cannot create the folder \(folder.path): \(error.localizedDescription)")
        }
        // Same folder, so the rename stays on one file system and is atomic.
        let temporary = folder.appendingPathComponent(".\(name).tmp-\(getpid())-\(UUID().uuidString)")
        let descriptor = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard descriptor >= 0 else {
            throw ModelFileError(file: path, reason: "cannot create a temporary file in \(folder.path): \(String(cString: strerror(errno)))")
        }
        func fail(_ what: String, _ message: String) -> ModelFileError {
            close(descriptor)
            unlink(temporary.path)
            return ModelFileError(file: path, reason: "cannot \(what): \(message)")
        }
        if let failure = writeAll(data, to: descriptor) { throw fail("write", failure) }
        guard fsync(descriptor) == 0 else { throw fail("flush the file to disk", String(cString: strerror(errno))) }
        guard close(descriptor) == 0 else {
            let message = String(cString: strerror(errno))
            unlink(temporary.path)
            throw ModelFileError(file: path, reason: "cannot close the file: \(message)")
        }
        guard rename(temporary.path, url.path) == 0 else {
            let message = String(cString: strerror(errno))
            unlink(temporary.path)
            throw ModelFileError(file: path, reason: "cannot move the finished file into place: \(message)")
        }
        // Persist the rename itself; a failure here leaves a complete file, so it is not an error.
        let folderDescriptor = open(folder.path, O_RDONLY)
        if folderDescriptor >= 0 {
            _ = fsync(folderDescriptor)
            close(folderDescriptor)
        }
    }

    /// Writes every byte (retrying short writes and EINTR); returns the reason on failure.
    private static func writeAll(_ data: Data, to descriptor: Int32) -> String? {
        data.withUnsafeBytes { raw -> String? in
            var written = 0
            while written < raw.count {
                let count = systemWrite(descriptor, raw.baseAddress! + written, raw.count - written)
                if count < 0 {
                    if errno == EINTR { continue }
                    return String(cString: strerror(errno))
                }
                written += count
            }
            return nil
        }
    }
}

/// `write(2)`, named apart from `AtomicWrite.write` so the call inside it is unambiguous.
@inline(__always)
private func systemWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.write(descriptor, buffer, count)
    #else
    return Darwin.write(descriptor, buffer, count)
    #endif
}
