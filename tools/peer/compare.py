#!/usr/bin/env python3
"""Lazarus against PyTorch + transformers + PEFT and llama.cpp on this machine: writes docs/performance.md (docs/SPEC.md §8).

Dev-only, python3 standard library. Runs `lazarus bench --json` (or reads --lazarus FILE) and reads the
PyTorch figures from --pytorch FILE, else tools/peer/pytorch_results.json, else runs
tools/peer/bench_pytorch.py in the dev venv; the llama.cpp figures (prefill, single-stream decode) from
--llamacpp FILE, else tools/peer/llamacpp_results.json, else none. Then writes a table of figures, ratios and
targets. Everything in the existing file from the line KEEP_MARKER on is hand-written and kept as it is.

    python3 tools/peer/compare.py [--lazarus FILE] [--pytorch FILE] [--llamacpp FILE] [--binary PATH] [--out docs/performance.md]
"""
import argparse
import datetime
import json
import os
import subprocess
import sys

from machine import cpu_model  # tools/peer/machine.py, beside this script

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VENV_PYTHON = os.environ.get("LAZARUS_DEV_VENV", "/opt/lazarus-dev-venv") + "/bin/python"

# (label, Lazarus key, PyTorch key, unit, better, target ratio or None). A ratio is always Lazarus ÷ PyTorch
# of the figure as printed; "higher" figures meet a target ratio from above, "lower" ones from below.
ROWS = [
    ("sgemm 1024³", "sgemm_gflops_1024", "sgemm_gflops_1024", "GFLOP/s", "higher", None),
    ("sgemm 2048³", "sgemm_gflops_2048", "sgemm_gflops_2048", "GFLOP/s", "higher", None),
    ("prefill, 32 prompts in one batch", "prefill_tokens_per_s", "prefill_tokens_per_second", "tokens/s", "higher", 2.0),
    ("decode, 32 sequences × 16 steps, KV cache", "decode_tokens_per_s", "decode_tokens_per_second", "tokens/s", "higher", None),
    ("decode, one prompt × 64 steps, KV cache", "decode_single_tokens_per_s", "decode_single_tokens_per_second", "tokens/s", "higher", 2.0),
    ("logit-lens sweep, 300 prompts × 31 layers", "lens_sweep_s", "lens_sweep_seconds", "s", "lower", 0.5),
    ("LoRA step, batch 4 × 16, r16 q/k/v/o", "lora_step_s", "lora_step_seconds", "s", "lower", 0.5),
    ("peak resident memory", "peak_rss_mb", "peak_rss_mb", "MiB", "lower", None),
]


KEEP_MARKER = "<!-- hand-written from here on: tools/peer/compare.py keeps it -->"


def run_lazarus(binary):
    env = dict(os.environ)
    out = subprocess.run([binary, "bench", "--json"], check=True, capture_output=True, text=True, env=env)
    return json.loads(out.stdout)


