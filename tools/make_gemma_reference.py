#!/usr/bin/env python3
"""Writes the reference fixture of the real Gemma 3 270M (google/gemma-3-270m, GGUF Q4_K_M) from
transformers in float32, and records which configuration values transformers used and where it took them.

Dev-only (run with the dev venv: /opt/lazarus-dev-venv/bin/python tools/make_gemma_reference.py [MODEL.gguf];
default /work/models-cache/gemma-3-270m-q4_k_m.gguf, or $LAZARUS_GEMMA_MODEL). transformers 5.24 loads the
GGUF itself (from_pretrained(folder, gguf_file=name), every tensor dequantised to float32, norms read back
as w = stored - 1); the file is symlinked into a temporary folder for that. Token ids come from the
tokenizer transformers builds from the same GGUF (AutoTokenizer, gguf_file=...; SentencePiece-style BPE,
BOS added as tokenizer.ggml.add_bos_token = true says) and are recorded, so the Swift side can feed the
same ids and compare its own tokenizer separately. Each prompt runs alone, eager attention, no padding.

Tests/TransformerTests/Fixtures/gemma3_270m_reference.json:
  {"generator", "model", "model_sha256_prefix", "transformers_version", "torch_version", "dtype", "notes",
   "config_used": {name: {"value", "source"}},      where source is "gguf:<key>", "gguf:tensors" or
                                                   "transformers default (Gemma3TextConfig)"
   "llama_cpp_hardcoded": {...},                    what llama.cpp assumes for gemma3 instead of keys
   "layers": ["embed", "L0", ..., "L17"], "fixed_ids": [256 ids],
   "prompts": [{"text", "ids", "n_tokens",
                "final": {"logsumexp", "top64": [[id, logprob], ...], "fixed_logprobs": [256]},
                "hidden_last_l2": [19 floats], "final_normed_l2",
                "greedy": {"max_new_tokens": 10, "new_ids": [...], "new_text"}}]}
  logprob = logit - logsumexp at the LAST position (natural log, full 262,144 vocabulary); the logits are
  the model's output (no final_logit_softcapping: the config has none). fixed_ids are 256 ids drawn
  without replacement by numpy default_rng(270), sorted. hidden_last_l2[k]: L2 norm of the residual
  stream at the last position after layers[k]: "embed" = the embedding output (x sqrt(640) already
  applied), "Lk" = output of block k BEFORE any final norm (forward hooks; transformers' last hidden_states
  entry is final-normed, that one is final_normed_l2). greedy: argmax decoding with the KV cache, 10 new
  tokens, no EOS stop (checked against the full forward for the first token).
  One prompt is longer than the 512-token sliding window, so local and global layers differ there.
"""
import hashlib
import os
import sys
import tempfile

import gguf
import numpy as np
import torch
import transformers
from transformers import AutoModelForCausalLM, AutoTokenizer, Gemma3TextConfig

from reference_model import ROOT, block_output, rounded, write_json

OUT = os.path.join(ROOT, "Tests", "TransformerTests", "Fixtures", "gemma3_270m_reference.json")
DEFAULT_GEMMA = os.environ.get("LAZARUS_GEMMA_MODEL", "/work/models-cache/gemma-3-270m-q4_k_m.gguf")
DIGITS = 7
TOP = 64
FIXED = 256
GREEDY_TOKENS = 10


def long_prompt():
    """~600 tokens of text: a prose paragraph, then a numbered list whose pattern the model can continue."""
    prose = ("The following notes were written down by a student who was learning to add numbers. Each line "
             "gives one fact, checked twice, and the list goes on in the same way until the page ends.\n")
    facts = "".join(f"Fact {i}: {i} + {i + 1} = {2 * i + 1}.\n" for i in range(1, 34))
    return prose + facts + "Fact 34: 34 + 35 ="


PROMPTS = [
    "7 * 8 =",
    "23 + 45 =",
    "The capital of France is",
    "def add(a, b):\n    return",
    "Café crème, naïve façade — 日本語 ✓ 😀",
    long_prompt(),
]


def sha256_prefix(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:16]


def gguf_fields(path):
    reader = gguf.GGUFReader(path)
    fields = {}
    for key, field in reader.fields.items():
        if key.startswith("tokenizer.ggml.") and key in ("tokenizer.ggml.tokens", "tokenizer.ggml.scores",
                                                          "tokenizer.ggml.token_type", "tokenizer.ggml.merges"):
            continue
        try:
            fields[key] = field.contents()
        except Exception:  # a field gguf-py cannot turn into a value is not one transformers maps either
            continue
    return fields, {t.name for t in reader.tensors}


