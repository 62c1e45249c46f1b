"""The default model and its tokenizer, as the reference scripts in tools/ load them (dev-only).

Not a library of the package: only the Python reference scripts import it. The model comes from the
GGUF through transformers (which dequantises to float32 and un-permutes Q/K itself); the tokenizer is
rebuilt from the GGUF's vocabulary with SmolLM2's real pre-tokenizer (tokenizer_reference.py), because
transformers' GGUF tokenizer falls back to plain GPT-2 splitting for `tokenizer.ggml.pre = smollm`.
"""
import json
import os

import torch

from tokenizer_reference import build_from_vocab, read_gguf_vocab

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_MODEL = os.environ.get(
    "LAZARUS_DEFAULT_MODEL", os.path.join(ROOT, "models", "SmolLM2-135M-Instruct.Q4_1.gguf"))


def load_model(path=DEFAULT_MODEL):
    from transformers import AutoModelForCausalLM
    model = AutoModelForCausalLM.from_pretrained(
        os.path.dirname(path), gguf_file=os.path.basename(path), dtype=torch.float32)
    model.eval()
    return model


def load_tokenizer(path=DEFAULT_MODEL):
    """SmolLM2's tokenizer (every digit alone, then GPT-2 byte-level), as a `tokenizers.Tokenizer`."""
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
