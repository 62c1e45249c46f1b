// Where bytes stop being UTF-8: the line, the column and the byte, so an error can point at the place
// (line 8 of a JSONL file, not "the file"). Not a decoder: callers decode once they know the bytes are valid.
import Foundation

public struct InvalidUTF8: Equatable, Sendable {
    /// 1-based line (lines end at byte 0x0A).
    public var line: Int
    /// 1-based byte column within the line.
    public var column: Int
    /// 0-based offset of the first bad byte in the whole input.
    public var offset: Int
    public var byte: UInt8

    /// "line 8, byte 12 (0xFF)".
    public var place: String { "line \(line), byte \(column) (0x\(String(byte, radix: 16, uppercase: true)))" }
}

public enum UTF8Check {
    /// The first place `bytes` are not UTF-8 (overlong forms, surrogates and values past U+10FFFF included),
    /// or nil when all of it is.
    public static func firstInvalid<C: Collection>(in bytes: C) -> InvalidUTF8? where C.Element == UInt8 {
        var line = 1, lineStart = 0, offset = 0
        var iterator = bytes.makeIterator()
        func invalid(at position: Int, _ byte: UInt8) -> InvalidUTF8 {
            InvalidUTF8(line: line, column: position - lineStart + 1, offset: position, byte: byte)
        }
        while let first = iterator.next() {
            let start = offset
            offset += 1
            if first == 0x0A { line += 1; lineStart = offset; continue }
            if first < 0x80 { continue }
            let (length, low, high): (Int, UInt8, UInt8)
            switch first {
            case 0xC2...0xDF: (length, low, high) = (2, 0x80, 0xBF)
            case 0xE0: (length, low, high) = (3, 0xA0, 0xBF)
            case 0xED: (length, low, high) = (3, 0x80, 0x9F)  // no UTF-16 surrogates
            case 0xE1...0xEF: (length, low, high) = (3, 0x80, 0xBF)
            case 0xF0: (length, low, high) = (4, 0x90, 0xBF)
            case 0xF1...0xF3: (length, low, high) = (4, 0x80, 0xBF)
            case 0xF4: (length, low, high) = (4, 0x80, 0x8F)  // nothing past U+10FFFF
            default: return invalid(at: start, first)
            }
            for k in 1..<length {
                guard let next = iterator.next() else { return invalid(at: start, first) }
                let allowed = k == 1 ? (low...high) : (0x80...0xBF)
                // The lead byte began a sequence that this byte breaks: the lead byte is where it went wrong.
                guard allowed.contains(next) else { return invalid(at: start, first) }
                offset += 1
            }
        }
        return nil
    }
}

/// A small text file read as numbered lines (split at byte 0x0A, so "\r\n" ends a line too), after the
/// checks every reader of one wants: it exists, it is a file, it is UTF-8 (else the line that is not).
public enum TextLines {
    public struct Line: Sendable, Equatable {
        public var number: Int
        /// Without its line ending; not trimmed otherwise.
        public var text: String
    }

    /// Refused beyond this: prompt and record files are read whole.
    public static let maximumBytes = 1 << 30

    public static func read(_ url: URL, kind: String) throws -> [Line] {
        let path = url.path
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw ModelFileError(file: path, reason: "does not exist; give the path of a \(kind)")
        }
        guard !isFolder.boolValue else { throw ModelFileError(file: path, reason: "is a folder, not a \(kind)") }
        let size = ((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? Int) ?? 0
        guard size <= maximumBytes else { throw ModelFileError(file: path, reason: "is \(size) bytes, more than the \(maximumBytes) a \(kind) may have") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ModelFileError(file: path, reason: "cannot be read; check its permissions")
        }
        if let bad = UTF8Check.firstInvalid(in: data) {
            throw ModelFileError(file: "\(path):\(bad.line)", reason: "byte \(bad.column) (0x\(String(bad.byte, radix: 16, uppercase: true))) is not UTF-8 text; save the \(kind) as UTF-8")
        }
        var bytes = Array(data)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }  // a byte-order mark some editors write
        return bytes.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated().map { i, raw in
            var line = raw
            if line.last == 0x0D { line = line.dropLast() }
            return Line(number: i + 1, text: String(decoding: line, as: UTF8.self))
        }
    }
}
