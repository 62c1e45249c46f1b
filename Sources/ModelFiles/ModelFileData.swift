// Opening a model file's bytes (memory-mapped where Foundation can) with errors that say what to do.
// Not a parser: the readers check the bytes themselves.
import Foundation

enum ModelFileData {
    static func read(_ url: URL, kind: String) throws -> Data {
        try read(url, kind: kind, ownMapping: false).data
    }

    /// With `ownMapping`, the bytes come from `MappedFile.map` where it can (then `mapped` is true and the
    /// caller may release pages it has decoded); otherwise, and as the fallback, from Foundation.
    static func read(_ url: URL, kind: String, ownMapping: Bool) throws -> (data: Data, mapped: Bool) {
        let name = url.path
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder) else {
            throw ModelFileError(file: name, reason: "no such file at \(url.path); check the path")
        }
        guard !isFolder.boolValue else {
            throw ModelFileError(file: name, reason: "is a folder, not a \(kind); give the path of the file itself")
        }
        if ownMapping, let data = MappedFile.map(url) { return (data, true) }
        do {
            return (try Data(contentsOf: url, options: .alwaysMapped), false)
        } catch {
            throw ModelFileError(file: name, reason: "cannot read the file (\(error.localizedDescription)); check its permissions")
        }
    }
}
