#!/usr/bin/env python3
"""Writes tiny random Qwen2, Qwen3, Mistral and Gemma 3 models (Hugging Face folders and GGUF files of the
same weights) and their transformers reference outputs, so the Swift families can be checked without a
real checkpoint.

Dev-only (run with the dev venv: /opt/lazarus-dev-venv/bin/python tools/make_tiny_families.py).
Every model is float32, eager attention, seeded random weights; every number comes from the model loaded
back from the written files. Into Tests/TransformerTests/Fixtures/families/:

- tiny_qwen2/        Qwen2ForCausalLM: q/k/v biases (no o bias), tied unembedding, no sliding window
                     (use_sliding_window false, as every Qwen2.5 checkpoint).
- tiny_qwen2_v4/     the same weights with config.json in the hub's transformers-4 form (top-level
                     rope_theta, rope_scaling null, use_sliding_window/sliding_window/max_window_layers,
                     torch_dtype, no layer_types / rope_parameters).
- tiny_qwen3/        Qwen3ForCausalLM: per-head q_norm / k_norm (plain RMSNorm weight w, eps = rms_norm_eps)
                     before RoPE, head_dim 16 != hidden/heads 8, untied lm_head.
- tiny_mistral/      MistralForCausalLM: sliding_window 8 on every layer, untied lm_head.
- tiny_gemma3/       Gemma3ForCausalLM (model_type gemma3_text): 7 layers, default pattern (every 6th global:
                     layer 5 full, layers 0-4 and 6 sliding, window 8), QK-norm, pre+post norms per sublayer,
                     GeGLU tanh, tied, head_dim 256 = query_pre_attn_scalar 256 (the shape of every Gemma 3
                     but 27B, for which the GGUF's missing keys have one right reading), rope 1e5 global /
                     1e4 local.
- tiny_gemma3_v4/    the same weights, config.json in the hub's transformers-4 form (rope_theta,
                     rope_local_base_freq, sliding_window_pattern 6, query_pre_attn_scalar, rope_scaling null,
                     no layer_types / rope_parameters), as google/gemma-3-1b-it ships it.
- tiny_gemma3_scaled/ Gemma 3 with everything the GGUF cannot carry: head_dim 16, query_pre_attn_scalar 24
                     (scale 24^-0.5, neither 16^-0.5 nor the GGUF default 256^-0.5), final_logit_softcapping
                     5.0, explicit non-periodic layer_types [s, f, s, s, s, f], rope 2e4 local. HF form only,
                     plus a GGUF as the converter writes it, which no reader can load right (see below).
- tiny_qwen2.gguf, tiny_qwen3.gguf, tiny_mistral.gguf, tiny_gemma3.gguf, tiny_gemma3_scaled.gguf: F32
  (`--outtype f32`), written as llama.cpp's convert_hf_to_gguf.py (conversion/{base,qwen,llama,gemma}.py)
  writes them; every folder holds tokenizer.json + tokenizer_config.json of the tiny byte-level BPE of
  tools/tokenizer_reference.train_tiny ("smollm" split rule), the same one the GGUFs carry as
  tokenizer.ggml.* (model gpt2, pre smollm: the tiny tokenizer's real rule; the converter would look the
  pre-tokenizer up by hash, which a trained toy tokenizer has none of).
- tiny_families_reference.json: {"generator", "transformers_version", "torch_version", "gguf_version", "notes",
    "models": [{"name", "family", "hf_class", "folders": [...], "gguf", "gguf_arch",
                "config": {the values the forward uses}, "layer_types": [...], "layers": ["embed", "L0", ...],
                "prompts": [{"ids", "text", "last_logprobs": [V], "hidden_l2": [[T floats] per layer entry],
                             "final_normed_l2": [T], "greedy_ids": [8 ids]}],
                "gguf_reading": {how transformers reads the GGUF back, and what it gives},
                "checks": {measured facts, e.g. that attn_logit_softcapping changes nothing in Gemma 3}}]}
  last_logprobs = log_softmax of the last position's logits (natural log, full vocabulary, after
  final_logit_softcapping when the config has it). hidden_l2[k][t] is the L2 norm of the residual stream at
  position t: "embed" is the embedding output (after Gemma's sqrt(D) scale), "Lk" the output of block k
  BEFORE any final norm, all taken by forward hooks on the decoder layers (transformers' own last
  hidden_states entry is already final-normed; it is final_normed_l2 here, and the hooks are checked
  against hidden_states for the other entries). greedy_ids: 8 argmax steps, each a full forward over the
  prompt plus the tokens so far (no cache, no EOS stop). Prompts are given as ids, no BOS, no padding; two
  are longer than the sliding window of 8, one is exactly 8 long.

What llama.cpp's converter does per architecture (read in ggml-org/llama.cpp conversion/*.py,
gguf-py/gguf/{constants,tensor_mapping}.py, src/llama-model.cpp, src/models/gemma3.cpp), and this script does:
- Common keys (TextModel.set_gguf_parameters): {arch}.block_count, context_length, embedding_length,
  feed_forward_length, attention.head_count, attention.head_count_kv, rope.freq_base (the full-attention
  theta), rope.freq_base_swa (only if the config has a sliding rope theta: rope_parameters.sliding_attention
  or rope_local_base_freq), attention.layer_norm_rms_epsilon, attention.key_length/value_length (only if
  config.json has head_dim), general.file_type. Tensor names come from gguf-py's TensorNameMap for the
  arch (used here too); 2-D weights keep HF's [out, in] row order.
- qwen2 (Qwen2ForCausalLM -> Qwen2Model, a TextModel): nothing more; no Q/K permutation (llama.cpp rotates
  qwen2 with NEOX RoPE, HF's rotate-half pairs); biases as blk.N.attn_{q,k,v}.bias; no sliding-window key.
- qwen3 (Qwen3Model): as qwen2 plus blk.N.attn_q_norm / attn_k_norm ([head_dim], stored as w, no offset).
- Mistral: MistralForCausalLM is registered to LlamaModel, so the GGUF is arch "llama" with llama.* keys,
  vocab_size, rope.dimension_count, Q/K rows permuted like Llama (undo_permute, NORM RoPE), and NO sliding
  window key at all: neither the converter nor llama.cpp's llama arch knows Mistral's window, so a Mistral
  GGUF attends to every position. Its logits equal the folder's only while the prompt fits in the window.
- gemma3 (Gemma3Model): every tensor whose name ends in "norm.weight" gets +1 (attn_norm,
  post_attention_norm, ffn_norm = pre_feedforward_layernorm, post_ffw_norm, attn_q_norm, attn_k_norm,
  output_norm): the GGUF holds the multiplier 1 + w, transformers' safetensors hold w. No Q/K permutation
  (NEOX). token_embd is cut to the tokenizer's real size (a no-op here). Keys: rope.freq_base = the global
  theta, rope.freq_base_swa = the local theta (newer converters; the real gemma-3-270m GGUF predates it),
  attention.sliding_window (unless sliding_window_pattern == 1), final_logit_softcapping (only if set);
  it asserts attn_logit_softcapping is None. It writes NO query_pre_attn_scalar, NO layer pattern, no
  embedding scale. llama.cpp itself hard-codes for gemma3: swa pattern 6 (layer il is full iff il % 6 == 5),
  local rope base 1e4 (set after the keys are read, in the sources read), attention scale 1/sqrt(key_length) except the 62-layer 27B
  (1/sqrt(n_embd/n_head) = 168^-0.5), embedding scale sqrtf(n_embd) in float32.
- How transformers 5.24 reads these GGUFs back (integrations/ggml.py, modeling_gguf_pytorch_utils.py): it
  un-permutes llama Q/K, subtracts 1 from gemma norms, maps rope.freq_base -> rope_theta, key_length ->
  head_dim (gemma3 only), sliding_window (gemma3 only); everything else is the config class default:
  Gemma3TextConfig query_pre_attn_scalar 256, rope_local_base_freq 1e4, sliding_window_pattern 6,
  final_logit_softcapping None; Qwen3Config head_dim 128 (qwen3.attention.key_length is ignored);
  Qwen2 head_dim = hidden/heads. A "llama" GGUF becomes Mistral only if general.name is exactly "mistral",
  and even then MistralConfig's default window 4096 applies (no window for these prompts).
  So: tiny_qwen2.gguf and tiny_gemma3.gguf round-trip exactly; tiny_qwen3.gguf needs head_dim passed by
  hand (done here, recorded); tiny_mistral.gguf reads as Llama with full attention (its full-attention
  logits are recorded as gguf_reading.logprobs_full_attention); tiny_gemma3_scaled.gguf reads wrong in
  transformers (scalar 256, softcap dropped, default pattern) and in llama.cpp (scale 16^-0.5, pattern 6,
  local base 1e4): it is the fixture for a loader that must refuse a Gemma 3 GGUF whose missing keys its
  defaults cannot be right for (here key_length 16 != 256).
Every GGUF is also read back with gguf-py and, after undoing exactly these transforms, compared with the
safetensors bit for bit.
"""
import json
import os
import shutil

