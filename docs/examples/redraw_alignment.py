"""Redraw the flagship's alignment-by-depth plot from its results.json, beside the residual stream's size
by depth from a hidden-states file: the hand-over from Lazarus to your own analysis in Python.

    lazarus experiment run cot_vocab_alignment            # or use docs/results/cot_vocab_alignment/results.json
    lazarus introspect hidden-states --model default --prompts "7 * 8 =|23 + 45 =|89 - 34 =" --output hidden.safetensors
    python docs/examples/redraw_alignment.py RESULTS.json hidden.safetensors alignment.png

Needs numpy, safetensors and matplotlib. The shapes it reads are in docs/schemas/ and docs/hidden-states.md.
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")  # write a file; no display needed
import matplotlib.pyplot as plt
import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file


def layer_index(name):
    """embed is -1, Lk is k: the x position of a layer, as results.json's "index" has it."""
    return -1 if name == "embed" else int(name[1:])


def main(results_path, hidden_path, out_path="alignment.png"):
    with open(results_path) as f:
        results = json.load(f)
    tensors = load_file(hidden_path)
    with safe_open(hidden_path, "np") as f:
        meta = {key: json.loads(value) for key, value in f.metadata().items()}

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 7), sharex=True)
    for stage, data in results["stages"].items():
        layers = data["layers"]
        # Probabilities run from ~1e-14 to ~1: a log axis shows every layer.
        top.semilogy([l["index"] for l in layers], [max(l["mean_task_prob"], 1e-30) for l in layers], marker="o", ms=3, label=stage)
    top.set_ylabel("mean task-word probability")
    top.set_title(f"Vocabulary alignment by depth ({results['model']})")
    top.legend()

    names = meta["layers"]
    norms = [np.linalg.norm(tensors[name], axis=1).mean() for name in names]
    bottom.plot([layer_index(n) for n in names], norms, marker="o", ms=3, color="black")
    bottom.set_ylabel("mean ‖residual stream‖")
    bottom.set_xlabel("layer (embed = -1)")
    bottom.set_title(f"{len(meta['prompts'])} prompts, positions: {meta['positions']} ({meta['model']})")

    fig.tight_layout()
    fig.savefig(out_path, dpi=120)
    print(f"wrote {out_path}")


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    main(*sys.argv[1:])
