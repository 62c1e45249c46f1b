// Kernels: placeholder until the first real file lands.
enum KernelsModulePlaceholder {}
