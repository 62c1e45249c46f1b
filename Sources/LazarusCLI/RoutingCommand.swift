// `lazarus introspect routing`: what the routers of a mixture-of-experts model (Mixtral, GPT-OSS) choose at
// every layer and position of the prompts, and how each layer spreads its choices over the experts.
import ArgumentParser
import Foundation
import Introspection
import Transformer

struct RoutingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "routing",
        abstract: "Per layer and position of each prompt: the experts a mixture-of-experts model's router chooses, their weights and the router's distribution.")
    @OptionGroup var model: ModelOption
    @Option(help: ArgumentHelp(promptsHelp)) var prompts: String
    @OptionGroup var adapter: AdapterOption
    @OptionGroup var output: ReportOutput
    @Option(help: weightsHelp) var weights: WeightStorage = .f32

    func run() throws {
        let promptList = try PromptArgument.parse(prompts)
        let m = try model.load(weights: weights)
        let adapters = try adapter.load(for: m)
        let report = try RoutingIntrospection.collect(model: m.model, tokenizer: m.tokenizer, prompts: promptList,
                                                      sequences: promptList.map { m.tokenizer.encode($0) }, adapters: adapters,
                                                      modelName: m.source.path)
        if try output.emit(report) { return }
        print("\(report.architecture): \(report.experts) experts, \(report.expertsPerToken) per token (\(report.routing))")
        print("layer  entropy  share of choices per expert")
        for l in report.layers {
            print(l.name.padding(toLength: 7, withPad: " ", startingAt: 0) + String(format: "%.3f    ", l.meanRouterEntropy)
                  + l.expertShare.enumerated().map { "\($0.offset):\(String(format: "%.2f", $0.element))" }.joined(separator: " "))
        }
        for p in report.prompts {
            print("\nprompt \(p.prompt.debugDescription) (\(p.tokenIds.count) tokens): chosen experts per layer")
            for l in p.layers {
                print(l.name.padding(toLength: 7, withPad: " ", startingAt: 0)
                      + l.positions.map { "\($0.token.debugDescription)→" + $0.experts.map(String.init).joined(separator: ",") }.joined(separator: "  "))
            }
        }
        output.printWrote()
    }
}
