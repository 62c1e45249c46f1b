#!/usr/bin/env bash
# Writes a "Lazarus adapter loads in PEFT" fixture: trains a small LoRA adapter with the built `lazarus`
# CLI, records what Lazarus reads through it, and has PEFT apply the saved files to the transformers model
# of the same weights. Dev-only (needs the release build, the dev venv: tools/setup_dev_venv.sh, and for
# `default` the default model).
#
#   tools/make_lazarus_adapter.sh [default|gemma3|qwen2|mixtral_router|gpt_oss_router]     (default: default)
#
# Presets (model; adapter; training):
# - default: the default model; r 8, alpha 16, q_proj + v_proj; 10 AdamW steps at 2e-3 on 16 worked-arithmetic
#   texts. Writes lazarus_adapter_r8/ (~1.8 MB), lazarus_adapter_logprobs.json, lazarus_peft_reference.json.
# - gemma3, qwen2: Tests/TransformerTests/Fixtures/families/tiny_{gemma3,qwen2}/; r 4, alpha 8, all seven
#   projections; 40 steps at 1e-2 on 46 such texts (the 16 and 30 more from a seeded generator). Writes
#   lazarus_adapter_tiny_NAME/, lazarus_adapter_logprobs_tiny_NAME.json, lazarus_peft_reference_tiny_NAME.json.
# - mixtral_router, gpt_oss_router: Tests/TransformerTests/Fixtures/moe/tiny_{mixtral,gpt_oss}/; r 4, alpha 8,
#   q_proj + v_proj + the router (PEFT reads it as target_parameters); the same 40 steps on the same 46 texts,
#   cut to the tiny models' context of 64 tokens.
#   Writes lazarus_adapter_tiny_NAME/ and the two JSON files as above.
#
# Into Tests/IntrospectionTests/Fixtures/:
# - the adapter folder: adapter_model.safetensors + adapter_config.json exactly as `lazarus train lora` saved
#   them, except base_model_name_or_path, which names the model file or folder instead of a path on this machine.
# - the log-probs file: `lazarus introspect logit-lens --adapter … --layers <last> --top-k 20`, whose final_top
#   holds Lazarus's adapted next-token log-probabilities at the last prompt token.
# - the PEFT reference: tools/peft_reference.py --model <model> on that folder (PEFT's base and adapted logits).
# Tests/IntrospectionTests/PEFTReferenceTests.swift compares the three.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=${LAZARUS_DEV_VENV:-/opt/lazarus-dev-venv}/bin/python
LAZARUS=${LAZARUS_BIN:-$ROOT/.build/release/lazarus}
FIXTURES=$ROOT/Tests/IntrospectionTests/Fixtures
FAMILIES=$ROOT/Tests/TransformerTests/Fixtures/families
PROMPTS=("12 + 7 =" "9 * 6 =" "45 - 18 =" "The capital of France is")

