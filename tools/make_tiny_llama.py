#!/usr/bin/env python3
"""Writes tiny random Llama models (Hugging Face folders and GGUF files of the same weights) and their
reference logits, so the Swift loaders and forward pass can be checked without the default model.

Dev-only (run with the dev venv: /opt/lazarus-dev-venv/bin/python tools/make_tiny_llama.py).
Into Tests/TransformerTests/Fixtures/:
- tiny_llama_hf/: config.json, model.safetensors (float32, tied unembedding, plain RoPE theta 10000),
  tokenizer.json + tokenizer_config.json (a tiny byte-level BPE trained here, SmolLM2-style splitting).
- tiny_llama_hf_scaled/: the same shapes with rope_scaling {rope_type llama3, factor 8, low 1, high 4,
  original_max_position_embeddings 16} and an untied lm_head, other random weights.
- tiny_llama.gguf (F32) and tiny_llama_f16.gguf (2-D weights F16, norms F32): the weights of
  tiny_llama_hf written with gguf-py as llama.cpp's converter would (arch "llama", llama.* keys,
  tokenizer.ggml.* from the same tokenizer, Q/K rows permuted for llama.cpp's RoPE, no output.weight
  since the unembedding is tied).
- tiny_llama_reference.json: full logits from transformers for three token sequences, per model:
  {"generator", "transformers_version", "torch_version", "notes",
   "models": [{"name", "files": [...], "weights", "config": {...}, "sequences": [{"text", "ids",
   "logits": [[V floats] per position]}]}]}.
  The f16 entry's logits are those of the same model with every 2-D weight rounded to float16.

config.json is written in the form Hugging Face hub models ship (top-level `rope_theta` and
`rope_scaling`), which transformers 5 still reads; transformers 5 itself would write `rope_parameters`.
Every logit is computed on the model loaded back from the written files; the GGUF files are loaded back
by transformers too (which un-permutes Q/K) and must give the same logits, which checks the permutation.
"""
import json
import os

import gguf
import numpy as np
import torch
import transformers
from transformers import AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

from reference_model import ROOT, rounded, write_json
from tokenizer_reference import train_tiny

FIXTURES = os.path.join(ROOT, "Tests", "TransformerTests", "Fixtures")
TOKENIZER_VOCAB = 300  # what the BPE trainer aims at; the model's vocab is the tokenizer's final size
SEQUENCE_TEXTS = ["7 * 8 = 56", "Hello world", "def add(a, b):\n    return a + b\n\nHello, world!"]
MAX_SEQUENCE = 18
DIGITS = 6

SHAPES = dict(hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=4,
              num_key_value_heads=2, head_dim=8, rms_norm_eps=1e-5, max_position_embeddings=64,
              bos_token_id=1, eos_token_id=2, hidden_act="silu")
LLAMA3_SCALING = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                  "original_max_position_embeddings": 16}


# --- the tokenizer --------------------------------------------------------------------------

def tiny_tokenizer():
    tok, data, specials = train_tiny("smollm", merges_as_strings=False, with_bos=False, vocab_size=TOKENIZER_VOCAB)
    return tok, data, specials


def write_tokenizer(folder, data, specials):
    write_json(os.path.join(folder, "tokenizer.json"), data)
    write_json(os.path.join(folder, "tokenizer_config.json"), {
        "tokenizer_class": "PreTrainedTokenizerFast", "bos_token": specials[1], "eos_token": specials[2],
        "add_bos_token": False, "model_max_length": SHAPES["max_position_embeddings"]})


# --- the model ------------------------------------------------------------------------------