import gguf
import numpy as np
import torch
import transformers
from transformers import (AutoModelForCausalLM, Gemma3ForCausalLM, Gemma3TextConfig, MistralConfig,
                          MistralForCausalLM, Qwen2Config, Qwen2ForCausalLM, Qwen3Config, Qwen3ForCausalLM)

from make_tiny_llama import add_tiny_vocab, save_model_folder, tiny_tokenizer, to_llama_cpp_rope_rows
from reference_model import ROOT, rounded, run_with_residuals, write_json

OUT = os.path.join(ROOT, "Tests", "TransformerTests", "Fixtures", "families")
DIGITS = 7  # log-probabilities of magnitude ~10 keep ~1e-6 absolute
GREEDY_TOKENS = 8
WINDOW = 8
PROMPT_TEXTS = [
    "7 * 8 = 56",
    "Hello world, the fox",
    "def add(a, b):\n    return a + b\n\nfor i in range(10):\n    print(add(i, i))",
    "The quick brown fox jumps over the lazy dog. 34 + 19 = add: 53. I'm sure it's fine.",
]
PROMPT_LENGTHS = [5, WINDOW, 14, 24]  # one shorter than, one equal to, two longer than the window
COMMON = dict(max_position_embeddings=64, bos_token_id=1, eos_token_id=2, pad_token_id=None,
              attn_implementation="eager")


