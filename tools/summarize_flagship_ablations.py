#!/usr/bin/env python3
"""Summarises committed cot_vocab_alignment runs (the default and its ablations) side by side.

Every figure is read from each run's results.json (schema v2); nothing is typed in by hand. Usage:
    python3 tools/summarize_flagship_ablations.py LABEL=DIR [LABEL=DIR ...] > docs/results/cot_vocab_alignment_ablations.md
The first run is the reference the others are compared with. Standard library only.
"""
import json
import sys


def pct(v):
    return "–" if v is None else f"{v * 100:.1f}%"


def interval(m):
    if m is None:
        return "–"
    if m["n"] <= 1:
        return f"{pct(m['mean'])} (1 seed)"
    lo, hi = max(0.0, m["low"]), min(1.0, m["high"])
    return f"{pct(m['mean'])} [{pct(lo)}–{pct(hi)}]"


def layer_figure(f):
    if f is None:
        return "–"
    seeds = ", ".join("none" if x is None else f"L{x}" for x in f["per_seed"])
    return f"{seeds}"


def best_intermediate(run, stage, position):
    """Per seed: the best lens task accuracy of the primary form at an intermediate layer (not embed, not the last)."""
    form = run["target_tokens"]["primary_form"]
    last = run["model_config"]["layers"] - 1 if "layers" in run["model_config"] else None
    out = []
    for seed in run["per_seed"]:
        st = seed["stages"].get(stage)
        if st is None:
            continue
        for p in st["positions"]:
            if p["position"] != position:
                continue
            rows = [r for r in p["forms"][form] if r["index"] >= 0 and (last is None or r["index"] < last)]
            if rows:
                out.append(max(r["lens_task_accuracy"] for r in rows))
    return out


def main(args):
    runs = []
    for a in args:
        label, folder = a.split("=", 1)
        with open(f"{folder}/results.json") as f:
            runs.append((label, folder, json.load(f)))
    print("# cot_vocab_alignment: the default run and its ablations\n")
    print("Written by `tools/summarize_flagship_ablations.py` from each run's `results.json`; every figure is that file's. "
          "Intervals: 95% t over training seeds (clipped to [0, 100%]); per-seed layer lists give the first layer where the "
          "logit lens reads the prompt's operation word for ≥ 80% of held-out prompts (primary word form).\n")
    print("| run | folder | seeds | held-out n | primary form | direct SFT | CoT SFT | direct − CoT (points) | CoT lens ≥ 80% at `=` from | best intermediate CoT lens accuracy at the operator | after `opname:` |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for label, folder, r in runs:
        a = r["across_seeds"]
        gap = a.get("direct_minus_cot")
        gap_text = "–" if gap is None else (f"{gap['mean'] * 100:+.1f}" + (f" [{gap['low'] * 100:+.1f}, {gap['high'] * 100:+.1f}]" if gap["n"] > 1 else " (1 seed)"))
        n = r["per_seed"][0]["stages"]["baseline"]["accuracy_heldout"]["n"]
        op = best_intermediate(r, "cot_sft", "operator")
        after = best_intermediate(r, "cot_sft", "after_opname")
        print(f"| {label} | `{folder}` | {len(a['seeds'])} | {n} | {r['target_tokens']['primary_form']} | "
              f"{interval(a['heldout_accuracy'].get('direct_sft'))} | {interval(a['heldout_accuracy'].get('cot_sft'))} | {gap_text} | "
              f"{layer_figure(a['first_lens_layer_80'].get('cot_sft'))} | {', '.join(pct(x) for x in op)} | {', '.join(pct(x) for x in after)} |")
    print()
    ref_label, _, ref = runs[0]
    ref_first = ref["across_seeds"]["first_lens_layer_80"].get("cot_sft", {}).get("interval")
    for label, _, r in runs[1:]:
        first = r["across_seeds"]["first_lens_layer_80"].get("cot_sft", {})
        m = first.get("interval")
        if m is None:
            print(f"- {label}: after CoT training no layer reaches 80% lens task accuracy at `=` in any seed "
                  f"(the {ref_label} run: from L{ref_first['mean']:.1f})." if ref_first else f"- {label}: no layer reaches 80% in any seed.")
        elif ref_first is not None:
            d = m["mean"] - ref_first["mean"]
            print(f"- {label}: the CoT model's operation word reaches 80% lens task accuracy at `=` from L{m['mean']:.1f} on average "
                  f"({'every seed reaches it' if first['missing'] == 0 else str(first['missing']) + ' of ' + str(len(first['per_seed'])) + ' seeds never'}), against L{ref_first['mean']:.1f} in the {ref_label} run "
                  f"({d:+.1f} layers); with {len(first['per_seed'])} and {len(ref['across_seeds']['seeds'])} seeds this orders the two runs only where the per-seed layers do not overlap.")
    print("\nThe primary form is the token the model faces after the prompt: with `prompt_style: original` the prompt ends in a "
          "space, so the bare forms (`multiply`, `add`, `sub`), not the spaced ones the training text continues with.")


if __name__ == "__main__":
    main(sys.argv[1:])
