// The JSONL loader: token layout, loss masks, and errors that name file:line and the fix.
import Foundation
import Kernels
import Transformer
import Testing
import Training

/// A character-level stand-in for the BPE tokenizer: BOS 1 first, each scalar one id in 3..<43; EOS is 2.
func toyEncode(_ s: String) -> [Int] { [1] + s.unicodeScalars.map { Int($0.value) % 40 + 3 } }

func temporaryFolder(_ files: [String: String]) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("lazarus-training-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    for (name, text) in files { try Data(text.utf8).write(to: url.appendingPathComponent(name)) }
    return url
}

@Suite struct TrainingDataTests {
    func load(_ files: [String: String], mask: Bool = false) throws -> (train: [TrainingExample], valid: [TrainingExample]) {
        try TrainingData.load(folder: try temporaryFolder(files), encode: toyEncode, bosTokenId: 1, eosTokenId: 2, maskPrompt: mask)
    }

    @Test func textRecordsCountEveryNextTokenAndEndWithEOS() throws {
        let data = try load(["train.jsonl": "{\"text\": \"abc\"}\n\n{\"text\": \"hello\"}\n", "valid.jsonl": "{\"text\": \"xy\"}"])
        #expect(data.train.count == 2 && data.valid.count == 1)
        #expect(data.train[0].tokens == toyEncode("abc") + [2])
        #expect(data.train[0].lossMask == [false, true, true, true, true])
        #expect(data.valid[0].targetCount == 3)
        let windows = try load(["train.jsonl": "\u{FEFF}{\"text\": \"ab\"}\r\n{\"text\": \"cd\"}\r\n"])
        #expect(windows.train.map(\.tokens) == [toyEncode("ab") + [2], toyEncode("cd") + [2]])
    }

    @Test func maskedPromptCountsOnlyCompletionTokens() throws {
        let line = "{\"prompt\": \"Q: 2+2?\", \"completion\": \" 4\"}"
        let masked = try load(["train.jsonl": line], mask: true).train[0]
        let prompt = toyEncode("Q: 2+2?")
        #expect(masked.tokens == prompt + Array(toyEncode(" 4").dropFirst()) + [2])
        #expect(masked.lossMask == masked.tokens.indices.map { $0 >= prompt.count })
        #expect(masked.targetCount == 3)  // " ", "4", EOS
        let unmasked = try load(["train.jsonl": line], mask: false).train[0]
        #expect(unmasked.tokens == masked.tokens)
        #expect(unmasked.targetCount == masked.tokens.count - 1)
    }

    @Test func malformedLinesNameFileLineAndFix() throws {
        func message(_ files: [String: String], mask: Bool = false) -> String {
            do { _ = try load(files, mask: mask); return "no error" } catch { return "\(error)" }
        }
        let bad = message(["train.jsonl": "{\"text\": \"ok\"}\n\n{\"text\": \"unterminated}\n"])
        #expect(bad.contains("train.jsonl:3:") && bad.contains("not valid JSON") && bad.contains("one JSON object per line"))
        #expect(message(["train.jsonl": "{\"text\": 5}"]).contains("train.jsonl:1: \"text\" is not a string"))
        #expect(message(["train.jsonl": "{\"prompt\": \"a\"}"]).contains("needs both"))
        #expect(message(["train.jsonl": "[1, 2]"]).contains("not an object"))
        #expect(message(["train.jsonl": "{\"messages\": []}"]).contains("chat records"))
        #expect(message(["train.jsonl": "{\"text\": \"a\"}\n{\"prompt\": \"a\", \"completion\": \"b\"}"]).contains("train.jsonl:2: a prompt/completion record in a file whose line 1 is a text record"))
        #expect(message(["train.jsonl": "{\"text\": \"a\"}"], mask: true).contains("--mask-prompt needs"))
        #expect(message(["train.jsonl": "{\"text\": \"ok\"}", "valid.jsonl": "{\"txt\": \"a\"}"]).contains("valid.jsonl:1: the object has neither"))
        #expect(message([:]).contains("train.jsonl: not found"))
        #expect(message(["train.jsonl": "\n\n"]).contains("holds no records"))
    }

