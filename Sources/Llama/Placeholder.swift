// Llama: placeholder until the first real file lands.
enum LlamaModulePlaceholder {}
