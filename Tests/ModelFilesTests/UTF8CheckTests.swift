// UTF8Check against Swift's own validating decoder (the reference) on hand-picked and random bytes, and
// TextLines' errors: a missing file, a folder, and the line of the first byte that is not UTF-8.
import Foundation
import Testing
import ModelFiles

@Suite struct UTF8CheckTests {
    @Test func agreesWithTheStandardLibraryOnEdgeCases() {
        let cases: [[UInt8]] = [
            [], Array("plain\nascii".utf8), Array("é中𝄞".utf8), [0xC0, 0x80], [0xC1, 0xBF], [0xE0, 0x80, 0x80], [0xED, 0xA0, 0x80],
            [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xFF], [0x80], [0xE2, 0x82], [0x61, 0xE2, 0x82, 0x0A],
            [0xEF, 0xBF, 0xBF], [0xF0, 0x9F, 0x98, 0x80],
        ]
        for bytes in cases {
            #expect((UTF8Check.firstInvalid(in: bytes) == nil) == (String(validating: bytes, as: UTF8.self) != nil), "\(bytes)")
        }
    }

    @Test func agreesWithTheStandardLibraryOnRandomBytes() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<20_000 {
            let count = Int(state % 9)
            var bytes: [UInt8] = []
            for _ in 0..<count {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                // Bias towards the interesting bytes: lead bytes, continuations and ASCII.
                let pool: [UInt8] = [0x41, 0x0A, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC2, 0xDF, 0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF]
                bytes.append(pool[Int(state >> 33) % pool.count])
            }
            let found = UTF8Check.firstInvalid(in: bytes)
            #expect((found == nil) == (String(validating: bytes, as: UTF8.self) != nil), "\(bytes)")
            if let found {
                // Everything before the reported byte is valid, and the line count matches the newlines before it.
                #expect(String(validating: bytes[..<found.offset], as: UTF8.self) != nil, "\(bytes) at \(found.offset)")
                #expect(found.line == 1 + bytes[..<found.offset].filter { $0 == 0x0A }.count)
            }
        }
    }

    @Test func placesTheBadByteOnItsLine() throws {
        var bytes = Array("{\"a\": 1}\n{\"b\": 2}\r\nxy".utf8)
        bytes += [0xFF, 0x0A]
        let bad = try #require(UTF8Check.firstInvalid(in: bytes))
        #expect(bad.line == 3 && bad.column == 3 && bad.byte == 0xFF)
        #expect(bad.place == "line 3, byte 3 (0xFF)")
    }

    @Test func textLinesNameThePathAndTheLine() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let missing = folder.appendingPathComponent("absent.txt")
        expectRejection("\(missing.path): does not exist; give the path of a prompt file") { _ = try TextLines.read(missing, kind: "prompt file") }
        expectRejection("\(folder.path): is a folder") { _ = try TextLines.read(folder, kind: "prompt file") }
        let file = folder.appendingPathComponent("p.txt")
        var bytes = Data("a\r\nb\n\nc".utf8)
        try bytes.write(to: file)
        #expect(try TextLines.read(file, kind: "prompt file").map(\.text) == ["a", "b", "", "c"])
        bytes.append(contentsOf: [0x0A, 0x64, 0xC3, 0x28])
        try bytes.write(to: file)
        expectRejection("\(file.path):5: byte 2 (0xC3) is not UTF-8 text") { _ = try TextLines.read(file, kind: "prompt file") }
    }
}
