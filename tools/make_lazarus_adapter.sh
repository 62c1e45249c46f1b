#!/usr/bin/env bash
# Writes the "Lazarus adapter loads in PEFT" fixture: trains a small LoRA adapter with the built `lazarus`
# CLI on the default model, records what Lazarus reads through it, and has PEFT apply the saved files.
# Dev-only (needs the release build, the default model and the dev venv: tools/setup_dev_venv.sh).
#
# Into Tests/IntrospectionTests/Fixtures/:
# - lazarus_adapter_r8/: adapter_model.safetensors + adapter_config.json exactly as `lazarus train lora`
#   saved them (r 8, alpha 16, q_proj + v_proj, 10 AdamW steps on a few worked-arithmetic texts), except
#   base_model_name_or_path, which names the model file instead of a path on this machine. ~1.8 MB.
# - lazarus_adapter_logprobs.json: `lazarus introspect logit-lens --adapter … --layers L29 --top-k 20`,
#   whose final_top holds Lazarus's adapted next-token log-probabilities at the last prompt token.
# - lazarus_peft_reference.json: tools/peft_reference.py on that folder (PEFT's base and adapted logits).
# Tests/IntrospectionTests/PEFTReferenceTests.swift compares the three.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=${LAZARUS_DEV_VENV:-/opt/lazarus-dev-venv}/bin/python
LAZARUS=${LAZARUS_BIN:-$ROOT/.build/release/lazarus}
FIXTURES=$ROOT/Tests/IntrospectionTests/Fixtures
OUT=$FIXTURES/lazarus_adapter_r8
PROMPTS=("12 + 7 =" "9 * 6 =" "45 - 18 =" "The capital of France is")

[ -x "$LAZARUS" ] || { echo "no $LAZARUS: run 'swift build -c release' first" >&2; exit 1; }
[ -x "$PY" ] || { echo "no dev venv at $PY: run tools/setup_dev_venv.sh" >&2; exit 1; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/data"

# Worked ("chain of thought") arithmetic: the operation named, the steps, the answer.
"$PY" - "$WORK/data" <<'EOF'
import json, os, sys
rows = []
for a, b in [(23, 45), (31, 17), (54, 28), (66, 19), (12, 70), (48, 36)]:
    rows.append(f"Q: {a} + {b} = ?\nA: add. {a // 10 * 10} + {b // 10 * 10} = {a // 10 * 10 + b // 10 * 10}, "
                f"{a % 10} + {b % 10} = {a % 10 + b % 10}, so {a} + {b} = {a + b}.")
    rows.append(f"Q: {a + b} - {b} = ?\nA: subtract. {a + b} - {b // 10 * 10} = {a + b - b // 10 * 10}, "
                f"then - {b % 10} gives {a}, so {a + b} - {b} = {a}.")
for a, b in [(7, 8), (9, 6), (12, 5), (4, 13)]:
    rows.append(f"Q: {a} * {b} = ?\nA: multiply. {a} * {b} = {a * b}, so {a} * {b} = {a * b}.")
for name, part in (("train.jsonl", rows[:-3]), ("valid.jsonl", rows[-3:])):
    with open(os.path.join(sys.argv[1], name), "w") as f:
        for text in part:
            f.write(json.dumps({"text": text}) + "\n")
EOF

"$LAZARUS" train lora --model default --data "$WORK/data" --rank 8 --alpha 16 --targets q_proj,v_proj \
  --steps 10 --batch-size 4 --learning-rate 2e-3 --seed 7 --report-every 5 --adapter-path "$WORK/adapter"
cat "$WORK/adapter/metrics.jsonl" 2>/dev/null || true

rm -rf "$OUT"
mkdir -p "$OUT"
cp "$WORK/adapter/adapter_model.safetensors" "$WORK/adapter/adapter_config.json" "$OUT/"
"$PY" - "$OUT/adapter_config.json" <<'EOF'
import json, os, sys
path = sys.argv[1]
with open(path) as f:
    config = json.load(f)
config["base_model_name_or_path"] = os.path.basename(config["base_model_name_or_path"])
with open(path, "w") as f:
    json.dump(config, f, indent=2, sort_keys=True)
    f.write("\n")
EOF

JOINED=$(IFS='|'; echo "${PROMPTS[*]}")
"$LAZARUS" introspect logit-lens --model default --adapter "$OUT" --prompts "$JOINED" --layers L29 --top-k 20 \
  --output "$WORK/lens.json" > /dev/null
"$PY" - "$WORK/lens.json" "$FIXTURES/lazarus_adapter_logprobs.json" <<'EOF'
import json, os, sys
with open(sys.argv[1]) as f:
    report = json.load(f)
report["model"] = os.path.basename(report["model"])
report["generator"] = "tools/make_lazarus_adapter.sh (lazarus introspect logit-lens --layers L29 --top-k 20)"
with open(sys.argv[2], "w") as f:
    json.dump(report, f, ensure_ascii=False, separators=(",", ":"))
    f.write("\n")
EOF

PROMPT_ARGS=()
for p in "${PROMPTS[@]}"; do PROMPT_ARGS+=(--prompt "$p"); done
"$PY" "$ROOT/tools/peft_reference.py" "$OUT" "$FIXTURES/lazarus_peft_reference.json" "${PROMPT_ARGS[@]}"
du -sh "$OUT"
