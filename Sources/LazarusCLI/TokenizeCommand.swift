// `lazarus tokenize MODEL TEXT`: the ids the model's tokenizer gives, and their pieces.
import ArgumentParser
import Foundation
import Transformer

struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tokenize", abstract: "Token ids and pieces of a text.",
                                                    discussion: dashNote)
    @OptionGroup var model: ModelArgument
    @Argument(help: "The text to tokenize (after '--' if it starts with '-').") var text: String
    @OptionGroup var format: JSONFlag

    struct Output: Encodable { var ids: [Int]; var pieces: [String] }

    func run() throws {
        let m = try model.load()
        let ids = m.tokenizer.encode(text)
        let pieces = ids.map { m.tokenizer.piece($0) }
        if format.json { return try JSONOutput.print(Output(ids: ids, pieces: pieces)) }
        print("\(ids.count) tokens")
        for (id, p) in zip(ids, pieces) { print(String(id).padding(toLength: 8, withPad: " ", startingAt: 0) + p.debugDescription) }
    }
}