def config_used(cfg, fields, tensor_names):
    """Each value the forward uses, and where transformers took it from."""
    default = Gemma3TextConfig()
    used = {}

    def from_key(name, value, key):
        if key in fields:
            used[name] = {"value": value, "source": f"gguf:{key}"}
            assert np.isclose(float(fields[key]), float(value)), (name, fields[key], value)
        else:
            used[name] = {"value": value, "source": "transformers default (Gemma3TextConfig)"}

    for name, key in (("hidden_size", "gemma3.embedding_length"), ("num_hidden_layers", "gemma3.block_count"),
                      ("intermediate_size", "gemma3.feed_forward_length"),
                      ("num_attention_heads", "gemma3.attention.head_count"),
                      ("num_key_value_heads", "gemma3.attention.head_count_kv"),
                      ("head_dim", "gemma3.attention.key_length"),
                      ("rms_norm_eps", "gemma3.attention.layer_norm_rms_epsilon"),
                      ("sliding_window", "gemma3.attention.sliding_window"),
                      ("max_position_embeddings", "gemma3.context_length")):
        from_key(name, getattr(cfg, name), key)
    from_key("rope_theta_global (full_attention)", cfg.rope_parameters["full_attention"]["rope_theta"],
             "gemma3.rope.freq_base")
    from_key("rope_theta_local (sliding_attention)", cfg.rope_parameters["sliding_attention"]["rope_theta"],
             "gemma3.rope.freq_base_swa")
    from_key("query_pre_attn_scalar", cfg.query_pre_attn_scalar, "gemma3.attention.query_pre_attn_scalar")
    from_key("final_logit_softcapping", cfg.final_logit_softcapping, "gemma3.final_logit_softcapping")
    from_key("attn_logit_softcapping", cfg.attn_logit_softcapping, "gemma3.attn_logit_softcapping")
    used["layer_types"] = {
        "value": cfg.layer_types,
        "source": ("transformers default (Gemma3TextConfig: sliding_window_pattern 6, layer i full iff "
                   "(i + 1) % 6 == 0); the GGUF has no pattern key"),
    }
    used["hidden_activation"] = {"value": cfg.hidden_activation, "source": "transformers default (Gemma3TextConfig)"}
    used["vocab_size"] = {"value": cfg.vocab_size, "source": "gguf:tokenizer.ggml.tokens (its length)"}
    used["tie_word_embeddings"] = {"value": cfg.tie_word_embeddings,
                                   "source": "gguf:tensors (no output.weight, so lm_head = token_embd)"}
    assert cfg.tie_word_embeddings == ("output.weight" not in tensor_names)
    used["embedding_scale"] = {"value": float(torch.tensor(cfg.hidden_size ** 0.5, dtype=torch.float32)),
                               "source": "sqrt(hidden_size) in float32 (Gemma3TextScaledWordEmbedding, cast "
                                         "to the weights' dtype: float32 here; bfloat16 weights would give 25.25)"}
    used["attention_scale"] = {"value": cfg.query_pre_attn_scalar ** -0.5, "source": "query_pre_attn_scalar ** -0.5"}
    for name in ("query_pre_attn_scalar", "final_logit_softcapping", "attn_logit_softcapping", "hidden_activation"):
        assert getattr(cfg, name) == getattr(default, name), name
    assert cfg.rope_parameters["sliding_attention"]["rope_theta"] == default.rope_parameters["sliding_attention"]["rope_theta"]
    for name, key in (("bos_token_id", "tokenizer.ggml.bos_token_id"), ("eos_token_id", "tokenizer.ggml.eos_token_id"),
                      ("pad_token_id", "tokenizer.ggml.padding_token_id")):
        from_key(name, getattr(cfg, name), key)
    return used


@torch.no_grad()
def last_position_run(model, ids):
    """Last-position logits [V], the residual stream at the last position [embed, L0..] and the final-normed
    vector, without materialising [T, V] logits (262,144 columns)."""
    captured = {}
    handles = [model.model.embed_tokens.register_forward_hook(
        lambda _m, _i, out: captured.__setitem__("embed", out[0, -1].clone()))]
    for k, layer in enumerate(model.model.layers):
        handles.append(layer.register_forward_hook(
            lambda _m, _i, out, k=k: captured.__setitem__(k, block_output(out)[0, -1].clone())))
    handles.append(model.model.norm.register_forward_hook(
        lambda _m, _i, out: captured.__setitem__("normed", out[0, -1].clone())))
    try:
        out = model(torch.tensor([ids]), use_cache=False, logits_to_keep=1)
    finally:
        for h in handles:
            h.remove()
    n = len(model.model.layers)
    residuals = [captured["embed"]] + [captured[k] for k in range(n)]
    assert torch.allclose(model.model.norm(captured[n - 1]), captured["normed"])
    return out.logits[0, -1], residuals, captured["normed"]


