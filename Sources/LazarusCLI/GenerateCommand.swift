// `lazarus generate MODEL PROMPT`: a greedy continuation (KV cache), optionally with a LoRA adapter.
import ArgumentParser
import Foundation
import Transformer

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "generate", abstract: "Greedy continuation of a prompt.")
    @Argument(help: "A .gguf file, a Hugging Face folder, or 'default'.") var model: String
    @Argument(help: "The prompt.") var prompt: String
    @Option(help: "Most new tokens.") var maxTokens = 32
    @Flag(help: "Stop at the first newline.") var stopAtNewline = false
    @Option(help: "A LoRA adapter folder (PEFT format).") var adapter: String?
    @Flag(help: "Print JSON: {\"prompt_ids\", \"generated_ids\", \"text\"}.") var json = false

    struct Output: Encodable { var prompt_ids: [Int]; var generated_ids: [Int]; var text: String }

    func validate() throws {
        guard maxTokens > 0 else { throw ValidationError("--max-tokens must be positive") }
    }

    func run() throws {
        let m = try ModelLoader.load(model)
        let adapters = try adapter.map { try AdapterLoading.load($0, for: m) }
        let ids = m.tokenizer.encode(prompt)
        guard !ids.isEmpty else { throw ValidationError("the prompt is empty") }
        let out = try TerminalProgress().ticking("generating after a \(ids.count)-token prompt") {
            try m.model.generateGreedy(prompts: [ids], adapters: adapters,
                                       options: GenerationOptions(maxTokens: maxTokens, stopTokens: m.stopTokens(atNewline: stopAtNewline)))[0]
        }
        let text = m.tokenizer.decode(out)
        if json { return try JSONOutput.print(Output(prompt_ids: ids, generated_ids: out, text: text)) }
        print(prompt + text)
    }
}
