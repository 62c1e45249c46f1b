// Experiments: placeholder until the first real file lands.
enum ExperimentsModulePlaceholder {}
