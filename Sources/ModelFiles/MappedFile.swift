// A model file's bytes mapped read-only by this code (not by Foundation), so that a reader which decodes a
// tensor to Float32 can hand the tensor's pages back to the kernel at once. Mapped pages count in a
// process's resident set while they stay mapped in: a 2.5 GB bf16 checkpoint decoded to 4.9 GB of Float32
// would otherwise peak at 7.4 GB, the file and its decoded copy side by side (docs/performance.md, 1B shape).
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum MappedFile {
    /// The file's bytes as a private read-only mapping, unmapped when the last copy of the Data goes; nil when
    /// the file cannot be mapped (empty, or a file system without mmap), and the caller reads it instead.
    static func map(_ url: URL) -> Data? {
        let fd = open(url.path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_size > 0 else { return nil }
        let size = Int(info.st_size)
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else { return nil }
        return Data(bytesNoCopy: base, count: size, deallocator: .custom { pointer, count in munmap(pointer, count) })
    }

    /// Drops the whole pages inside `range` of a mapping made by `map` from the resident set. The mapping is of
    /// a file and read-only, so a later read of those bytes faults them back in from the file unchanged: this
    /// changes memory use, never what is read. Only called on Data that `map` returned.
    static func releasePages(of data: Data, range: Range<Int>) {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        guard page > 0 else { return }
        data.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            let address = Int(bitPattern: base)
            // Whole pages only: the bytes either side of the range belong to neighbouring tensors.
            let first = (address + range.lowerBound + page - 1) / page * page
            let end = (address + range.upperBound) / page * page
            guard end > first else { return }
            _ = madvise(UnsafeMutableRawPointer(bitPattern: first), end - first, MADV_DONTNEED)
        }
    }
}