def random_model(vocab, scaled, seed):
    """Weights large enough that the logits differ clearly from position to position (the default
    init of std 0.02 gives nearly uniform outputs, which would hide mistakes)."""
    config = LlamaConfig(vocab_size=vocab, rope_theta=10000.0, tie_word_embeddings=not scaled,
                         rope_scaling=dict(LLAMA3_SCALING) if scaled else None, **SHAPES)
    model = LlamaForCausalLM(config).float().eval()
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for _, p in model.named_parameters():
            if p.ndim == 1:
                p.copy_(1.0 + 0.2 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(torch.randn(p.shape, generator=g) / p.shape[1] ** 0.5)
    return model


def classic_config(folder, scaled):
    """Rewrites config.json with top-level rope_theta / rope_scaling, as hub Llama models have it."""
    path = os.path.join(folder, "config.json")
    with open(path) as f:
        config = json.load(f)
    rope = config.pop("rope_parameters")
    config["rope_theta"] = rope.pop("rope_theta")
    config["rope_scaling"] = dict(LLAMA3_SCALING) if scaled else None
    config["torch_dtype"] = config.pop("dtype", "float32")
    with open(path, "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
        f.write("\n")
    return config


def save_model_folder(model, folder, data, specials):
    """config.json as transformers writes it, model.safetensors and the tiny tokenizer's files."""
    os.makedirs(folder, exist_ok=True)
    model.save_pretrained(folder, safe_serialization=True)
    gen = os.path.join(folder, "generation_config.json")
    if os.path.exists(gen):
        os.remove(gen)  # not needed to load the model; one file less to explain
    write_tokenizer(folder, data, specials)
    PreTrainedTokenizerFast.from_pretrained(folder)  # must load as a Hugging Face tokenizer


def save_folder(model, name, data, specials, scaled):
    folder = os.path.join(FIXTURES, name)
    save_model_folder(model, folder, data, specials)
    return folder, classic_config(folder, scaled)


# --- GGUF -----------------------------------------------------------------------------------

def to_llama_cpp_rope_rows(w, heads):
    """llama.cpp's converter reorders each head's rows of Q and K: viewed as [heads, 2, Dh/2, in], the
    two middle axes swap, so Hugging Face's rotate-halves pairs (i, i + Dh/2) become adjacent rows
    (2i, 2i+1) as llama.cpp's RoPE rotates them."""
    rows, cols = w.shape
    return w.reshape(heads, 2, rows // heads // 2, cols).swapaxes(1, 2).reshape(rows, cols)


GGUF_NAMES = {
    "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down", "input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm",
}


def gguf_tensors(model):
    cfg = model.config
    state = {k: v.detach().numpy().astype(np.float32) for k, v in model.state_dict().items()}
    yield "token_embd.weight", state["model.embed_tokens.weight"]
    for i in range(cfg.num_hidden_layers):
        for hf, short in GGUF_NAMES.items():
            w = state[f"model.layers.{i}.{hf}.weight"]
            if short == "attn_q":
                w = to_llama_cpp_rope_rows(w, cfg.num_attention_heads)
            elif short == "attn_k":
                w = to_llama_cpp_rope_rows(w, cfg.num_key_value_heads)
            yield f"blk.{i}.{short}.weight", w
    yield "output_norm.weight", state["model.norm.weight"]
    if not cfg.tie_word_embeddings:
        yield "output.weight", state["lm_head.weight"]


def write_gguf(path, model, tok, data, f16):
    cfg = model.config
    w = gguf.GGUFWriter(path, "llama")
    w.add_name("lazarus tiny llama")
    w.add_context_length(cfg.max_position_embeddings)
    w.add_embedding_length(cfg.hidden_size)
    w.add_block_count(cfg.num_hidden_layers)
    w.add_feed_forward_length(cfg.intermediate_size)
    w.add_head_count(cfg.num_attention_heads)
    w.add_head_count_kv(cfg.num_key_value_heads)
    w.add_key_length(cfg.head_dim)
    w.add_value_length(cfg.head_dim)
    w.add_rope_dimension_count(cfg.head_dim)
    w.add_rope_freq_base(cfg.rope_parameters["rope_theta"])
    w.add_layer_norm_rms_eps(cfg.rms_norm_eps)
    w.add_vocab_size(cfg.vocab_size)
    w.add_file_type(gguf.LlamaFileType.MOSTLY_F16 if f16 else gguf.LlamaFileType.ALL_F32)
    add_tiny_vocab(w, tok, data, cfg.bos_token_id, cfg.eos_token_id)

    for name, array in gguf_tensors(model):
        # As llama.cpp's converter does: 1-D tensors (the norms) stay F32 in an F16 file.
        w.add_tensor(name, array.astype(np.float16) if f16 and array.ndim == 2 else array)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    print(f"wrote {os.path.relpath(path, ROOT)} ({os.path.getsize(path)} bytes)")


def add_tiny_vocab(w, tok, data, bos, eos):
    """The tiny tokenizer as tokenizer.ggml.* keys (gpt2 model, SmolLM2's `smollm` split rule, no BOS);
    make_tiny_families.py writes the same vocabulary into its GGUF files."""
    vocab = tok.get_vocab(with_added_tokens=True)
    tokens = [None] * len(vocab)
    for t, i in vocab.items():
        tokens[i] = t
    added = {a.content: a.special for a in tok.get_added_tokens_decoder().values()}
    types = [gguf.TokenType.CONTROL if added.get(t) else gguf.TokenType.USER_DEFINED if t in added
             else gguf.TokenType.NORMAL for t in tokens]
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("smollm")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges([" ".join(m) if isinstance(m, list) else m for m in data["model"]["merges"]])
    w.add_bos_token_id(bos)
    w.add_eos_token_id(eos)
    w.add_add_bos_token(False)


# --- references -----------------------------------------------------------------------------

@torch.no_grad()
def all_logits(model, sequences):
    return [model(torch.tensor([ids]), use_cache=False).logits[0] for ids in sequences]


def f16_rounded(model):
    copy = LlamaForCausalLM(model.config).float().eval()
    copy.load_state_dict(model.state_dict())
    with torch.no_grad():
        for _, p in copy.named_parameters():
            if p.ndim == 2:
                p.copy_(p.half().float())
    return copy


def check_same(name, expected, got, atol):
    worst = max(float((a - b).abs().max()) for a, b in zip(expected, got))
    print(f"{name}: max |difference| {worst:.2e}")
    assert worst <= atol, (name, worst)


def entry(name, files, weights, config, texts, sequences, logits):
    return {
        "name": name, "files": files, "weights": weights, "config": config,
        "sequences": [{"text": t, "ids": ids, "logits": [rounded(row, DIGITS) for row in l]}
                      for t, ids, l in zip(texts, sequences, logits)],
    }


def main():
    tok, data, specials = tiny_tokenizer()
    vocab = tok.get_vocab_size(with_added_tokens=True)
    sequences = [tok.encode(t, add_special_tokens=False).ids[:MAX_SEQUENCE] for t in SEQUENCE_TEXTS]
    texts = [tok.decode(ids) for ids in sequences]
    print(f"tokenizer: {vocab} tokens; sequence lengths {[len(s) for s in sequences]}")

    models = []
    for name, scaled, seed in (("tiny_llama_hf", False, 1234), ("tiny_llama_hf_scaled", True, 5678)):
        original = random_model(vocab, scaled, seed)
        folder, config = save_folder(original, name, data, specials, scaled)
        loaded = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
        assert loaded.config.tie_word_embeddings == (not scaled)
        assert (loaded.config.rope_parameters["rope_type"] == "llama3") == scaled
        logits = all_logits(loaded, sequences)
        check_same(f"{name} reloaded", all_logits(original, sequences), logits, 1e-6)
        files = [f"{name}/model.safetensors"]
        f16_entry = None
        if not scaled:
            for f16, file in ((False, "tiny_llama.gguf"), (True, "tiny_llama_f16.gguf")):
                write_gguf(os.path.join(FIXTURES, file), loaded, tok, data, f16)
                from_gguf = AutoModelForCausalLM.from_pretrained(FIXTURES, gguf_file=file, dtype=torch.float32).eval()
                expected = all_logits(f16_rounded(loaded), sequences) if f16 else logits
                check_same(f"{file} through transformers' GGUF loader", expected, all_logits(from_gguf, sequences), 1e-5)
                if f16:
                    f16_entry = entry(name + " (f16)", [file], "float16-rounded 2-D weights, float32 norms",
                                      config, texts, sequences, expected)
                else:
                    files.append(file)
        models.append(entry(name, files, "float32", config, texts, sequences, logits))
        if f16_entry:
            models.append(f16_entry)

    write_json(os.path.join(FIXTURES, "tiny_llama_reference.json"), {
        "generator": "tools/make_tiny_llama.py",
        "transformers_version": transformers.__version__,
        "torch_version": torch.__version__,
        "notes": ("logits[t] is the full next-token logit vector after position t of ids, float32, no BOS, "
                  "no padding. The GGUF files hold tiny_llama_hf's weights with Q/K rows in llama.cpp's "
                  "order; loaded and un-permuted they must give these logits. The (f16) entry is the same "
                  "model with its 2-D weights rounded to float16, as tiny_llama_f16.gguf stores them."),
        "models": models,
    })


if __name__ == "__main__":
    main()