def load_pytorch(path):
    if path:
        with open(path) as f:
            return json.load(f), path
    default = os.path.join(ROOT, "tools", "peer", "pytorch_results.json")
    if os.path.exists(default):
        with open(default) as f:
            return json.load(f), os.path.relpath(default, ROOT)
    script = os.path.join(ROOT, "tools", "peer", "bench_pytorch.py")
    if not (os.path.exists(script) and os.path.exists(VENV_PYTHON)):
        sys.exit("no PyTorch figures: pass --pytorch FILE, or provide tools/peer/bench_pytorch.py and the dev venv")
    out = subprocess.run([VENV_PYTHON, script], check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(out.stdout), "a fresh run of tools/peer/bench_pytorch.py"


def fmt(x):
    if x is None:
        return "—"
    return f"{x:.3g}" if abs(x) < 100 else f"{x:.0f}"


def table(lazarus, pytorch, llamacpp):
    lines = ["| figure | unit | Lazarus | PyTorch | llama.cpp | ratio (Lazarus ÷ PyTorch) | target | met? |",
             "|---|---|---|---|---|---|---|---|"]
    verdicts = {}
    for label, lk, pk, unit, better, target in ROWS:
        a, b = lazarus.get(lk), pytorch.get(pk)
        ratio = a / b if a is not None and b else None
        if target is None or ratio is None:
            goal, met = "—", "—"
        else:
            goal = f"≥ {target:g}×" if better == "higher" else f"≤ {target:g}×"
            ok = ratio >= target if better == "higher" else ratio <= target
            met = "yes" if ok else "no"
            verdicts[lk] = ok
        peer = llamacpp.get(pk) if pk in ("prefill_tokens_per_second", "decode_single_tokens_per_second") else None
        lines.append(f"| {label} | {unit} | {fmt(a)} | {fmt(b)} | {fmt(peer)} | {fmt(ratio)} | {goal} | {met} |")
    peak = lazarus.get("peak_rss_mb")
    if peak is not None:
        ok = peak <= 2048
        verdicts["peak_memory"] = ok
        lines.append(f"| peak memory of the bench (absolute target) | MiB | {fmt(peak)} | | | | ≤ 2048 | {'yes' if ok else 'no'} |")
    return "\n".join(lines), verdicts


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lazarus", help="figures of `lazarus bench --json` already run")
    parser.add_argument("--pytorch", help="figures of tools/peer/bench_pytorch.py already run")
    parser.add_argument("--llamacpp", help="figures of tools/peer/bench_llamacpp.py already run")
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "release", "lazarus"))
    parser.add_argument("--notes", help="a Markdown file whose text goes under 'What limits the rest'")
    parser.add_argument("--out", default=os.path.join(ROOT, "docs", "performance.md"))
    args = parser.parse_args()

    load_start = os.getloadavg()
    if args.lazarus:
        with open(args.lazarus) as f:
            lazarus = json.load(f)
        lazarus_source = args.lazarus
    else:
        lazarus = run_lazarus(args.binary)
        lazarus_source = "a fresh run of `lazarus bench --json`"
    pytorch, pytorch_source = load_pytorch(args.pytorch)
    llamacpp_path = args.llamacpp or os.path.join(ROOT, "tools", "peer", "llamacpp_results.json")
    llamacpp = {}
    if os.path.exists(llamacpp_path):
        with open(llamacpp_path) as f:
            llamacpp = json.load(f)
    rows, _ = table(lazarus, pytorch, llamacpp)

    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    machine = pytorch.get("machine", {})
    out = [
        "# Performance: Lazarus and PyTorch side by side",
        "",
        "Written by `tools/peer/compare.py` (docs/SPEC.md §8). Ratios are Lazarus ÷ PyTorch of each figure as printed:",
        "for speeds higher is better, for seconds lower is better. Both sides use 2 threads and float32 and",
        "run the same work (the prompt texts differ, their shapes do not).",
        "",
        f"- date: {now}",
        f"- machine: {os.cpu_count()} cores (nproc), {cpu_model()}",
        f"- load average when this script started: {', '.join(f'{x:.1f}' for x in load_start)}"
        " (the machine is shared: other builds and runs share these two cores, so both sides' figures are noisy)",
        f"- Lazarus figures: {lazarus_source}; model {lazarus.get('model', '?')}, {lazarus.get('threads', '?')} OpenBLAS threads,"
        f" BLAS {lazarus.get('blas_library', '?')} {lazarus.get('blas_version', '')} core {lazarus.get('blas_core', '?')},"
        f" CPU {lazarus.get('cpu_model', '?')} ({' '.join(lazarus.get('cpu_features', []))}),"
        f" load average at its end {lazarus.get('load_average_1m', '?')}",
        f"- PyTorch figures: {pytorch_source}; torch {pytorch.get('torch_version', '?')},"
        f" transformers {pytorch.get('transformers_version', '?')}, PEFT {pytorch.get('peft_version', '?')},"
        f" measured {pytorch.get('date', '?')}, load average then"
        f" {', '.join(f'{x:.1f}' for x in machine.get('load_average_at_start', []))}",
        f"- llama.cpp figures: {os.path.relpath(llamacpp_path, ROOT) if llamacpp else 'none'}"
        + (f"; llama-cpp-python {llamacpp.get('llama_cpp_python_version', '?')}, {llamacpp.get('model', '?')},"
           f" measured {llamacpp.get('date', '?')}, load average then"
           f" {', '.join(f'{x:.1f}' for x in llamacpp.get('machine', {}).get('load_average_at_start', []))}" if llamacpp else ""),
        "",
        rows,
        "",
    ]
    if args.notes:
        with open(args.notes) as f:
            out += ["## What limits the rest", "", f.read().strip(), ""]
    if os.path.exists(args.out):
        with open(args.out) as f:
            kept = f.read()
        if KEEP_MARKER in kept:
            out += [kept[kept.index(KEEP_MARKER):].rstrip(), ""]
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        f.write("\n".join(out))
    print(rows)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
