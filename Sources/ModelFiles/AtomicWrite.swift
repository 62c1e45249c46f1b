// Writes a whole file so that readers see either the old contents or the new, never a torn file:
// a temporary file in the same folder, fsync, then rename over the target. Not a streaming writer.
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum AtomicWrite {
    /// Writes `data` to `url`, creating the parent folders. Throws `ModelFileError` naming the file.
    public static func write(_ data: Data, to url: URL) throws {
        let name = url.lastPathComponent
        let folder = url.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw ModelFileError(file: name, reason: "cannot create the folder \(folder.path): \(error.localizedDescription)")
        }
        // Same folder, so the rename stays on one file system and is atomic.
        let temporary = folder.appendingPathComponent(".\(name).tmp-\(getpid())-\(UUID().uuidString)")
        let descriptor = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard descriptor >= 0 else {
            throw ModelFileError(file: name, reason: "cannot create a temporary file in \(folder.path): \(String(cString: strerror(errno)))")
        }
        func fail(_ what: String) -> ModelFileError {
            let message = String(cString: strerror(errno))
            close(descriptor)
            unlink(temporary.path)
            return ModelFileError(file: name, reason: "cannot \(what): \(message)")
        }
        let failure: String? = data.withUnsafeBytes { raw -> String? in
            var written = 0
            while written < raw.count {
                let count = systemWrite(descriptor, raw.baseAddress! + written, raw.count - written)
                if count < 0 {
                    if errno == EINTR { continue }
                    return "write"
                }
                written += count
            }
            return nil
        }
        if let failure { throw fail(failure) }
        guard fsync(descriptor) == 0 else { throw fail("flush the file to disk") }
        guard close(descriptor) == 0 else {
            unlink(temporary.path)
            throw ModelFileError(file: name, reason: "cannot close the file: \(String(cString: strerror(errno)))")
        }
        guard rename(temporary.path, url.path) == 0 else {
            let message = String(cString: strerror(errno))
            unlink(temporary.path)
            throw ModelFileError(file: name, reason: "cannot move the finished file into place: \(message)")
        }
        // Persist the rename itself; a failure here leaves a complete file, so it is not an error.
        let folderDescriptor = open(folder.path, O_RDONLY)
        if folderDescriptor >= 0 {
            _ = fsync(folderDescriptor)
            close(folderDescriptor)
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