    @Test func maskedPositionsDoNotCountInTheLoss() throws {
        let model = TransformerModel.random(config: TransformerModel.tinyTestConfig, seed: 4)
        let adapters = LoRAInitialisation.adapters(config: model.config, settings: LoRASettings(rank: 2, alpha: 4), seed: 1)
        let tokens = [1, 7, 9, 30, 2, 11, 2]
        let mask = [false, false, false, false, true, true, true]
        let r = try LoRAGradients.lossAndGradients(model: model, adapters: adapters, batch: [TrainingExample(tokens: tokens, lossMask: mask)])
        #expect(r.targetCount == 3)
        // By hand: mean of −log p(tokens[t] | tokens[..<t]) over t = 4, 5, 6 only.
        let logits = try model.forward([tokens], adapters: adapters, logits: .allPositions).logits
        var expected = 0.0
        for t in 4...6 {
            let row = Array(logits.values[((t - 1) * logits.cols)..<(t * logits.cols)])
            expected += Softmax.logSumExp(row) - Double(row[tokens[t]])
        }
        #expect(abs(r.loss - expected / 3) < 1e-5)
        // A masked-out last token is context for nothing and a target of nothing: changing it changes no loss.
        let shortMask = [false, false, false, false, true, true, false]
        var other = tokens
        other[6] = 40
        let a = try LoRAGradients.lossAndGradients(model: model, adapters: adapters, batch: [TrainingExample(tokens: tokens, lossMask: shortMask)])
        let b = try LoRAGradients.lossAndGradients(model: model, adapters: adapters, batch: [TrainingExample(tokens: other, lossMask: shortMask)])
        #expect(a.targetCount == 2 && a.loss == b.loss)
        let r3 = try LoRAGradients.lossSum(model: model, adapters: adapters, batch: [TrainingExample(tokens: tokens, lossMask: mask)])
        #expect(abs(r3.sum / 3 - r.loss) < 1e-5)
    }
}

@Suite struct TrainingDataBadFileTests {
    func message(_ bytes: [UInt8], name: String = "train.jsonl") -> String {
        do {
            let folder = try temporaryFolder([:])
            if name != "train.jsonl" { try Data("{\"text\": \"ok\"}\n".utf8).write(to: folder.appendingPathComponent("train.jsonl")) }
            try Data(bytes).write(to: folder.appendingPathComponent(name))
            _ = try TrainingData.load(folder: folder, encode: toyEncode, bosTokenId: 1, eosTokenId: 2, maskPrompt: false)
            return "no error"
        } catch { return "\(error)" }
    }

    @Test func badUTF8AndTruncatedLinesNameFileAndLine() {
        let invalid = message([0x7B, 0x22, 0x74, 0x65, 0x78, 0x74, 0x22, 0x3A, 0x22, 0xC3, 0x28, 0x22, 0x7D])
        #expect(invalid.hasSuffix("train.jsonl:1: byte 10 (0xC3) is not UTF-8 text (save the file as UTF-8 JSON Lines)"), "\(invalid)")
        #expect(message([0xFF, 0xFE], name: "valid.jsonl").hasSuffix("valid.jsonl:1: byte 1 (0xFF) is not UTF-8 text (save the file as UTF-8 JSON Lines)"))
        // The bad byte on line 8 is reported on line 8, not as the whole file.
        let eighth = message(Array(String(repeating: "{\"text\": \"fine\"}\n", count: 7).utf8) + [0x7B, 0x22, 0x74, 0x22, 0x3A, 0x22, 0xFF, 0x22, 0x7D, 0x0A])
        #expect(eighth.hasSuffix("train.jsonl:8: byte 7 (0xFF) is not UTF-8 text (save the file as UTF-8 JSON Lines)"), "\(eighth)")
        // The last line cut off mid-record, as a killed writer leaves it.
        let cut = message(Array("{\"text\": \"a\"}\n{\"text\": \"b\"}\n{\"text\": \"c".utf8))
        #expect(cut.contains("train.jsonl:3: not valid JSON"), "\(cut)")
        let cutObject = message(Array("{\"text\": \"a\"}\r\n{\"prompt\": \"b\", \"completion\": ".utf8))
        #expect(cutObject.contains("train.jsonl:2: not valid JSON"), "\(cutObject)")
        #expect(message(Array("{\"text\": \"a\"}\n\"text\"\n".utf8)).contains("train.jsonl:2: not valid JSON"))
        #expect(message(Array("{\"text\": \"a\"}\n[\"text\"]\n".utf8)).contains("train.jsonl:2: the line is JSON but not an object"))
        #expect(message(Array("{\"text\": null}".utf8)).contains("train.jsonl:1: \"text\" is not a string"))
        #expect(message(Array("{\"prompt\": \"a\", \"completion\": [\"b\"]}".utf8)).contains("train.jsonl:1: \"completion\" is not a string"))
        #expect(message(Array("{\"text\": \"a\"}\n{}\n".utf8)).contains("train.jsonl:2: the object has neither"))
    }
}
