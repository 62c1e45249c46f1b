#!/usr/bin/env python3
"""Writes what transformers gives when the forward pass is intervened on, so the Swift forward hooks
(patching, steering, head ablation) can be checked against the same interventions done with PyTorch hooks.

Dev-only (run with the dev venv after make_tiny_llama.py and make_tiny_families.py:
/opt/lazarus-dev-venv/bin/python tools/make_hook_reference.py). Two models, float32, eager attention, loaded
from the committed folders: Tests/TransformerTests/Fixtures/tiny_llama_hf (Llama, 2 blocks) and
Tests/TransformerTests/Fixtures/families/tiny_gemma3 (Gemma 3, 7 blocks, window 8: the prompts are longer).

Tests/TransformerTests/Fixtures/families/hooks_reference.json:
  {"generator", "transformers_version", "torch_version", "notes",
   "models": [{"name", "folder", "hidden_size", "num_heads", "head_dim",
               "text_a", "text_b", "prompt_a": [ids], "prompt_b": [ids],   (the texts' ids, both T = 19, no BOS)
               "baseline": {"a_last_logprobs": [V], "b_last_logprobs": [V]},
               "patches": [{"layer", "position", "last_logprobs": [V]}],
               "steering": [{"layer", "seed", "vector": [D], "last_logprobs": [V]}],
               "head_ablation": [{"layer", "head", "last_logprobs": [V]}]}]}
  Every last_logprobs is log_softmax of prompt A's logits at its last position (natural log, full vocabulary)
  under one intervention, all others off:
  - patches: the output of decoder block `layer` (the residual stream after that block, before any final
    norm: a forward hook on model.model.layers[layer]) at `position` is replaced by the same block's output
    at the same position in an unmodified run of prompt B. Positions count from 0.
  - steering: `vector` is added to the output of decoder block `layer` at every position of prompt A.
  - head_ablation: the input of that block's self_attn.o_proj (the heads' outputs concatenated as
    [T, heads * head_dim], head h in columns h*head_dim ..< (h+1)*head_dim) has head `head`'s columns set to 0
    at every position (a forward pre-hook on o_proj), i.e. the head's output is zeroed before the output
    projection.
"""
import os

import torch
import transformers
from transformers import AutoModelForCausalLM

from make_tiny_llama import tiny_tokenizer
from reference_model import ROOT, block_output, rounded, run_with_residuals, write_json

FIXTURES = os.path.join(ROOT, "Tests", "TransformerTests", "Fixtures")
OUT = os.path.join(FIXTURES, "families", "hooks_reference.json")
DIGITS = 7
# Both 19 tokens in the tiny tokenizer, differing in the digits (positions 0, 4, 7, 8, 12, 15).
TEXT_A = "7 * 8 = 56 and 3 + 4 = 7"
TEXT_B = "9 * 6 = 54 and 2 + 5 = 7"
MODELS = [
    # name, folder, patches [(layer, position)], steering [(layer, seed, norm)], head ablation [(layer, head)].
    # For Gemma, position 4 is 14 tokens before the last, outside the window of 8: the patch reaches the last
    # position only through later blocks (windows chained across blocks, and the global block 5); position 15
    # is inside the window.
    ("tiny_llama_hf", "tiny_llama_hf", [(0, 4), (1, 18), (0, 15)], [(0, 11, 3.0)], [(1, 2), (0, 0)]),
    ("tiny_gemma3", "families/tiny_gemma3", [(1, 4), (5, 18), (3, 15)], [(2, 12, 4.0)], [(5, 1), (0, 0)]),
]


def with_output(output, tensor):
    return (tensor,) + tuple(output[1:]) if isinstance(output, tuple) else tensor


@torch.no_grad()
def last_logprobs(model, ids):
    return torch.log_softmax(model(torch.tensor([ids]), use_cache=False).logits[0, -1], -1)


def with_hook(model, module, hook, pre=False):
    handle = module.register_forward_pre_hook(hook) if pre else module.register_forward_hook(hook)
    try:
        return last_logprobs(model, PROMPT_A)
    finally:
        handle.remove()


