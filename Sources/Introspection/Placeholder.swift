// Introspection: placeholder until the first real file lands.
enum IntrospectionModulePlaceholder {}
