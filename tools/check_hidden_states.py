"""Dev-only check of `lazarus introspect hidden-states`: the file opens with `safetensors.numpy`, its
metadata decodes as documented (docs/hidden-states.md), and its rows match transformers' own
`output_hidden_states` for the same token ids (tiny_llama_hf, float32).

Run from the package root after a release build: /opt/lazarus-dev-venv/bin/python tools/check_hidden_states.py
Writes nothing it keeps (a temporary file); prints the largest difference per layer and exits 1 on a mismatch.
transformers' hidden_states[k] is the input of block k (k = 0: the embeddings); its last entry has the final
norm applied, so Lazarus's last block output (before the norm) is compared after applying the model's norm.
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
from safetensors import safe_open
from safetensors.numpy import load_file
from transformers import AutoModelForCausalLM

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL = os.path.join(ROOT, "Tests/TransformerTests/Fixtures/tiny_llama_hf")
BINARY = os.environ.get("LAZARUS_BINARY", os.path.join(ROOT, ".build/release/lazarus"))
TOLERANCE = 1e-4


def main():
    prompts = ["7 * 8 =", "hello world", "-273.15"]
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "hidden.safetensors")
        for positions in ["all", "last"]:
            subprocess.run([BINARY, "introspect", "hidden-states", "--model", MODEL, "--prompts=" + "|".join(prompts),
                            "--positions", positions, "--output", path], check=True, stdout=subprocess.DEVNULL)
            tensors = load_file(path)
            with safe_open(path, "np") as f:
                meta = {k: json.loads(v) for k, v in f.metadata().items()}
            assert meta["format"] == "lazarus.hidden_states.v1", meta["format"]
            assert meta["prompts"] == prompts and meta["positions"] == positions
            assert list(tensors) and set(tensors) == set(meta["layers"]), (list(tensors), meta["layers"])
            rows = meta["rows"]
            for name in meta["layers"]:
                assert tensors[name].shape == (len(rows), meta["hidden_size"]) and tensors[name].dtype == np.float32

            model = AutoModelForCausalLM.from_pretrained(MODEL, dtype=torch.float32)
            model.eval()
            layer_count = model.config.num_hidden_layers
            worst = {}
            with torch.no_grad():
                for p, ids in enumerate(meta["token_ids"]):
                    out = model(torch.tensor([ids]), output_hidden_states=True)
                    reference = [h[0].numpy() for h in out.hidden_states]
                    for name in meta["layers"]:
                        k = 0 if name == "embed" else int(name[1:]) + 1
                        mine = np.stack([tensors[name][r] for r, (rp, _) in enumerate(rows) if rp == p])
                        if k == layer_count:
                            mine = model.model.norm(torch.from_numpy(mine)).numpy()
                        theirs = np.stack([reference[k][t] for (rp, t) in rows if rp == p])
                        worst[name] = max(worst.get(name, 0.0), float(np.abs(mine - theirs).max()))
            print(positions, {k: f"{v:.2e}" for k, v in worst.items()})
            if max(worst.values()) > TOLERANCE:
                print(f"mismatch above {TOLERANCE}", file=sys.stderr)
                sys.exit(1)
    print("ok: safetensors.numpy reads the file and its rows match transformers' hidden states")


if __name__ == "__main__":
    main()
