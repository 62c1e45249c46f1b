// `lazarus generate MODEL PROMPT`: a greedy continuation (KV cache), optionally with a LoRA adapter.
import ArgumentParser
import Foundation
import Transformer

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "generate", abstract: "Greedy continuation of a prompt.",
                                                    discussion: dashNote)
    @OptionGroup var model: ModelArgument
    @Argument(help: "The prompt (after '--' if it starts with '-').") var prompt: String
    @Option(help: "Most new tokens.") var maxTokens = 32
    @Flag(help: "Stop at the first newline.") var stopAtNewline = false
    @Option(help: weightsHelp) var weights: WeightStorage = .native
    @OptionGroup var adapter: AdapterOption
    @OptionGroup var format: JSONFlag

    struct Output: Encodable { var prompt_ids: [Int]; var generated_ids: [Int]; var text: String }

    func validate() throws {
        guard maxTokens > 0 else { throw ValidationError("--max-tokens must be positive") }
    }

    func run() throws {
        let m = try model.load(weights: weights)
        let adapters = try adapter.load(for: m)
        let ids = m.tokenizer.encode(prompt)
        guard !ids.isEmpty else { throw ValidationError("the prompt is empty") }
        let out = try TerminalProgress().ticking("generating after a \(ids.count)-token prompt") {
            try m.model.generateGreedy(prompts: [ids], adapters: adapters,
                                       options: GenerationOptions(maxTokens: maxTokens, stopTokens: m.stopTokens(atNewline: stopAtNewline)))[0]
        }
        let text = m.tokenizer.decode(out)
        if format.json { return try JSONOutput.print(Output(prompt_ids: ids, generated_ids: out, text: text)) }
        print(prompt + text)
    }
}
