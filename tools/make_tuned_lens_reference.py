#!/usr/bin/env python3
"""Writes what the reference tuned lens (the PyPI package `tuned-lens` 0.2.0, Belrose et al.) gives for
seeded translators on the tiny Llama, so the Swift tuned lens can be checked against it: the translator
convention and the readout (final norm + unembedding) are the package's, the weights are seeded random.

Dev-only. `pip install tuned-lens` cannot go beside the dev venv's CPU torch (it pulls a CUDA torch,
torchdata, wandb, datasets); its wheel alone imports with the dev venv, which is all this needs:
  /opt/lazarus-dev-venv/bin/python -m pip download --no-deps -d /tmp/tl tuned-lens==0.2.0
  (cd /tmp/tl && unzip -q tuned_lens-0.2.0-py3-none-any.whl -d pkg)
  PYTHONPATH=/tmp/tl/pkg /opt/lazarus-dev-venv/bin/python tools/make_tuned_lens_reference.py

Writes Tests/IntrospectionTests/Fixtures/tuned_lens_reference/:
  tuned_lens.safetensors, tuned_lens.json  the package's translators in Lazarus's layout: the package computes
                                           h + (W h + b) (residual form, zero-initialised), Lazarus A h + b,
                                           so A = I + W; layers embed … L{n-2} (the package has none for the last)
  reference.json  {"generator", "tuned_lens_version", "transformers_version", "torch_version", "input_ids": [T],
                   "layers": [{"layer": "embed"|"L0"…, "logprobs": [T][V]}]}: log_softmax of TunedLens.forward(h, idx)
                   for h = hidden_states[idx] of transformers' forward (idx 0 = embeddings, idx k = block k−1's output)
"""
import json
import os

import torch as th
from safetensors.torch import save_file
import transformers
import tuned_lens
from tuned_lens.nn.lenses import TunedLens

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL = os.path.join(ROOT, "Tests/TransformerTests/Fixtures/tiny_llama_hf")
OUT = os.path.join(ROOT, "Tests/IntrospectionTests/Fixtures/tuned_lens_reference")


def main():
    th.manual_seed(0)
    model = transformers.AutoModelForCausalLM.from_pretrained(MODEL, dtype=th.float32, attn_implementation="eager").eval()
    lens = TunedLens.from_model(model, bias=True).float()
    d = model.config.hidden_size
    g = th.Generator().manual_seed(7)
    with th.no_grad():
        for t in lens.layer_translators:
            t.weight.copy_(th.randn(d, d, generator=g) * 0.1)
            t.bias.copy_(th.randn(d, generator=g) * 0.1)
    ids = [5, 17, 42, 9, 101, 3, 77, 250]
    with th.no_grad():
        out = model(th.tensor([ids]), output_hidden_states=True)
        layers = []
        names = ["embed"] + [f"L{k}" for k in range(model.config.num_hidden_layers - 1)]
        tensors = {}
        for idx, name in enumerate(names):
            h = out.hidden_states[idx][0]
            logprobs = th.log_softmax(lens.forward(h, idx), dim=-1)
            layers.append({"layer": name, "logprobs": logprobs.tolist()})
            t = lens.layer_translators[idx]
            tensors[f"layers.{name}.weight"] = (th.eye(d) + t.weight).contiguous()
            tensors[f"layers.{name}.bias"] = t.bias.clone().contiguous()
    os.makedirs(OUT, exist_ok=True)
    save_file(tensors, os.path.join(OUT, "tuned_lens.safetensors"), metadata={"format": "pt"})
    config = {"format": "lazarus-tuned-lens", "version": 1, "hidden_size": d, "layer_count": model.config.num_hidden_layers,
              "layers": names, "model": "tiny_llama_hf"}
    with open(os.path.join(OUT, "tuned_lens.json"), "w") as f:
        json.dump(config, f, indent=2)
    with open(os.path.join(OUT, "reference.json"), "w") as f:
        json.dump({"generator": "tools/make_tuned_lens_reference.py", "tuned_lens_version": tuned_lens.__version__ if hasattr(tuned_lens, "__version__") else "0.2.0",
                   "transformers_version": transformers.__version__, "torch_version": th.__version__,
                   "input_ids": ids, "layers": layers}, f)


if __name__ == "__main__":
    main()