def family_specs(vocab):
    """(name, family, model class, config, seed) with the shapes each family's features need."""
    common = dict(COMMON, vocab_size=vocab)
    return [
        ("tiny_qwen2", "qwen2", Qwen2ForCausalLM, Qwen2Config(
            hidden_size=32, intermediate_size=64, num_hidden_layers=3, num_attention_heads=4,
            num_key_value_heads=2, rms_norm_eps=1e-6, rope_parameters={"rope_type": "default", "rope_theta": 1e6},
            tie_word_embeddings=True, use_sliding_window=False, sliding_window=32768, max_window_layers=3,
            hidden_act="silu", **common), 2101),
        ("tiny_qwen3", "qwen3", Qwen3ForCausalLM, Qwen3Config(
            hidden_size=32, intermediate_size=64, num_hidden_layers=3, num_attention_heads=4,
            num_key_value_heads=2, head_dim=16, rms_norm_eps=1e-6,
            rope_parameters={"rope_type": "default", "rope_theta": 1e6}, tie_word_embeddings=False,
            use_sliding_window=False, attention_bias=False, hidden_act="silu", **common), 2102),
        ("tiny_mistral", "mistral", MistralForCausalLM, MistralConfig(
            hidden_size=32, intermediate_size=64, num_hidden_layers=3, num_attention_heads=4,
            num_key_value_heads=1, head_dim=8, rms_norm_eps=1e-5,
            rope_parameters={"rope_type": "default", "rope_theta": 1e4}, tie_word_embeddings=False,
            sliding_window=WINDOW, hidden_act="silu", **common), 2103),
        ("tiny_gemma3", "gemma3", Gemma3ForCausalLM, Gemma3TextConfig(
            hidden_size=16, intermediate_size=32, num_hidden_layers=7, num_attention_heads=2,
            num_key_value_heads=1, head_dim=256, query_pre_attn_scalar=256, rms_norm_eps=1e-6,
            rope_parameters={"full_attention": {"rope_type": "default", "rope_theta": 1e5},
                             "sliding_attention": {"rope_type": "default", "rope_theta": 1e4}},
            sliding_window=WINDOW, final_logit_softcapping=None, attn_logit_softcapping=None,
            hidden_activation="gelu_pytorch_tanh", tie_word_embeddings=True, **common), 2104),
        ("tiny_gemma3_scaled", "gemma3", Gemma3ForCausalLM, Gemma3TextConfig(
            hidden_size=48, intermediate_size=96, num_hidden_layers=6, num_attention_heads=3,
            num_key_value_heads=1, head_dim=16, query_pre_attn_scalar=24, rms_norm_eps=1e-6,
            rope_parameters={"full_attention": {"rope_type": "default", "rope_theta": 1e6},
                             "sliding_attention": {"rope_type": "default", "rope_theta": 2e4}},
            sliding_window=WINDOW, final_logit_softcapping=5.0, attn_logit_softcapping=None,
            layer_types=["sliding_attention", "full_attention", "sliding_attention", "sliding_attention",
                         "sliding_attention", "full_attention"],
            hidden_activation="gelu_pytorch_tanh", tie_word_embeddings=True, **common), 2105),
    ]


