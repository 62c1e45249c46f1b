// Writing the arithmetic data sets to disk in the layouts the trainer and a reader expect.
import Foundation
import ModelFiles
import Datasets

public enum TaskData {
    /// data/direct/{train,valid}.jsonl and data/cot/{train,valid}.jsonl as `{"text"}` records, plus
    /// data/test.jsonl of held-out `{"prompt","task","result"}` problems; every file written atomically.
    public static func writeTrainingFolders(_ data: ArithmeticDataset, to folder: URL) throws {
        let fm = FileManager.default
        for (format, text) in [("direct", \ArithmeticProblem.directText), ("cot", \ArithmeticProblem.chainOfThoughtText)] {
            let dir = folder.appendingPathComponent(format)
            try fm.createDirectory(at: dir, withIntermediateDirectories: true)
            try AtomicWrite.write(try JSONLines.encode(data.train.map { TextRecord(text: $0[keyPath: text]) }), to: dir.appendingPathComponent("train.jsonl"))
            try AtomicWrite.write(try JSONLines.encode(data.valid.map { TextRecord(text: $0[keyPath: text]) }), to: dir.appendingPathComponent("valid.jsonl"))
        }
        let test = data.test.map { ProbeRecord(prompt: $0.prompt(style: .aligned), task: $0.operation.rawValue, result: $0.result) }
        try AtomicWrite.write(try JSONLines.encode(test), to: folder.appendingPathComponent("test.jsonl"))
    }
}
