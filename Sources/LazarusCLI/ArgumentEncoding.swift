// The raw bytes of the command line, checked before parsing: Swift turns an argument that is not UTF-8
// into U+FFFD characters, so a prompt with a stray Latin-1 byte would be tokenised as replacement marks.
import Foundation
import ModelFiles

enum ArgumentEncoding {
    /// The error line for the first argument that is not UTF-8, or nil when all are.
    static func firstInvalid() -> String? {
        for i in 1..<Int(CommandLine.argc) {
            guard let argument = CommandLine.unsafeArgv[i] else { continue }
            let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(argument).assumingMemoryBound(to: UInt8.self), count: strlen(argument))
            if let bad = UTF8Check.firstInvalid(in: bytes) {
                let shown = String(decoding: bytes, as: UTF8.self)
                return "argument \(i) (\(shown.debugDescription)) is not UTF-8 text: byte \(bad.offset + 1) is 0x\(String(bad.byte, radix: 16, uppercase: true)); give prompts and paths as UTF-8"
            }
        }
        return nil
    }
}