# --- the models -----------------------------------------------------------------------------

def randomise(model, family, seed):
    """Weights large enough that outputs differ clearly between positions (the default init of std 0.02
    gives nearly uniform outputs, which would hide mistakes). Gemma's norms hold w with multiplier 1 + w,
    so w is drawn around 0; other norms around 1; biases around 0."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.ndim == 1 and name.endswith("norm.weight"):
                p.copy_((0.0 if family == "gemma3" else 1.0) + 0.2 * torch.randn(p.shape, generator=g))
            elif p.ndim == 1:
                p.copy_(0.2 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(torch.randn(p.shape, generator=g) / p.shape[1] ** 0.5)
    return model


def save_folder(model, name, data, specials):
    folder = os.path.join(OUT, name)
    save_model_folder(model, folder, data, specials)
    with open(os.path.join(folder, "config.json")) as f:
        return folder, json.load(f)


def hub_v4_config(v5, family):
    """config.json as hub checkpoints written by transformers 4 carry it (google/gemma-3-1b-it,
    Qwen/Qwen2.5-0.5B): top-level rope_theta (and Gemma's rope_local_base_freq and
    sliding_window_pattern), rope_scaling null, torch_dtype; no rope_parameters, no layer_types."""
    c = {k: v for k, v in v5.items() if k not in ("rope_parameters", "layer_types", "dtype", "_sliding_window_pattern")}
    rope = v5["rope_parameters"]
    if family == "gemma3":
        c["rope_theta"] = rope["full_attention"]["rope_theta"]
        c["rope_local_base_freq"] = rope["sliding_attention"]["rope_theta"]
        pattern = 6
        expected = ["sliding_attention" if (i + 1) % pattern else "full_attention" for i in range(v5["num_hidden_layers"])]
        assert v5["layer_types"] == expected, "the v4 form can only say a periodic pattern"
        c["sliding_window_pattern"] = pattern
        c["cache_implementation"] = "hybrid"
    else:
        c["rope_theta"] = rope["rope_theta"]
        # Qwen2.5 checkpoints carry a window size with use_sliding_window false: the size must be ignored.
        c["sliding_window"] = 32768
    c["rope_scaling"] = None
    c["torch_dtype"] = v5.get("dtype", "float32")
    c["transformers_version"] = "4.50.0"
    return c


def write_v4_folder(folder, name, v5, family):
    target = os.path.join(OUT, name)
    os.makedirs(target, exist_ok=True)
    for file in ("model.safetensors", "tokenizer.json", "tokenizer_config.json"):
        shutil.copyfile(os.path.join(folder, file), os.path.join(target, file))
    with open(os.path.join(target, "config.json"), "w") as f:
        json.dump(hub_v4_config(v5, family), f, indent=2, sort_keys=True)
        f.write("\n")
    return target


def effective_config(cfg, family):
    """The values the forward pass uses, as transformers resolved them."""
    out = {
        "vocab_size": cfg.vocab_size, "hidden_size": cfg.hidden_size, "intermediate_size": cfg.intermediate_size,
        "num_hidden_layers": cfg.num_hidden_layers, "num_attention_heads": cfg.num_attention_heads,
        "num_key_value_heads": cfg.num_key_value_heads,
        "head_dim": getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads,
        "rms_norm_eps": cfg.rms_norm_eps, "tie_word_embeddings": cfg.tie_word_embeddings,
        "rope_parameters": cfg.rope_parameters,
        "sliding_window": getattr(cfg, "sliding_window", None),
        "activation": getattr(cfg, "hidden_activation", None) or cfg.hidden_act,
    }
    if family == "qwen2":
        out["attention_bias"] = "q, k, v (not o)"
    if family in ("qwen2", "qwen3"):
        out["use_sliding_window"] = cfg.use_sliding_window
    if family == "gemma3":
        out.update(query_pre_attn_scalar=cfg.query_pre_attn_scalar,
                   attention_scale=cfg.query_pre_attn_scalar ** -0.5,
                   final_logit_softcapping=cfg.final_logit_softcapping,
                   attn_logit_softcapping=cfg.attn_logit_softcapping,
                   embedding_scale=float(torch.tensor(cfg.hidden_size ** 0.5, dtype=torch.float32)))
    return out


# --- the references -------------------------------------------------------------------------

@torch.no_grad()
def greedy(model, ids, steps=GREEDY_TOKENS):
    seq = list(ids)
    for _ in range(steps):
        seq.append(int(torch.argmax(model(torch.tensor([seq]), use_cache=False).logits[0, -1])))
    return seq[len(ids):]


@torch.no_grad()
def last_logprobs(model, prompts):
    return [torch.log_softmax(model(torch.tensor([ids]), use_cache=False).logits[0, -1], -1) for ids in prompts]


def prompt_entries(model, prompts, texts):
    """The JSON entries, and the unrounded last-position log-probabilities for the checks."""
    entries, raw = [], []
    for ids, text in zip(prompts, texts):
        logits, residuals, normed = run_with_residuals(model, ids)
        raw.append(torch.log_softmax(logits[-1], -1))
        entries.append({
            "ids": ids, "text": text,
            "last_logprobs": rounded(torch.log_softmax(logits[-1], -1), DIGITS),
            "hidden_l2": [rounded(r.norm(dim=-1), DIGITS) for r in residuals],
            "final_normed_l2": rounded(normed.norm(dim=-1), DIGITS),
            "greedy_ids": greedy(model, ids),
        })
    return entries, raw


def worst(a, b):
    return max(float((x - y).abs().max()) for x, y in zip(a, b))


# --- GGUF -----------------------------------------------------------------------------------

GGUF_ARCH = {"qwen2": gguf.MODEL_ARCH.QWEN2, "qwen3": gguf.MODEL_ARCH.QWEN3, "mistral": gguf.MODEL_ARCH.LLAMA,
             "gemma3": gguf.MODEL_ARCH.GEMMA3}


def converted_tensors(model, family):
    """(GGUF name, array) pairs as the converter's modify_tensors yields them for this family."""
    cfg = model.config
    names = gguf.get_tensor_name_map(GGUF_ARCH[family], cfg.num_hidden_layers)
    for hf_name, tensor in model.state_dict().items():
        if hf_name == "lm_head.weight" and cfg.tie_word_embeddings:
            continue  # a tied checkpoint has no lm_head tensor on disk
        array = tensor.detach().numpy().astype(np.float32)
        if family == "mistral" and hf_name.endswith("q_proj.weight"):
            array = to_llama_cpp_rope_rows(array, cfg.num_attention_heads)
        elif family == "mistral" and hf_name.endswith("k_proj.weight"):
            array = to_llama_cpp_rope_rows(array, cfg.num_key_value_heads)
        if family == "gemma3" and hf_name.endswith("norm.weight"):
            array = array + np.float32(1.0)
        name = names.get_name(hf_name, try_suffixes=(".weight", ".bias"))
        assert name is not None, (family, hf_name)
        yield name, array


