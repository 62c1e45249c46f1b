#!/usr/bin/env bash
# Builds one libFuzzer target (swiftc -sanitize=fuzzer,address) from the reader's sources and runs it for a
# fixed number of executions over its seed corpus. Usage: Fuzz/run.sh TARGET RUNS
#   TARGET: gguf | safetensors | tokenizer_json | hf_config | jsonl | experiment_config | tokenizer_roundtrip
# Leak detection is off: Foundation keeps process-lifetime caches that LeakSanitizer reports as leaks.
# A crash leaves its input in Fuzz/crashes/TARGET/ and makes the script exit non-zero.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
target="${1:?usage: Fuzz/run.sh TARGET RUNS}"
runs="${2:-20000}"

case "$target" in
    gguf|safetensors|hf_config) sources=("$root"/Sources/ModelFiles/*.swift) ;;
    tokenizer_json|tokenizer_roundtrip) sources=("$root"/Sources/Tokenizer/*.swift) ;;
    jsonl) sources=("$root"/Sources/Introspection/LabelledPrompts.swift "$root"/Sources/Introspection/IntrospectionError.swift) ;;
    *) echo "unknown fuzz target '$target'" >&2; exit 2 ;;
esac
entry="$here/Targets/$target.swift"
[ -f "$entry" ] || { echo "no entry point $entry" >&2; exit 2; }

build="$here/build"
mkdir -p "$build" "$here/crashes/$target" "$here/corpus-work/$target"
binary="$build/fuzz-$target"
if [ ! -x "$binary" ] || [ -n "$(find "${sources[@]}" "$entry" -newer "$binary" 2>/dev/null | head -1)" ]; then
    echo "building $binary" >&2
    swiftc -O -sanitize=fuzzer,address -parse-as-library -module-name FuzzTarget \
        "${sources[@]}" "$entry" -o "$binary" 2> >(grep -v "Cannot export local symbol" >&2)
fi
seeds="$here/corpus/$target"
mkdir -p "$seeds"
# New inputs go to corpus-work (git-ignored); the committed seeds stay as they are.
ASAN_OPTIONS="detect_leaks=0:${ASAN_OPTIONS:-}" "$binary" -runs="$runs" -detect_leaks=0 -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
    -artifact_prefix="$here/crashes/$target/" "$here/corpus-work/$target" "$seeds"
