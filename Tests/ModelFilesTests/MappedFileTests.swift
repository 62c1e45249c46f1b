// What lets a 1B-parameter bf16 checkpoint load within 8 GiB (docs/performance.md, Llama-3.2-1B shape): a
// safetensors file opened from disk is mapped by MappedFile, and decoding a tensor to Float32 hands that
// tensor's pages back, so the file's 2.5 GB and their 4.9 GB Float32 copy are never resident together.
// Scaled down: two bf16 tensors of 2 MiB each; the resident size of the file's mapping is read from
// /proc/self/smaps (Linux; the release is a no-op elsewhere and the test checks values only).
import Foundation
import Testing
import ModelFiles

struct MappedFileTests {
    static let rows = 1024, cols = 1024

    /// Values exact in bf16 (k/64 for small k), different per tensor, so a wrong or stale page would show.
    static func values(_ salt: Int) -> [Float] {
        (0..<(rows * cols)).map { Float(($0 * 7 + salt) % 255 - 127) / 64 }
    }

    /// Resident kB of every mapping of `path` in this process; nil where /proc/self/smaps does not exist.
    /// Read to its end through a handle: /proc files report a size of 0, which a whole-file read would trust.
    static func residentKB(of path: String, sourceLocation: SourceLocation = #_sourceLocation) -> Int? {
        guard let handle = FileHandle(forReadingAtPath: "/proc/self/smaps") else { return nil }
        defer { try? handle.close() }
        let text = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
        var total = 0, inside = false, mappings = 0
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            // A mapping's header line: "start-end perms offset dev inode [path]".
            if let first = fields.first, first.contains("-"), fields.count >= 5, !first.hasSuffix(":") {
                inside = fields.count >= 6 && fields[5...].joined(separator: " ") == path
                if inside { mappings += 1 }
            } else if inside, fields.first == "Rss:", fields.count >= 2, let kb = Int(fields[1]) {
                total += kb
            }
        }
        // The file is open while this is asked: not finding its mapping means the measure, not the code, is wrong.
        #expect(mappings > 0, "no mapping of \(path) in /proc/self/smaps", sourceLocation: sourceLocation)
        return total
    }

    @Test func decodingATensorReleasesItsPagesAndRereadsThemUnchanged() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("model.safetensors")
        var writer = SafetensorsWriter()
        writer.add(name: "a", shape: [Self.rows, Self.cols], values: Self.values(0), dtype: .bf16)
        writer.add(name: "b", shape: [Self.rows, Self.cols], values: Self.values(1), dtype: .bf16)
        try writer.write(to: url)
        let path = url.resolvingSymlinksInPath().path

        let file = try SafetensorsFile(contentsOf: url)
        let tensorKB = Self.rows * Self.cols * 2 / 1024  // 2048 kB of bf16 per tensor
        // Both tensors, then the measure. Not after `a` alone: the kernel may map a whole large folio of the
        // page cache on one fault, so reading a's last page can map most of b's bytes before b is decoded.
        #expect(try file.floatTensor(named: "a") == Self.values(0))
        #expect(try file.floatTensor(named: "b") == Self.values(1))
        if let after = Self.residentKB(of: path) {
            // Without the release, 4096 kB would be resident. A page at each end of a tensor is shared with the
            // header or the other tensor and stays.
            #expect(after <= 16, "\(after) kB of the file resident after decoding both tensors (\(2 * tensorKB) kB of bf16)")
        }
        // The measure itself: copying b's bytes out (no decode, no release) makes its pages resident.
        _ = file.rawBytes(of: "b")
        if let touched = Self.residentKB(of: path) {
            #expect(touched >= tensorKB, "\(touched) kB resident after reading b's \(tensorKB) kB of bytes")
        }
        // The released pages come back from the file: a second decode reads the same values, and releases them
        // again (in file order, for the reason above).
        #expect(try file.floatTensor(named: "a") == Self.values(0))
        #expect(try file.floatTensor(named: "b") == Self.values(1))
        if let again = Self.residentKB(of: path) {
            #expect(again <= 16, "\(again) kB of the file resident after decoding both tensors a second time")
        }
    }

    @Test func bytesGivenInMemoryAreNeverReleased() throws {
        var writer = SafetensorsWriter()
        writer.add(name: "a", shape: [64, 64], values: Array(Self.values(2).prefix(64 * 64)), dtype: .bf16)
        let file = try SafetensorsFile(data: try writer.encoded(), name: "in-memory.safetensors")
        let expected = Array(Self.values(2).prefix(64 * 64))
        #expect(try file.floatTensor(named: "a") == expected)
        // Releasing pages of a heap buffer would zero them: a second read must see the same values.
        #expect(try file.floatTensor(named: "a") == expected)
    }
}
