// Opening a model file's bytes (memory-mapped where Foundation can) with errors that say what to do.
// Not a parser: the readers check the bytes themselves.
import Foundation

enum ModelFileData {
    static func read(_ url: URL, kind: String) throws -> Data {
        let name = url.path
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder) else {
            throw ModelFileError(file: name, reason: "no such file at \(url.path); check the path")
        }
        guard !isFolder.boolValue else {
            throw ModelFileError(file: name, reason: "is a folder, not a \(kind); give the path of the file itself")
        }
        do {
            return try Data(contentsOf: url, options: .alwaysMapped)
        } catch {
            throw ModelFileError(file: name, reason: "cannot read the file (\(error.localizedDescription)); check its permissions")
        }
    }
}
