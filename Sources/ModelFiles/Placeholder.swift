// ModelFiles: placeholder until the first real file lands.
enum ModelFilesModulePlaceholder {}
