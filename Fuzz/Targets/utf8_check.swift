// libFuzzer entry: UTF8Check on arbitrary bytes agrees with the standard library's validating decoder, and a
// reported place is the first bad one (everything before it decodes) on the line its newlines say.
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzUTF8Check(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let found = UTF8Check.firstInvalid(in: bytes)
    precondition((found == nil) == (String(validating: bytes, as: UTF8.self) != nil))
    if let found {
        precondition(found.offset < size && bytes[found.offset] == found.byte)
        precondition(String(validating: bytes[..<found.offset], as: UTF8.self) != nil)
        precondition(found.line == 1 + bytes[..<found.offset].filter { $0 == 0x0A }.count)
    }
    return 0
}
