#!/usr/bin/env bash
# Builds one libFuzzer target (swiftc -sanitize=fuzzer,address) from the reader's sources and runs it for a
# fixed number of executions over its seed corpus. Usage: Fuzz/run.sh TARGET RUNS
#   TARGET: gguf | moe_gguf | safetensors | tokenizer_json | hf_config | jsonl | experiment_config | tokenizer_roundtrip | sentencepiece_gguf | utf8_check
# Leak detection is off: Foundation keeps process-lifetime caches that LeakSanitizer reports as leaks.
# A crash leaves its input in Fuzz/crashes/TARGET/ and makes the script exit non-zero.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
target="${1:?usage: Fuzz/run.sh TARGET RUNS}"
runs="${2:-20000}"

case "$target" in
    gguf|moe_gguf|safetensors|hf_config) sources=("$root"/Sources/ModelFiles/*.swift) ;;
    tokenizer_json|tokenizer_roundtrip|sentencepiece_gguf) sources=("$root"/Sources/Tokenizer/*.swift) ;;
    jsonl) sources=("$root"/Sources/Introspection/LabelledPrompts.swift "$root"/Sources/Introspection/IntrospectionError.swift
                    "$root"/Sources/ModelFiles/UTF8Check.swift "$root"/Sources/ModelFiles/ModelFileError.swift) ;;
    utf8_check) sources=("$root"/Sources/ModelFiles/UTF8Check.swift "$root"/Sources/ModelFiles/ModelFileError.swift) ;;
    experiment_config) sources=("$root"/Sources/Experiments/ExperimentConfig.swift "$root"/Sources/Experiments/ExperimentError.swift) ;;
    *) echo "unknown fuzz target '$target'" >&2; exit 2 ;;
esac
entry="$here/Targets/$target.swift"
[ -f "$entry" ] || { echo "no entry point $entry" >&2; exit 2; }

build="$here/build"
mkdir -p "$build" "$here/crashes/$target" "$here/corpus-work/$target"
binary="$build/fuzz-$target"
extra=()
if [ "$target" = experiment_config ]; then
    # The config reader imports Yams: build its sources (Swift, and libyaml as CYaml) instrumented too, so the
    # fuzzer sees coverage inside the YAML parser. SwiftPM's checkout of the package is the source.
    yams="$root/.build/checkouts/Yams/Sources"
    [ -d "$yams/Yams" ] || { echo "no Yams sources in $yams: run 'swift build' once to fetch them" >&2; exit 2; }
    lib="$build/yams"
    if [ ! -f "$lib/Yams.o" ] || [ -n "$(find "$yams" -newer "$lib/Yams.o" -name '*.[ch]' -o -newer "$lib/Yams.o" -name '*.swift' 2>/dev/null | head -1)" ]; then
        echo "building Yams for fuzzing in $lib" >&2
        mkdir -p "$lib"
        for c in "$yams"/CYaml/src/*.c; do
            clang -O1 -g -fsanitize=fuzzer-no-link,address -DYAML_DECLARE_EXPORT -I "$yams/CYaml/include" -c "$c" -o "$lib/cyaml-$(basename "$c" .c).o"
        done
        swiftc -O -sanitize=fuzzer,address -parse-as-library -wmo -D SWIFT_PACKAGE -module-name Yams -I "$yams/CYaml/include" \
            -emit-module -emit-module-path "$lib/Yams.swiftmodule" -c "$yams"/Yams/*.swift -o "$lib/Yams.o"
    fi
    extra=(-I "$lib" -I "$yams/CYaml/include" "$lib"/*.o)
fi
if [ ! -x "$binary" ] || [ -n "$(find "${sources[@]}" "$entry" -newer "$binary" 2>/dev/null | head -1)" ]; then
    echo "building $binary" >&2
    swiftc -O -sanitize=fuzzer,address -parse-as-library -module-name FuzzTarget \
        "${sources[@]}" "$entry" "${extra[@]}" -o "$binary" 2> >(grep -v "Cannot export local symbol" >&2)
fi
seeds="$here/corpus/$target"
mkdir -p "$seeds"
# New inputs go to corpus-work (git-ignored); the committed seeds stay as they are.
ASAN_OPTIONS="detect_leaks=0:${ASAN_OPTIONS:-}" "$binary" -runs="$runs" -detect_leaks=0 -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
    -artifact_prefix="$here/crashes/$target/" "$here/corpus-work/$target" "$seeds"
