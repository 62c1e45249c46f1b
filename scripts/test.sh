#!/usr/bin/env bash
# The test command: installs what the tests need (OpenBLAS, the default model, Gemma 3 for its tokenizer
# and model tests), then runs every test in release mode (numeric code is tested as it runs).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
LAZARUS_SKIP_BUILD=1 scripts/bootstrap.sh --gemma
export LAZARUS_DEFAULT_MODEL="$root/models/SmolLM2-135M-Instruct.Q4_1.gguf"
export LAZARUS_GEMMA_MODEL="$root/models/gemma-3-270m-q4_k_m.gguf"
swift build -c release --build-tests
swift test -c release --skip-build "$@"