def patched(model, layer, position, source):
    def hook(_m, _i, out):
        h = block_output(out).clone()
        h[0, position] = source[layer][position]
        return with_output(out, h)
    return with_hook(model, model.model.layers[layer], hook)


def steered(model, layer, vector):
    def hook(_m, _i, out):
        return with_output(out, block_output(out) + vector)
    return with_hook(model, model.model.layers[layer], hook)


def ablated(model, layer, head, head_dim):
    def hook(_m, args):
        x = args[0].clone()
        x[..., head * head_dim:(head + 1) * head_dim] = 0
        return (x,) + tuple(args[1:])
    return with_hook(model, model.model.layers[layer].self_attn.o_proj, hook, pre=True)


def changed(a, b):
    return float((a - b).abs().max())


def main():
    global PROMPT_A, PROMPT_B
    tok = tiny_tokenizer()[0]
    PROMPT_A, PROMPT_B = (tok.encode(t, add_special_tokens=False).ids for t in (TEXT_A, TEXT_B))
    assert len(PROMPT_A) == len(PROMPT_B) == 19, (PROMPT_A, PROMPT_B)
    entries = []
    for name, folder, patches, steering, ablations in MODELS:
        model = AutoModelForCausalLM.from_pretrained(os.path.join(FIXTURES, folder), dtype=torch.float32,
                                                     attn_implementation="eager").eval()
        cfg = model.config
        assert max(PROMPT_A + PROMPT_B) < cfg.vocab_size
        head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
        base_a, base_b = last_logprobs(model, PROMPT_A), last_logprobs(model, PROMPT_B)
        source = run_with_residuals(model, PROMPT_B)[1][1:]  # block outputs, without the embedding
        entry = {"name": name, "folder": folder, "hidden_size": cfg.hidden_size,
                 "num_heads": cfg.num_attention_heads, "head_dim": head_dim,
                 "text_a": TEXT_A, "text_b": TEXT_B, "prompt_a": PROMPT_A, "prompt_b": PROMPT_B,
                 "baseline": {"a_last_logprobs": rounded(base_a, DIGITS), "b_last_logprobs": rounded(base_b, DIGITS)},
                 "patches": [], "steering": [], "head_ablation": []}
        for layer, position in patches:
            lp = patched(model, layer, position, source)
            entry["patches"].append({"layer": layer, "position": position, "last_logprobs": rounded(lp, DIGITS)})
            print(f"{name}: patch L{layer} p{position} moves the last log-probs by up to {changed(lp, base_a):.3g}")
        # Patching every position of the last block with B's must give B's own output: a check of the hook.
        last = len(model.model.layers) - 1
        def everything(_m, _i, out):
            return with_output(out, source[last].unsqueeze(0))
        assert changed(with_hook(model, model.model.layers[last], everything), base_b) < 1e-5
        for layer, seed, norm in steering:
            g = torch.Generator().manual_seed(seed)
            vector = torch.randn(cfg.hidden_size, generator=g)
            vector = vector * (norm / vector.norm())
            vector = torch.tensor(rounded(vector, DIGITS))  # the stored vector is the one applied
            lp = steered(model, layer, vector)
            entry["steering"].append({"layer": layer, "seed": seed, "vector": [float(v) for v in vector],
                                      "last_logprobs": rounded(lp, DIGITS)})
            print(f"{name}: steer L{layer} (|v| = {norm}) moves the last log-probs by up to {changed(lp, base_a):.3g}")
        for layer, head in ablations:
            lp = ablated(model, layer, head, head_dim)
            entry["head_ablation"].append({"layer": layer, "head": head, "last_logprobs": rounded(lp, DIGITS)})
            print(f"{name}: zero head {head} of L{layer} moves the last log-probs by up to {changed(lp, base_a):.3g}")
        entries.append(entry)

    write_json(OUT, {
        "generator": "tools/make_hook_reference.py",
        "transformers_version": transformers.__version__,
        "torch_version": torch.__version__,
        "notes": ("last_logprobs: log_softmax of prompt A's last-position logits under one intervention (natural log, "
                  "full vocabulary, float32, eager attention, no BOS). Block output = residual stream after the block, "
                  "before any final norm. See the script's docstring for each intervention's exact definition."),
        "models": entries,
    })


if __name__ == "__main__":
    main()