def write_gguf(path, model, family, v5, tok, data, display_name):
    cfg = model.config
    arch = gguf.MODEL_ARCH_NAMES[GGUF_ARCH[family]]
    w = gguf.GGUFWriter(path, arch)
    w.add_type(gguf.GGUFType.MODEL)
    w.add_name(display_name)
    w.add_block_count(cfg.num_hidden_layers)
    w.add_context_length(cfg.max_position_embeddings)
    w.add_embedding_length(cfg.hidden_size)
    w.add_feed_forward_length(cfg.intermediate_size)
    w.add_head_count(cfg.num_attention_heads)
    w.add_head_count_kv(cfg.num_key_value_heads)
    rope = cfg.rope_parameters
    if family == "gemma3":
        w.add_rope_freq_base(rope["full_attention"]["rope_theta"])
        w.add_rope_freq_base_swa(rope["sliding_attention"]["rope_theta"])
    else:
        w.add_rope_freq_base(rope["rope_theta"])
    w.add_layer_norm_rms_eps(cfg.rms_norm_eps)
    if "head_dim" in v5:
        w.add_key_length(v5["head_dim"])
        w.add_value_length(v5["head_dim"])
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    if family == "mistral":  # LlamaModel.set_gguf_parameters
        w.add_vocab_size(cfg.vocab_size)
        w.add_rope_dimension_count(cfg.head_dim)
    if family == "gemma3":  # Gemma3Model.set_gguf_parameters
        if cfg.final_logit_softcapping:
            w.add_final_logit_softcapping(cfg.final_logit_softcapping)
        w.add_sliding_window(cfg.sliding_window)
    add_tiny_vocab(w, tok, data, cfg.bos_token_id, cfg.eos_token_id)
    for name, array in converted_tensors(model, family):
        w.add_tensor(name, array)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    print(f"wrote {os.path.relpath(path, ROOT)} ({os.path.getsize(path)} bytes)")