PRESET=${1:-default}
case "$PRESET" in
  default)
    MODEL=default; PEFT_MODEL=${LAZARUS_DEFAULT_MODEL:-$ROOT/models/SmolLM2-135M-Instruct.Q4_1.gguf}
    SUFFIX=""; NAME=lazarus_adapter_r8; LAST=L29
    TRAIN=(--rank 8 --alpha 16 --targets q_proj,v_proj --steps 10 --learning-rate 2e-3); EXTRA_TEXTS=0 ;;
  gemma3|qwen2)
    MODEL=$FAMILIES/tiny_$PRESET; PEFT_MODEL=$MODEL
    SUFFIX=_tiny_$PRESET; NAME=lazarus_adapter$SUFFIX
    LAST=L$(( $("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["num_hidden_layers"])' "$MODEL/config.json") - 1 ))
    TRAIN=(--rank 4 --alpha 8 --targets all --steps 40 --learning-rate 1e-2 --eval-every 10); EXTRA_TEXTS=30 ;;
  mixtral_router|gpt_oss_router)
    MODEL=$ROOT/Tests/TransformerTests/Fixtures/moe/tiny_${PRESET%_router}; PEFT_MODEL=$MODEL
    SUFFIX=_tiny_$PRESET; NAME=lazarus_adapter$SUFFIX
    LAST=L$(( $("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["num_hidden_layers"])' "$MODEL/config.json") - 1 ))
    TRAIN=(--rank 4 --alpha 8 --targets q_proj,v_proj,router --steps 40 --learning-rate 1e-2 --eval-every 10 --max-seq-length 64); EXTRA_TEXTS=30 ;;
  *) echo "unknown preset '$PRESET': use default, gemma3, qwen2, mixtral_router or gpt_oss_router" >&2; exit 64 ;;
esac
OUT=$FIXTURES/$NAME

[ -x "$LAZARUS" ] || { echo "no $LAZARUS: run 'swift build -c release' first" >&2; exit 1; }
[ -x "$PY" ] || { echo "no dev venv at $PY: run tools/setup_dev_venv.sh" >&2; exit 1; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/data"

# Worked ("chain of thought") arithmetic: the operation named, the steps, the answer. The fixed pairs first
# (the default preset's 16 texts), then EXTRA more from a seeded generator; the last 3 texts are validation.
"$PY" - "$WORK/data" "$EXTRA_TEXTS" <<'EOF'
import json, os, random, sys
extra = int(sys.argv[2])
sums = [(23, 45), (31, 17), (54, 28), (66, 19), (12, 70), (48, 36)]
products = [(7, 8), (9, 6), (12, 5), (4, 13)]
rng = random.Random(2024)
for _ in range(extra // 3):
    sums.append((rng.randint(10, 79), rng.randint(10, 79)))
    products.append((rng.randint(2, 13), rng.randint(2, 13)))
rows = []
for a, b in sums:
    rows.append(f"Q: {a} + {b} = ?\nA: add. {a // 10 * 10} + {b // 10 * 10} = {a // 10 * 10 + b // 10 * 10}, "
                f"{a % 10} + {b % 10} = {a % 10 + b % 10}, so {a} + {b} = {a + b}.")
    rows.append(f"Q: {a + b} - {b} = ?\nA: subtract. {a + b} - {b // 10 * 10} = {a + b - b // 10 * 10}, "
                f"then - {b % 10} gives {a}, so {a + b} - {b} = {a}.")
for a, b in products:
    rows.append(f"Q: {a} * {b} = ?\nA: multiply. {a} * {b} = {a * b}, so {a} * {b} = {a * b}.")
for name, part in (("train.jsonl", rows[:-3]), ("valid.jsonl", rows[-3:])):
    with open(os.path.join(sys.argv[1], name), "w") as f:
        for text in part:
            f.write(json.dumps({"text": text}) + "\n")
print(f"{len(rows)} texts", file=sys.stderr)
EOF

"$LAZARUS" train lora --model "$MODEL" --data "$WORK/data" "${TRAIN[@]}" \
  --batch-size 4 --seed 7 --report-every 5 --adapter-path "$WORK/adapter"
cat "$WORK/adapter/metrics.jsonl" 2>/dev/null || true

rm -rf "$OUT"
mkdir -p "$OUT"
cp "$WORK/adapter/adapter_model.safetensors" "$WORK/adapter/adapter_config.json" "$OUT/"
"$PY" - "$OUT/adapter_config.json" <<'EOF'
import json, os, sys
path = sys.argv[1]
with open(path) as f:
    config = json.load(f)
config["base_model_name_or_path"] = os.path.basename(os.path.normpath(config["base_model_name_or_path"]))
with open(path, "w") as f:
    json.dump(config, f, indent=2, sort_keys=True)
    f.write("\n")
EOF

JOINED=$(IFS='|'; echo "${PROMPTS[*]}")
"$LAZARUS" introspect logit-lens --model "$MODEL" --adapter "$OUT" --prompts "$JOINED" --layers "$LAST" --top-k 20 \
  --output "$WORK/lens.json" > /dev/null
"$PY" - "$WORK/lens.json" "$FIXTURES/lazarus_adapter_logprobs$SUFFIX.json" "$LAST" <<'EOF'
import json, os, sys
with open(sys.argv[1]) as f:
    report = json.load(f)
report["model"] = os.path.basename(os.path.normpath(report["model"]))
report["generator"] = f"tools/make_lazarus_adapter.sh (lazarus introspect logit-lens --layers {sys.argv[3]} --top-k 20)"
with open(sys.argv[2], "w") as f:
    json.dump(report, f, ensure_ascii=False, separators=(",", ":"))
    f.write("\n")
EOF

PROMPT_ARGS=()
for p in "${PROMPTS[@]}"; do PROMPT_ARGS+=(--prompt "$p"); done
"$PY" "$ROOT/tools/peft_reference.py" --model "$PEFT_MODEL" "$OUT" "$FIXTURES/lazarus_peft_reference$SUFFIX.json" "${PROMPT_ARGS[@]}"
du -sh "$OUT"