@torch.no_grad()
def without_window_effect(model, prompt):
    """How far the long prompt's last log-probs move when every layer attends to every position: shows that
    the fixture really tests the window. The model is restored afterwards."""
    saved = model.config.sliding_window
    layers = [layer.self_attn for layer in model.model.layers]
    windows = [a.sliding_window for a in layers]
    try:
        model.config.sliding_window = 1 << 20
        for a in layers:
            a.sliding_window = None if a.sliding_window is None else 1 << 20
        logits, _, _ = last_position_run(model, prompt["ids"])
    finally:
        model.config.sliding_window = saved
        for a, w in zip(layers, windows):
            a.sliding_window = w
    full = logits - torch.logsumexp(logits, 0)
    kept = torch.tensor([i for i, _ in prompt["final"][f"top{TOP}"]])
    stored = torch.tensor([v for _, v in prompt["final"][f"top{TOP}"]])
    return float((full[kept] - stored).abs().max())


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_GEMMA
    fields, tensor_names = gguf_fields(path)
    assert fields["general.architecture"] == "gemma3", fields["general.architecture"]
    with tempfile.TemporaryDirectory() as folder:
        name = os.path.basename(path)
        os.symlink(os.path.abspath(path), os.path.join(folder, name))
        tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
        model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32,
                                                     attn_implementation="eager").eval()
    cfg = model.config
    vocab = cfg.vocab_size
    fixed = sorted(int(i) for i in np.random.default_rng(270).choice(vocab, FIXED, replace=False))
    print(f"{name}: {cfg.num_hidden_layers} blocks, width {cfg.hidden_size}, vocab {vocab}, layer types {cfg.layer_types}")

    prompts = []
    for text in PROMPTS:
        ids = tokenizer(text, add_special_tokens=True)["input_ids"]
        logits, residuals, normed = last_position_run(model, ids)
        lse = torch.logsumexp(logits, 0)
        logprobs = logits - lse
        best = torch.topk(logprobs, TOP)
        out = model.generate(torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                             max_new_tokens=GREEDY_TOKENS, min_new_tokens=GREEDY_TOKENS, do_sample=False,
                             eos_token_id=None, pad_token_id=cfg.pad_token_id)
        new = [int(t) for t in out[0, len(ids):]]
        assert len(new) == GREEDY_TOKENS and new[0] == int(torch.argmax(logits)), (new, int(torch.argmax(logits)))
        prompts.append({
            "text": text, "ids": ids, "n_tokens": len(ids),
            "final": {"logsumexp": float(lse),
                      f"top{TOP}": [[int(i), float(f"{float(v):.{DIGITS}g}")] for v, i in zip(best.values, best.indices)],
                      "fixed_logprobs": rounded(logprobs[fixed], DIGITS)},
            "hidden_last_l2": rounded([r.norm() for r in residuals], DIGITS),
            "final_normed_l2": float(f"{float(normed.norm()):.{DIGITS}g}"),
            "greedy": {"max_new_tokens": GREEDY_TOKENS, "new_ids": new,
                       "new_text": tokenizer.decode(new, skip_special_tokens=False)},
        })
        print(f"{len(ids):4d} tokens {text[:40]!r}: top1 {tokenizer.decode([int(best.indices[0])])!r} "
              f"({float(best.values[0]):.3f}); greedy {prompts[-1]['greedy']['new_text']!r}")
    assert max(p["n_tokens"] for p in prompts) > cfg.sliding_window + 16, "one prompt must outgrow the window"
    window_effect = without_window_effect(model, prompts[-1])
    print(f"the {cfg.sliding_window}-token window moves the long prompt's last log-probs by up to {window_effect:.3g}")

    write_json(OUT, {
        "generator": "tools/make_gemma_reference.py",
        "model": os.path.basename(path),
        "model_sha256_prefix": sha256_prefix(path),
        "transformers_version": transformers.__version__,
        "torch_version": torch.__version__,
        "dtype": "float32 (every GGUF tensor dequantised by gguf-py, as transformers loads it)",
        "notes": ("Ids as transformers' GGUF tokenizer gives them, BOS (2) first; each prompt alone, eager attention. "
                  "logprob = logit - logsumexp at the last position, full vocabulary. hidden_last_l2: 'embed' = scaled "
                  "embedding, 'Lk' = block k output before the final norm (hooks); final_normed_l2 = after it. "
                  "Greedy: argmax with KV cache, no EOS stop."),
        "config_used": config_used(cfg, fields, tensor_names),
        "window_effect_on_long_prompt": {
            "max_abs_top64_logprob_change_with_full_attention": float(f"{window_effect:.4g}"),
            "note": "the long prompt's top-64 log-probs if no layer had a window: the window matters at this length"},
        "llama_cpp_hardcoded": {
            "swa_pattern": "6 (layer il uses full attention iff il % 6 == 5), not read from the file",
            "rope_freq_base_swa": "10000, set before the keys are read (gemma3.rope.freq_base_swa is not consulted)",
            "attention_scale": "1/sqrt(key_length) = 1/16 here; 1/sqrt(n_embd/n_head) only for the 62-block 27B",
            "embedding_scale": "sqrtf(n_embd) in float32",
            "final_logit_softcapping": ("not read for gemma3 (src/models/gemma3.cpp caps the logits only in its "
                                        "no-window variant)"),
        },
        "gguf_keys": {k: v for k, v in fields.items() if k.startswith("gemma3.") or k.startswith("tokenizer.")},
        "layers": ["embed"] + [f"L{k}" for k in range(cfg.num_hidden_layers)],
        "fixed_ids": fixed,
        "prompts": prompts,
    })


if __name__ == "__main__":
    main()
