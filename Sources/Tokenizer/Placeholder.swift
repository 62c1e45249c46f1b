// Tokenizer: placeholder until the first real file lands.
enum TokenizerModulePlaceholder {}
