// The model's context length as a limit every entry point checks before its forward pass: positions past
// it were never trained (RoPE angles the model has not seen), so results there would be silently wrong.
// Not an extension of the context (no RoPE scaling is applied here).

extension ModelConfig {
    /// Refuses `promptTokens` plus `newTokens` generated after them when they exceed `contextLength`.
    /// `what` names the sequence in the error ("the prompt", "prompt 3").
    public func checkContext(promptTokens: Int, newTokens: Int = 0, what: String = "the prompt") throws {
        let (needed, overflow) = promptTokens.addingReportingOverflow(max(0, newTokens))
        guard overflow || needed > contextLength else { return }
        throw ModelError.contextTooLong(what: what, promptTokens: promptTokens, newTokens: newTokens, contextLength: contextLength)
    }
}
