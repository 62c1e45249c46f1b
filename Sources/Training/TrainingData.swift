// Training data: a folder with train.jsonl and valid.jsonl, one JSON object per line, tokenised into
// TrainingExamples. Two record shapes, as mlx-lm reads them: {"text"} (loss on every next token) and
// {"prompt","completion"} (loss on the completion only when the prompt is masked). Not a batcher.
//
// Choices, stated: like mlx-lm's text format, EOS is appended unless the tokens already end with it.
// mlx-lm wraps prompt/completion in the model's chat template; Lazarus has no chat templates, so the
// tokens are encode(prompt) + encode(completion) (its BOS dropped) + EOS, which keeps the prompt/completion
// boundary exact. As in mlx-lm, masking the prompt of a {"text"} file is an error, and a
// {"messages"} (chat) record is refused with the conversion to use instead.
import Foundation
import Tokenizer

public enum TrainingData {
    /// Files larger than this are refused before they are read (JSONL is untrusted input).
    public static let maximumFileBytes = 1 << 31

    public static func load(folder: URL, tokenizer: any TextTokenizer, maskPrompt: Bool) throws -> (train: [TrainingExample], valid: [TrainingExample]) {
        let bos = tokenizer.addsBosToken ? tokenizer.bosTokenId : nil
        return try load(folder: folder, encode: tokenizer.encode, bosTokenId: bos, eosTokenId: tokenizer.eosTokenId, maskPrompt: maskPrompt)
    }

    /// The same with any encoder; `bosTokenId` is the token `encode` puts first, if any.
    public static func load(folder: URL, encode: (String) -> [Int], bosTokenId: Int?, eosTokenId: Int?,
                            maskPrompt: Bool) throws -> (train: [TrainingExample], valid: [TrainingExample]) {
        let trainURL = folder.appendingPathComponent("train.jsonl")
        let validURL = folder.appendingPathComponent("valid.jsonl")
        guard FileManager.default.fileExists(atPath: trainURL.path) else {
            throw TrainingError.missingData(file: trainURL.path, reason: "not found; the data folder needs train.jsonl (and valid.jsonl for validation loss)")
        }
        let train = try examples(fileURL: trainURL, encode: encode, bosTokenId: bosTokenId, eosTokenId: eosTokenId, maskPrompt: maskPrompt)
        guard !train.isEmpty else { throw TrainingError.missingData(file: trainURL.path, reason: "holds no records") }
        let valid = FileManager.default.fileExists(atPath: validURL.path)
            ? try examples(fileURL: validURL, encode: encode, bosTokenId: bosTokenId, eosTokenId: eosTokenId, maskPrompt: maskPrompt)
            : []
        return (train, valid)
    }

    /// The examples of one JSONL file; blank lines are skipped.
    public static func examples(fileURL: URL, encode: (String) -> [Int], bosTokenId: Int?, eosTokenId: Int?,
                                maskPrompt: Bool) throws -> [TrainingExample] {
        let file = fileURL.path
        let size = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0
        guard size <= maximumFileBytes else {
            throw TrainingError.missingData(file: file, reason: "is \(size) bytes, more than the \(maximumFileBytes) bytes a data file may have")
        }
        let data: Data
        do { data = try Data(contentsOf: fileURL) } catch {
            throw TrainingError.missingData(file: file, reason: "cannot be read: \(error.localizedDescription)")
        }
        guard var text = String(data: data, encoding: .utf8) else {
            throw TrainingError.malformedData(file: file, line: 1, reason: "the file is not UTF-8 text", fix: "save it as UTF-8 JSON Lines")
        }
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }  // a UTF-8 byte-order mark some editors write
        var result: [TrainingExample] = []
        var firstKind: (kind: String, line: Int)? = nil
        // Lines end at byte 0x0A (a String split on "\n" would not split "\r\n", one Character).
        for (index, rawLine) in text.utf8.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
            let line = index + 1
            let trimmed = String(Substring(rawLine)).trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty { continue }
            func fail(_ reason: String, _ fix: String) -> TrainingError { .malformedData(file: file, line: line, reason: reason, fix: fix) }
            let object: Any
            do { object = try JSONSerialization.jsonObject(with: Data(trimmed.utf8)) } catch {
                throw fail("not valid JSON", "write one JSON object per line, e.g. {\"text\": \"...\"}")
            }
            guard let record = object as? [String: Any] else {
                throw fail("the line is JSON but not an object", "write one JSON object per line, e.g. {\"text\": \"...\"}")
            }
            func string(_ key: String) throws -> String {
                guard let s = record[key] as? String else { throw fail("\"\(key)\" is not a string", "give \"\(key)\" a string value") }
                return s
            }
            let kind: String
            var tokens: [Int]
            var firstTarget = 1
            if record["prompt"] != nil || record["completion"] != nil {
                guard record["prompt"] != nil, record["completion"] != nil else {
                    throw fail("a record with \"prompt\" or \"completion\" needs both", "add the missing key, or use {\"text\": ...}")
                }
                kind = "prompt/completion"
                let prompt = encode(try string("prompt"))
                var completion = encode(try string("completion"))
                if let bosTokenId, completion.first == bosTokenId { completion.removeFirst() }
                tokens = prompt + completion
                if maskPrompt { firstTarget = max(1, prompt.count) }
                if completion.isEmpty && eosTokenId == nil {
                    throw fail("the completion has no tokens", "give a non-empty completion")
                }
            } else if record["text"] != nil {
                kind = "text"
                tokens = encode(try string("text"))
                if maskPrompt {
                    throw fail("--mask-prompt needs {\"prompt\",\"completion\"} records; this is a {\"text\"} record",
                               "drop --mask-prompt, or split each record into prompt and completion")
                }
            } else if record["messages"] != nil {
                throw fail("chat records ({\"messages\"}) are not supported: Lazarus applies no chat template",
                           "write {\"prompt\": ..., \"completion\": ...} with the template already applied, or {\"text\": ...}")
            } else {
                throw fail("the object has neither \"text\" nor \"prompt\"/\"completion\"",
                           "write {\"text\": \"...\"} or {\"prompt\": \"...\", \"completion\": \"...\"}")
            }
            if let first = firstKind, first.kind != kind {
                throw fail("a \(kind) record in a file whose line \(first.line) is a \(first.kind) record", "use one record shape per file")
            }
            if firstKind == nil { firstKind = (kind, line) }
            if let eosTokenId, tokens.last != eosTokenId { tokens.append(eosTokenId) }
            guard tokens.count >= 2 else { throw fail("the record tokenises to \(tokens.count) token(s): nothing to predict", "give it more text") }
            result.append(TrainingExample(tokens: tokens, lossMask: tokens.indices.map { $0 >= firstTarget }))
        }
        return result
    }
}