def check_gguf_tensors(path, model, family):
    """Reads the GGUF back with gguf-py and compares every tensor with the converted safetensors ones."""
    reader = gguf.GGUFReader(path)
    stored = {t.name: np.array(t.data) for t in reader.tensors}
    expected = dict(converted_tensors(model, family))
    assert set(stored) == set(expected), (set(stored) ^ set(expected))
    for name, array in expected.items():
        assert np.array_equal(stored[name].reshape(array.shape), array), name
    return sorted(stored)


@torch.no_grad()
def load_gguf(file, **overrides):
    return AutoModelForCausalLM.from_pretrained(OUT, gguf_file=file, dtype=torch.float32,
                                                attn_implementation="eager", **overrides).eval()


@torch.no_grad()
def gguf_reading(model, family, file, prompts, expected):
    """How transformers' GGUF loader reads the file, and how close its logits come to the folder's."""
    out = {}
    try:
        loaded = load_gguf(file)
        out["config_overrides"] = {}
    except Exception as error:  # recorded, not hidden: the lead needs to know which GGUFs transformers reads
        out["plain_load_error"] = f"{type(error).__name__}: {error}".splitlines()[0][:200]
        if family != "qwen3":
            raise
        # transformers ignores qwen3.attention.key_length and takes Qwen3Config's head_dim 128.
        out["config_overrides"] = {"head_dim": model.config.head_dim}
        loaded = load_gguf(file, **out["config_overrides"])
    got = last_logprobs(loaded, prompts)
    diffs = [float((g - e).abs().max()) for g, e in zip(got, expected)]
    out.update({"class": type(loaded).__name__, "max_abs_logprob_diff_per_prompt": rounded(diffs, 3)})
    if family == "gemma3":
        out.update(query_pre_attn_scalar=loaded.config.query_pre_attn_scalar,
                   final_logit_softcapping=loaded.config.final_logit_softcapping,
                   layer_types=loaded.config.layer_types, rope_parameters=loaded.config.rope_parameters)
    if family == "mistral":
        # The GGUF has no window: its reference is the same weights attending to every position.
        full = type(model)(type(model.config)(**{**model.config.to_dict(), "sliding_window": None})).eval()
        full.load_state_dict(model.state_dict())
        full_lp = last_logprobs(full, prompts)
        out["logprobs_full_attention"] = [rounded(lp, DIGITS) for lp in full_lp]
        out["max_abs_diff_to_full_attention"] = rounded([float((g - f).abs().max()) for g, f in zip(got, full_lp)], 3)
        out["window_changes_logprobs_by"] = rounded(diffs, 3)
        out["sliding_window_read"] = getattr(loaded.config, "sliding_window", None)
    print(f"{file} through transformers' GGUF loader ({out['class']}): max |logprob diff| per prompt {out['max_abs_logprob_diff_per_prompt']}")
    return out


