// The benchmark suite lands with the LoRA trainer it times; this keeps the target buildable until then.
enum BenchmarksPlaceholder {}
