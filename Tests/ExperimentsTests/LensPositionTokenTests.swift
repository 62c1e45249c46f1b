// On the default model: the flagship's lens positions are the tokens they are named after, and the word forms
// resolve to the ids the report prints (bare forms: multiply 48859, add 2104, sub… 4103).
import Datasets
import Experiments
import Foundation
import Testing
import Transformer

@Suite struct LensPositionTokenTests {
    static let model: Result<LoadedModel, Error> = Result { try ModelLoader.load("default") }

    @Test func positionsAreTheNamedTokensAndPrefixesOfTheTrainingText() throws {
        let tokenizer = try Self.model.get().tokenizer
        let targets = try LensPositions.targetTokens(tasks: ["multiply", "add", "subtract"], tokenizer: tokenizer, style: .aligned)
        #expect(targets.primaryForm == "spaced")
        #expect(targets.forms["multiply"]?["bare"]?.id == 48859)
        #expect(targets.forms["add"]?["bare"]?.id == 2104)
        #expect(targets.forms["subtract"]?["bare"]?.id == 4103)
        for task in ["multiply", "add", "subtract"] {
            let spaced = try #require(targets.forms[task]?["spaced"])
            #expect(spaced.id == tokenizer.encode(" " + task).first && spaced.id != targets.forms[task]?["bare"]?.id)
        }
        for op in ArithmeticOperation.allCases {
            let p = ArithmeticProblem(operation: op, a: 12, b: 7)
            let cot = tokenizer.encode(p.chainOfThoughtText)
            let direct = tokenizer.encode(p.directText)
            func ids(_ position: String) -> [Int] { tokenizer.encode(LensPositions.prefix(p, position: position, style: .aligned)) }
            // Each position's text is a prefix of the CoT text in tokens, so its last state is the state inside that text.
            for position in LensPositions.positionNames {
                let prefix = ids(position)
                #expect(Array(cot.prefix(prefix.count)) == prefix, "\(op) \(position)")
            }
            #expect(tokenizer.piece(ids("prompt_end").last!) == tokenizer.piece(tokenizer.encode(" =").last!))
            #expect(tokenizer.decode([ids("operator").last!]) == " " + op.symbol)
            let afterName = ids("after_opname")
            #expect(tokenizer.decode([afterName.last!]) == ":")
            // Before ":" stand the spaced operation word's tokens, the first of them the id the lens reads for it.
            let word = tokenizer.encode(" " + op.rawValue)
            #expect(Array(afterName.dropLast().suffix(word.count)) == word && word.first == targets.forms[op.rawValue]?["spaced"]?.id)
            // The next token in the CoT text after "opname:" is the space before the answer, then its first digit.
            #expect(tokenizer.decode([cot[afterName.count]]) == " ")
            // The yardstick's positions: the token before the answer's first digit, in each format.
            let directControl = tokenizer.encode(LensPositions.controlPrefix(p, chainOfThought: false))
            #expect(Array(direct.prefix(directControl.count)) == directControl && tokenizer.decode([direct[directControl.count]]) == String(String(p.result).first!))
            let cotControl = tokenizer.encode(LensPositions.controlPrefix(p, chainOfThought: true))
            #expect(Array(cot.prefix(cotControl.count)) == cotControl && tokenizer.decode([cot[cotControl.count]]) == String(String(p.result).first!))
        }
    }
}
