"""The default model and its tokenizer, as the reference scripts in tools/ load them (dev-only).

Not a library of the package: only the Python reference scripts import it. The model comes from the
GGUF through transformers (which dequantises to float32 and un-permutes Q/K itself); the tokenizer is
rebuilt from the GGUF's vocabulary with SmolLM2's real pre-tokenizer (tokenizer_reference.py), because
transformers' GGUF tokenizer falls back to plain GPT-2 splitting for `tokenizer.ggml.pre = smollm`.
A Hugging Face folder (config.json + safetensors + tokenizer.json, e.g. the tiny family fixtures) loads
too: in float32 with eager attention, its tokenizer from its own tokenizer.json.
"""
import json
import os

import torch

from tokenizer_reference import build_from_vocab, read_gguf_vocab

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_MODEL = os.environ.get(
    "LAZARUS_DEFAULT_MODEL", os.path.join(ROOT, "models", "SmolLM2-135M-Instruct.Q4_1.gguf"))


def load_model(path=DEFAULT_MODEL):
    """A GGUF file (dequantised by transformers) or a Hugging Face folder, float32, in eval mode."""
    from transformers import AutoModelForCausalLM
    if os.path.isdir(path):
        model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32, attn_implementation="eager")
    else:
        model = AutoModelForCausalLM.from_pretrained(
            os.path.dirname(path), gguf_file=os.path.basename(path), dtype=torch.float32)
    model.eval()
    return model


def load_tokenizer(path=DEFAULT_MODEL):
    """A folder's own tokenizer.json; for the default GGUF, SmolLM2's tokenizer (every digit alone, then
    GPT-2 byte-level), as a `tokenizers.Tokenizer`."""
    if os.path.isdir(path):
        from tokenizers import Tokenizer
        return Tokenizer.from_file(os.path.join(path, "tokenizer.json"))
    tokens, merges, token_types, pre = read_gguf_vocab(path)
    assert pre == "smollm", pre
    return build_from_vocab(tokens, merges, token_types, "smollm")


def encode(tokenizer, text):
    return tokenizer.encode(text, add_special_tokens=False).ids


def write_json(path, value):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {os.path.relpath(path, ROOT)} ({os.path.getsize(path)} bytes)")


DIGITS = 7  # significant digits for the default model's fixtures: float32 carries ~7, tests compare at 1e-3


def rounded(values, digits=6):
    """Floats for a fixture: enough digits for a 1e-4 comparison, few enough to keep files small."""
    return [float(f"{float(v):.{digits}g}") for v in values]


def final_summary(last_logits, fixed_ids, top=20):
    """The final-position record of the fixtures: logsumexp (so log-softmax = logit - logsumexp), the
    top logits as [id, logit], and the logits at fixed ids."""
    best = torch.topk(last_logits, top)
    return {
        "logsumexp": float(torch.logsumexp(last_logits, 0)),
        f"top{top}": [[int(i), float(f"{float(v):.{DIGITS}g}")] for v, i in zip(best.values, best.indices)],
        "fixed_logits": rounded(last_logits[fixed_ids], DIGITS),
    }


def block_output(output):
    """A decoder layer's hidden states, whether the layer returns a tuple (transformers 4) or a tensor (5)."""
    return output[0] if isinstance(output, tuple) else output


@torch.no_grad()
def run_with_residuals(model, ids):
    """One forward pass; returns logits [T, V] and the residual stream [embed, L0..L{n-1}] as [T, D]
    each (pre-norm, from hooks on every block), plus transformers' own hidden_states for a check."""
    captured = []

    def hook(_module, _inputs, output):
        captured.append(block_output(output)[0].clone())

    handles = [layer.register_forward_hook(hook) for layer in model.model.layers]
    try:
        out = model(torch.tensor([ids]), output_hidden_states=True, use_cache=False)
    finally:
        for h in handles:
            h.remove()
    hidden = [h[0] for h in out.hidden_states]
    n = len(model.model.layers)
    assert len(captured) == n and len(hidden) == n + 1
    # transformers' hidden_states: [embed, L0, ..., L{n-2}, FinalNorm(L{n-1})]: check that reading.
    for k in range(n - 1):
        assert torch.equal(hidden[k + 1], captured[k]), k
    assert torch.allclose(hidden[n], model.model.norm(captured[n - 1]), atol=1e-5)
    return out.logits[0], [hidden[0]] + captured, hidden[n]
