#!/usr/bin/env bash
# Creates (or completes) the dev-only Python venv that the reference scripts in tools/ run in.
# Not for CI: CI only reads the fixtures these scripts wrote. Safe to run again; it installs what is missing.
#
# Why the pins: torch from PyPI pulls CUDA libraries that do not install here, so torch comes from the
# CPU wheel in /opt/wheels; peft and accelerate go in with --no-deps so that pip does not try to
# replace that torch.
set -euo pipefail

VENV=${LAZARUS_DEV_VENV:-/opt/lazarus-dev-venv}
WHEELS=${LAZARUS_WHEELS:-/opt/wheels}
TORCH_WHEEL="$WHEELS/torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl"

if [ ! -x "$VENV/bin/python" ]; then
  python3.11 -m venv "$VENV"
fi
PY="$VENV/bin/python"
PIP=("$PY" -m pip install --disable-pip-version-check --no-input)
export PIP_FIND_LINKS="$WHEELS"

have() { "$PY" -c "import $1" >/dev/null 2>&1; }

# torch's own dependencies first, then torch itself from the local wheel.
"${PIP[@]}" numpy filelock sympy networkx jinja2 fsspec typing-extensions
if ! have torch; then
  "${PIP[@]}" --no-deps "$TORCH_WHEEL"
fi

"${PIP[@]}" "transformers==5.24.0" tokenizers safetensors gguf \
  psutil pyyaml tqdm huggingface_hub
"${PIP[@]}" --no-deps "peft==0.21.2" accelerate

"$PY" - <<'EOF'
import torch, transformers, peft, tokenizers, gguf, safetensors, numpy
print("torch", torch.__version__, "| transformers", transformers.__version__, "| peft", peft.__version__,
      "| tokenizers", tokenizers.__version__, "| numpy", numpy.__version__)
EOF
