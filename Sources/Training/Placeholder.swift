// Training: placeholder until the first real file lands.
enum TrainingModulePlaceholder {}
