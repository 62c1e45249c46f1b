// Progress on a terminal, silence in a pipe; and the JSON writer every --json/--output uses.
import Foundation
import ModelFiles

/// A one-line progress display on stderr, redrawn in place; does nothing when stderr is not a terminal.
final class TerminalProgress: @unchecked Sendable {
    let enabled: Bool
    private var lastDraw = Date.distantPast
    private let lock = NSLock()

    init() { enabled = isatty(2) != 0 }

    /// Draws `label [#####.....] 42% detail`, at most ten times a second unless forced.
    func update(_ label: String, fraction: Double, detail: String = "", force: Bool = false, bar showBar: Bool = true) {
        guard enabled else { return }
        lock.lock()
        defer { lock.unlock() }
        let now = Date()
        guard force || now.timeIntervalSince(lastDraw) > 0.1 else { return }
        lastDraw = now
        let f = min(1, max(0, fraction))
        let width = 24
        let filled = Int(f * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let line = showBar ? "\(label) [\(bar)] \(Int(f * 100))% \(detail)" : "\(label): \(detail)"
        FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8))
    }

    /// A status line that stays (on a terminal).
    func status(_ text: String) {
        guard enabled else { return }
        lock.lock()
        defer { lock.unlock() }
        FileHandle.standardError.write(Data(("\r\u{1B}[K" + text + "\n").utf8))
    }

    /// Runs `work` while a line `label: 12s` counts the seconds, for one long step that reports nothing itself
    /// (a forward pass over thousands of tokens); the line is cleared when it ends. Silent in a pipe.
    func ticking<T>(_ label: String, _ work: () throws -> T) rethrows -> T {
        guard enabled else { return try work() }
        let start = Date()
        update(label, fraction: 0, detail: formatDuration(0), force: true, bar: false)
        let timer = DispatchSource.makeTimerSource(queue: .global())
        timer.schedule(deadline: .now() + 1, repeating: 1)
        timer.setEventHandler { [self] in
            update(label, fraction: 0, detail: formatDuration(Date().timeIntervalSince(start)), force: true, bar: false)
        }
        timer.resume()
        defer {
            timer.cancel()
            finish()
        }
        return try work()
    }

    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}

enum JSONOutput {
    static func encode<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    /// Prints to stdout.
    static func print<T: Encodable>(_ value: T) throws {
        var data = try encode(value)
        data.append(0x0A)
        FileHandle.standardOutput.write(data)
    }

    /// Writes a file atomically (in place for a device, a FIFO or /dev/stdout), ending in a newline like a text file.
    static func write<T: Encodable>(_ value: T, to path: String) throws {
        var data = try encode(value)
        data.append(0x0A)
        try AtomicWrite.write(data, to: URL(fileURLWithPath: path))
    }
}

/// Seconds as "1m 05s" or "4.2s".
func formatDuration(_ s: Double) -> String {
    guard s.isFinite, s >= 0 else { return "?" }
    if s < 60 { return String(format: "%.1fs", s) }
    let m = Int(s) / 60, sec = Int(s) % 60
    return m < 60 ? String(format: "%dm %02ds", m, sec) : String(format: "%dh %02dm", m / 60, m % 60)
}
