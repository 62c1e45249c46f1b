// A stable fingerprint of a configuration: FNV-1a (64-bit) over canonical JSON (sorted keys).
// It names cached stage outputs, so the same config finds them again and a changed one does not.
import Foundation

public enum ConfigHash {
    public static func of<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(value)) ?? Data()
        return of(data)
    }

    public static func of(_ data: Data) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in data { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return String(h, radix: 16).leftPadded(to: 16)
    }
}

extension String {
    func leftPadded(to n: Int, with c: Character = "0") -> String {
        count >= n ? self : String(repeating: c, count: n - count) + self
    }
}