def main():
    tok, data, specials = tiny_tokenizer()
    vocab = tok.get_vocab_size(with_added_tokens=True)
    prompts = []
    for text, length in zip(PROMPT_TEXTS, PROMPT_LENGTHS):
        ids = tok.encode(text, add_special_tokens=False).ids
        assert len(ids) >= length, (text, len(ids))
        prompts.append(ids[:length])
    texts = [tok.decode(ids) for ids in prompts]
    print(f"tokenizer: {vocab} tokens; prompt lengths {[len(p) for p in prompts]}")
    os.makedirs(OUT, exist_ok=True)

    models = []
    for name, family, cls, config, seed in family_specs(vocab):
        original = randomise(cls(config).float().eval(), family, seed)
        folder, v5 = save_folder(original, name, data, specials)
        loaded = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32, attn_implementation="eager").eval()
        assert type(loaded) is cls, type(loaded)
        entries, raw = prompt_entries(loaded, prompts, texts)
        same = worst(last_logprobs(original, prompts), raw)
        print(f"{name}: reloaded folder vs original max |logprob diff| {same:.1e}")
        folders = [os.path.relpath(folder, OUT)]
        if name in ("tiny_qwen2", "tiny_gemma3"):
            v4 = write_v4_folder(folder, name + "_v4", v5, family)
            from_v4 = AutoModelForCausalLM.from_pretrained(v4, dtype=torch.float32, attn_implementation="eager").eval()
            assert getattr(from_v4.config, "layer_types", None) == getattr(loaded.config, "layer_types", None)
            assert from_v4.config.rope_parameters == loaded.config.rope_parameters, (
                from_v4.config.rope_parameters, loaded.config.rope_parameters)
            diff = worst(last_logprobs(from_v4, prompts), last_logprobs(loaded, prompts))
            print(f"{name}_v4 (transformers-4 config.json) vs v5: max |logprob diff| {diff:.1e}")
            assert diff == 0.0, diff
            folders.append(os.path.relpath(v4, OUT))
        checks = {}
        if name == "tiny_gemma3":
            # Gemma 3 has no attention soft-cap: transformers keeps the config value but never applies it.
            capped = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32, attn_implementation="eager",
                                                          attn_logit_softcapping=0.5).eval()
            checks["logprob_change_with_attn_logit_softcapping_0.5"] = worst(last_logprobs(capped, prompts), raw)
            assert checks["logprob_change_with_attn_logit_softcapping_0.5"] == 0.0
        file = name + ".gguf"
        display = {"tiny_mistral": "Tiny Mistral"}.get(name, name.replace("_", " "))
        write_gguf(os.path.join(OUT, file), loaded, family, v5, tok, data, display)
        check_gguf_tensors(os.path.join(OUT, file), loaded, family)
        reading = gguf_reading(loaded, family, file, prompts, raw)
        if name != "tiny_gemma3_scaled" and family != "mistral":
            assert max(reading["max_abs_logprob_diff_per_prompt"]) < 1e-4, reading
        elif family == "mistral":
            assert max(reading["max_abs_diff_to_full_attention"]) < 1e-4, reading
        cfg = loaded.config
        models.append({
            "name": name, "family": family, "hf_class": cls.__name__, "folders": folders, "gguf": file,
            "gguf_arch": gguf.MODEL_ARCH_NAMES[GGUF_ARCH[family]],
            "config": effective_config(cfg, family),
            "layer_types": getattr(cfg, "layer_types", None) or ["full_attention"] * cfg.num_hidden_layers,
            "layers": ["embed"] + [f"L{k}" for k in range(cfg.num_hidden_layers)],
            "prompts": entries, "gguf_reading": reading, "checks": checks,
        })

    write_json(os.path.join(OUT, "tiny_families_reference.json"), {
        "generator": "tools/make_tiny_families.py",
        "transformers_version": transformers.__version__,
        "torch_version": torch.__version__,
        "gguf_version": getattr(gguf, "__version__", "gguf-py 0.19"),
        "notes": ("last_logprobs: log_softmax of the last position (natural log, full vocabulary, float32, after "
                  "final_logit_softcapping where set). hidden_l2[k][t]: L2 norm of the residual stream at position t "
                  "after layers[k] ('embed' = scaled embedding output, 'Lk' = block k output BEFORE the final norm, "
                  "by forward hooks); final_normed_l2 = transformers' last hidden_states entry (after the final norm). "
                  "greedy_ids: 8 argmax steps of full forwards, no cache, no EOS stop. Ids fed as given, no BOS. "
                  "See the script's docstring for what each GGUF holds and how transformers reads it back."),
        "models": models,
    })


if __name__ == "__main__":
    main()
