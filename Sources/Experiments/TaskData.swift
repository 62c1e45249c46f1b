// Writing the arithmetic data sets to disk in the layouts the trainer and a reader expect.
import Foundation
import ModelFiles
import Datasets

public enum TaskData {
    /// data/direct/{train,valid}.jsonl and data/cot/{train,valid}.jsonl as `{"text"}` records, plus
    /// data/test.jsonl of held-out `{"prompt","task","result"}` problems; every file written atomically.
    /// Also data/{direct,cot}_masked/{train,valid}.jsonl as `{"prompt","completion"}` split after "a op b =" (for
    /// `mask_prompt`), and data/{direct,cot}_answer/valid.jsonl split before the answer (the answer-token loss).
    public static func writeTrainingFolders(_ data: ArithmeticDataset, to folder: URL) throws {
        let fm = FileManager.default
        func write<T: Encodable>(_ records: [T], _ dir: String, _ file: String) throws {
            let url = folder.appendingPathComponent(dir)
            try fm.createDirectory(at: url, withIntermediateDirectories: true)
            try AtomicWrite.write(try JSONLines.encode(records), to: url.appendingPathComponent(file))
        }
        for (format, cot) in [("direct", false), ("cot", true)] {
            let text = { (p: ArithmeticProblem) in TextRecord(text: cot ? p.chainOfThoughtText : p.directText) }
            try write(data.train.map(text), format, "train.jsonl")
            try write(data.valid.map(text), format, "valid.jsonl")
            try write(data.train.map { $0.promptCompletion(chainOfThought: cot) }, format + "_masked", "train.jsonl")
            try write(data.valid.map { $0.promptCompletion(chainOfThought: cot) }, format + "_masked", "valid.jsonl")
            try write(data.valid.map { $0.answerSplit(chainOfThought: cot) }, format + "_answer", "valid.jsonl")
        }
        let test = data.test.map { ProbeRecord(prompt: $0.prompt(style: .aligned), task: $0.operation.rawValue, result: $0.result) }
        try AtomicWrite.write(try JSONLines.encode(test), to: folder.appendingPathComponent("test.jsonl"))
    }
}
