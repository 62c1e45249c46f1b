#!/usr/bin/env python3
"""Writes tiny random Mixtral and GPT-OSS models (Hugging Face folders and GGUF files of the same weights),
their transformers references, and MXFP4 blocks decoded by gguf-py, so the Swift mixture-of-experts
blocks can be checked without a real checkpoint.

Dev-only (run with the dev venv: /opt/lazarus-dev-venv/bin/python tools/make_tiny_moe.py).
Every model is float32, eager attention, eager experts (`experts_implementation="eager"`, the
per-expert loop of the modeling file), seeded random weights; every number comes from the model loaded
back from the written folder. Into Tests/TransformerTests/Fixtures/moe/:

- tiny_mixtral/      MixtralForCausalLM: 3 layers, 4 experts, top-2, D 32, F 48, 4 heads / 2 kv heads,
                     sliding_window 8 on every layer, untied. Saved by transformers 5.24 in the hub's layout:
                     model.layers.N.block_sparse_moe.gate.weight [E, D] and
                     block_sparse_moe.experts.J.{w1 (gate), w2 (down), w3 (up)}.weight, [F, D] / [D, F] / [F, D].
- tiny_gpt_oss/      GptOssForCausalLM: 3 layers (sliding, full, sliding: transformers' default alternation
                     starting with sliding), window 8, 4 experts, top-2, D 32, F 64, head_dim 8, 4 heads / 2 kv
                     heads, q/k/v/o biases, per-head attention sinks, YaRN (factor 32, original 4096,
                     beta_fast 32, beta_slow 1, truncate false, theta 150000), swiglu_alpha 1.702,
                     swiglu_limit 7.0. Tensors: mlp.router.{weight [E, D], bias [E]},
                     mlp.experts.gate_up_proj [E, D, 2F] (input-major; gate = even columns, up = odd),
                     gate_up_proj_bias [E, 2F] (interleaved the same way), down_proj [E, F, D],
                     down_proj_bias [E, D], self_attn.sinks [H].
- tiny_mixtral.gguf  arch `llama` as llama.cpp's converter writes Mixtral (conversion/llama.py): Q/K rows permuted,
                     the experts stacked into blk.N.ffn_{gate,up,down}_exps.weight ([E, F, D], [E, F, D], [E, D, F]
                     row-major), router blk.N.ffn_gate_inp.weight, llama.expert_count / expert_used_count; no
                     window key (llama.cpp runs it with full attention, so its reference is the full-attention one).
- tiny_gpt_oss.gguf  arch `gpt-oss` as conversion/gpt_oss.py writes it: gate/up de-interleaved into
                     ffn_gate_exps / ffn_up_exps [E, F, D] (+ .bias [E, F]), ffn_down_exps [E, D, F] (+ .bias [E, D]),
                     attn_sinks.weight, ffn_gate_inp.{weight,bias}, post_attention_norm (the MLP's pre-norm), the
                     three expert weights MXFP4 (gguf-py's quantiser, file type MOSTLY_MXFP4_MOE), everything else
                     F32; keys sliding_window, expert_feed_forward_length, expert_count, expert_used_count,
                     rope.scaling.{type yarn, factor, original_context_length, yarn_beta_fast, yarn_beta_slow}
                     (no truncate key: the reader takes GPT-OSS's truncate false). Its reference is the
                     folder's model with the experts replaced by gguf-py's dequantisation of those blocks.
- tiny_gpt_oss_mxfp4/ the same model with the GGUF's MXFP4 expert blocks in the released checkpoints' safetensors
                     layout (transformers' integrations/mxfp4.py): mlp.experts.gate_up_proj_blocks [E, 2F, D/32, 16] U8
                     (output-major, gate and up rows interleaved, byte j = value 2j | value 2j+1 << 4),
                     gate_up_proj_scales [E, 2F, D/32] (E8M0), down_proj_blocks [E, D, F/32, 16], down_proj_scales;
                     config.json with quantization_config quant_method mxfp4. Its reference ("mxfp4_prompts") is
                     transformers' reading with Mxfp4Config(dequantize=True), checked equal to the GGUF's.
- peft_tiny_mixtral/, peft_tiny_gpt_oss/: LoRA adapters PEFT 0.21 saved for the attention projections (r 4,
                     alpha 8, B seeded random); "peft" in the reference: their target modules and PEFT's adapted
                     last-position log-probs per prompt.
- yarn_reference.json: {"cases": [{"name", "head_dim", "rope_theta", "parameters", "inv_freq_bits" (float32 bit
                     patterns), "attention_factor"}]}: transformers' YaRN on five configs (truncate false and
                     true, an explicit attention_factor, mscale / mscale_all_dim).
- tiny_moe_reference.json: {"generator", "transformers_version", "torch_version", "notes",
    "models": [{"name", "family", "hf_class", "folder", "gguf", "config": {...}, "layer_types",
                "prompts": [{"ids", "last_logprobs": [V], "hidden_l2": [[T] per layer entry],
                             "greedy_ids": [8], "router": [{"layer", "top_k": [[k] per position],
                             "weights": [[k] per position], "logits": [[E] per position]}],
                             "min_router_gap": the smallest gap between the k-th and (k+1)-th router logit}],
                "gguf_prompts": [{"ids", "last_logprobs", "greedy_ids", "router": [...]}] (the GGUF's own reference),
                "checks": {...}}]}
  last_logprobs = log_softmax of the last position (natural log). hidden_l2: L2 norms of the residual stream
  (embed, then each block's output before the final norm) at every position. router: the router module's own
  outputs, by forward hooks (Mixtral: softmax over all E logits, top-k of the probabilities, renormalised;
  GPT-OSS: top-k of the logits, softmax over the k chosen). greedy_ids: 8 argmax steps without a cache.
Into Tests/ModelFilesTests/Fixtures/mxfp4_blocks.json: {"generator", "gguf_version", "cases": [{"type": "MXFP4",
  "ggml_type": 39, "source", "block_values": 32, "block_bytes": 17, "blocks", "bytes_base64", "values", "value_bits"}]}
  (quant_blocks.json's schema; values null where not finite):
  gguf.quants.dequantize of (a) seeded random floats quantised by gguf-py and (b) 256 blocks whose E8M0 byte
  runs over every value 0...255 with seeded random nibbles. value_bits are IEEE-754 bit patterns.
"""
import base64
import importlib.metadata
import json
import os
import shutil

import gguf
import numpy as np
import torch
import transformers
from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType as Q
from gguf.quants import dequantize, quantize
from safetensors import safe_open
from safetensors.numpy import save_file
from transformers import AutoModelForCausalLM, GptOssConfig, GptOssForCausalLM, MixtralConfig, MixtralForCausalLM

from make_tiny_families import PROMPT_LENGTHS, PROMPT_TEXTS, WINDOW
from make_tiny_llama import add_tiny_vocab, save_model_folder, tiny_tokenizer, to_llama_cpp_rope_rows
from reference_model import ROOT, rounded, run_with_residuals, write_json

OUT = os.path.join(ROOT, "Tests", "TransformerTests", "Fixtures", "moe")
MXFP4_OUT = os.path.join(ROOT, "Tests", "ModelFilesTests", "Fixtures", "mxfp4_blocks.json")
DIGITS = 7
GREEDY_TOKENS = 8
COMMON = dict(max_position_embeddings=64, bos_token_id=1, eos_token_id=2, pad_token_id=None)
YARN = {"rope_type": "yarn", "rope_theta": 150000.0, "factor": 32.0, "beta_fast": 32.0, "beta_slow": 1.0,
        "truncate": False, "original_max_position_embeddings": 4096}


def specs(vocab):
    common = dict(COMMON, vocab_size=vocab)
    return [
        ("tiny_mixtral", "mixtral", MixtralForCausalLM, MixtralConfig(
            hidden_size=32, intermediate_size=48, num_hidden_layers=3, num_attention_heads=4, num_key_value_heads=2,
            num_local_experts=4, num_experts_per_tok=2, rms_norm_eps=1e-5, sliding_window=WINDOW,
            rope_parameters={"rope_type": "default", "rope_theta": 1e6}, tie_word_embeddings=False,
            hidden_act="silu", router_jitter_noise=0.0, **common), 2201),
        ("tiny_gpt_oss", "gpt_oss", GptOssForCausalLM, GptOssConfig(
            hidden_size=32, intermediate_size=64, num_hidden_layers=3, num_attention_heads=4, num_key_value_heads=2,
            head_dim=8, num_local_experts=4, num_experts_per_tok=2, rms_norm_eps=1e-5, sliding_window=WINDOW,
            rope_parameters=dict(YARN), tie_word_embeddings=False, attention_bias=True,
            swiglu_alpha=1.702, swiglu_limit=7.0, **common), 2202),
    ]


def randomise(model, family, seed):
    """Weights large enough that positions differ clearly. GPT-OSS's expert weights are scaled up so that
    some gate and up pre-activations pass the clamp limit of 7 (checked below); its sinks are of order 1."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.copy_(1.0 + 0.2 * torch.randn(p.shape, generator=g))
            elif name.endswith("sinks"):
                p.copy_(torch.randn(p.shape, generator=g))
            elif p.ndim == 1 or name.endswith("_bias"):
                p.copy_(0.2 * torch.randn(p.shape, generator=g))
            else:
                fan_in = p.shape[-1] if p.ndim == 2 or family == "mixtral" else p.shape[-2]
                scale = 4.0 if name.endswith("gate_up_proj") else 1.0
                p.copy_(scale * torch.randn(p.shape, generator=g) / fan_in ** 0.5)
    return model


def load(folder):
    return AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32, attn_implementation="eager",
                                                experts_implementation="eager").eval()


# --- references -----------------------------------------------------------------------------

@torch.no_grad()
def greedy(model, ids, steps=GREEDY_TOKENS):
    seq = list(ids)
    for _ in range(steps):
        seq.append(int(torch.argmax(model(torch.tensor([seq]), use_cache=False).logits[0, -1])))
    return seq[len(ids):]


def routers(model):
    return [m for m in model.modules() if type(m).__name__.endswith("TopKRouter")]


@torch.no_grad()
def run(model, ids):
    """Logits, residual stream, and each router's (logits, weights, indices) for one prompt."""
    captured = []
    handles = [r.register_forward_hook(lambda _m, _i, out: captured.append(out)) for r in routers(model)]
    try:
        logits, residuals, _ = run_with_residuals(model, ids)
    finally:
        for h in handles:
            h.remove()
    assert len(captured) == model.config.num_hidden_layers
    return logits, residuals, captured


class NearTie(Exception):
    pass


def router_entries(captured, k):
    entries, gap = [], float("inf")
    for layer, (logits, weights, indices) in enumerate(captured):
        ordered = torch.sort(logits, dim=-1, descending=True).values
        gap = min(gap, float((ordered[:, k - 1] - ordered[:, k]).min()))
        entries.append({"layer": layer, "top_k": indices.tolist(),
                        "weights": [rounded(w, DIGITS) for w in weights],
                        "logits": [rounded(l, DIGITS) for l in logits]})
    return entries, gap


def prompt_entries(model, prompts, with_hidden=True):
    k = model.config.num_experts_per_tok
    entries = []
    for ids in prompts:
        logits, residuals, captured = run(model, ids)
        router, gap = router_entries(captured, k)
        # Routing that a float rounding could flip would make "identical choices" a coin toss.
        if gap <= 1e-3:
            raise NearTie(gap)
        e = {"ids": ids, "last_logprobs": rounded(torch.log_softmax(logits[-1], -1), DIGITS),
             "greedy_ids": greedy(model, ids), "router": router, "min_router_gap": gap}
        if with_hidden:
            e["hidden_l2"] = [rounded(r.norm(dim=-1), DIGITS) for r in residuals]
        entries.append(e)
    return entries


@torch.no_grad()
def clamp_fraction(model, prompts):
    """Fraction of GPT-OSS gate pre-activations above the limit and up pre-activations outside ±limit
    among the routed rows, so the fixture is known to exercise the clamp."""
    hits, total = 0, 0
    limit = model.config.swiglu_limit
    def hook(module, inputs, _out):
        nonlocal hits, total
        x, indices = inputs[0], inputs[1]
        for e in indices.unique().tolist():
            rows = (indices == e).any(-1)
            gate_up = x[rows] @ module.gate_up_proj[e] + module.gate_up_proj_bias[e]
            gate, up = gate_up[..., ::2], gate_up[..., 1::2]
            hits += int((gate > limit).sum() + (up.abs() > limit).sum())
            total += gate.numel() + up.numel()
    experts = [m for m in model.modules() if type(m).__name__ == "GptOssExperts"]
    handles = [m.register_forward_hook(hook) for m in experts]
    try:
        for ids in prompts:
            model(torch.tensor([ids]), use_cache=False)
    finally:
        for h in handles:
            h.remove()
    return hits / total


def effective_config(cfg, family):
    out = {k: getattr(cfg, k) for k in ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
                                        "num_attention_heads", "num_key_value_heads", "rms_norm_eps",
                                        "num_local_experts", "num_experts_per_tok", "sliding_window",
                                        "tie_word_embeddings", "rope_parameters")}
    out["head_dim"] = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
    if family == "gpt_oss":
        out.update(swiglu_alpha=cfg.swiglu_alpha, swiglu_limit=cfg.swiglu_limit, attention_bias=cfg.attention_bias)
    return out


# --- GGUF -----------------------------------------------------------------------------------

def checkpoint(folder):
    """The tensors of the folder's model.safetensors, as the converter reads them."""
    with safe_open(os.path.join(folder, "model.safetensors"), "np") as f:
        return {k: f.get_tensor(k).astype(np.float32) for k in f.keys()}


def mixtral_tensors(model, folder):
    """(GGUF name, array, raw dtype or None) as conversion/llama.py writes a Mixtral checkpoint."""
    cfg = model.config
    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, cfg.num_hidden_layers)
    sd = checkpoint(folder)
    for hf, array in sd.items():
        if ".experts." in hf:
            continue
        if hf.endswith("q_proj.weight"):
            array = to_llama_cpp_rope_rows(array, cfg.num_attention_heads)
        elif hf.endswith("k_proj.weight"):
            array = to_llama_cpp_rope_rows(array, cfg.num_key_value_heads)
        name = names.get_name(hf, try_suffixes=(".weight", ".bias"))
        assert name is not None, hf
        yield name, array, None
    for layer in range(cfg.num_hidden_layers):
        for wid in ("w1", "w2", "w3"):
            stacked = np.stack([sd[f"model.layers.{layer}.block_sparse_moe.experts.{e}.{wid}.weight"]
                                for e in range(cfg.num_local_experts)])
            name = names.get_name(f"model.layers.{layer}.block_sparse_moe.experts.{wid}.weight", try_suffixes=(".weight",))
            assert name is not None, wid
            yield name, stacked, None


def gpt_oss_float_tensors(model, folder):
    """(GGUF name, float32 array) as conversion/gpt_oss.py writes a GPT-OSS checkpoint before quantisation."""
    cfg = model.config
    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.GPT_OSS, cfg.num_hidden_layers)
    for hf, array in checkpoint(folder).items():
        if hf.endswith("sinks"):
            hf += ".weight"
        if hf.endswith("experts.gate_up_proj"):
            w = array.transpose(0, 2, 1)  # [E, 2F, D]
            for part, rows in (("gate_proj", w[:, ::2, :]), ("up_proj", w[:, 1::2, :])):
                yield names.get_name(hf.replace("gate_up_proj", part + ".weight"), try_suffixes=(".weight",)), np.ascontiguousarray(rows)
            continue
        if hf.endswith("experts.gate_up_proj_bias"):
            for part, cols in (("gate_proj", array[:, ::2]), ("up_proj", array[:, 1::2])):
                yield names.get_name(hf.replace("gate_up_proj_bias", part + ".bias"), try_suffixes=(".bias",)), np.ascontiguousarray(cols)
            continue
        if hf.endswith("experts.down_proj"):
            yield names.get_name(hf.replace("down_proj", "down_proj.weight"), try_suffixes=(".weight",)), np.ascontiguousarray(array.transpose(0, 2, 1))
            continue
        if hf.endswith("experts.down_proj_bias"):
            yield names.get_name(hf.replace("down_proj_bias", "down_proj.bias"), try_suffixes=(".bias",)), array
            continue
        name = names.get_name(hf, try_suffixes=(".weight", ".bias"))
        assert name is not None, hf
        yield name, array


def is_expert_weight(name):
    return name.endswith(("_exps.weight",))


def write_gguf(path, model, family, tok, data, tensors, file_type):
    cfg = model.config
    arch = "llama" if family == "mixtral" else "gpt-oss"
    w = gguf.GGUFWriter(path, arch)
    w.add_type(gguf.GGUFType.MODEL)
    w.add_name(os.path.basename(path).removesuffix(".gguf").replace("_", " "))
    w.add_block_count(cfg.num_hidden_layers)
    w.add_context_length(cfg.max_position_embeddings)
    w.add_embedding_length(cfg.hidden_size)
    w.add_feed_forward_length(cfg.intermediate_size)
    w.add_head_count(cfg.num_attention_heads)
    w.add_head_count_kv(cfg.num_key_value_heads)
    w.add_rope_freq_base(cfg.rope_parameters["rope_theta"])
    w.add_layer_norm_rms_eps(cfg.rms_norm_eps)
    w.add_expert_count(cfg.num_local_experts)
    w.add_expert_used_count(cfg.num_experts_per_tok)
    w.add_file_type(file_type)
    if family == "mixtral":  # LlamaModel.set_gguf_parameters; no head_dim in a Mixtral config.json
        w.add_vocab_size(cfg.vocab_size)
        w.add_rope_dimension_count(cfg.hidden_size // cfg.num_attention_heads)
    else:  # TextModel's head_dim and rope-scaling keys, then GptOssModel.set_gguf_parameters
        w.add_key_length(cfg.head_dim)
        w.add_value_length(cfg.head_dim)
        rope = cfg.rope_parameters
        w.add_rope_scaling_type(gguf.RopeScalingType.YARN)
        w.add_rope_scaling_factor(rope["factor"])
        w.add_rope_scaling_orig_ctx_len(rope["original_max_position_embeddings"])
        w.add_rope_scaling_yarn_beta_fast(rope["beta_fast"])
        w.add_rope_scaling_yarn_beta_slow(rope["beta_slow"])
        w.add_sliding_window(cfg.sliding_window)
        w.add_expert_feed_forward_length(cfg.intermediate_size)
    add_tiny_vocab(w, tok, data, cfg.bos_token_id, cfg.eos_token_id)
    for name, array, raw in tensors:
        if raw is None:
            w.add_tensor(name, array)
        else:
            w.add_tensor(name, array, raw_dtype=raw)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    print(f"wrote {os.path.relpath(path, ROOT)} ({os.path.getsize(path)} bytes)")


def check_gguf(path, expected):
    """Reads the file back with gguf-py: every tensor's bytes are the ones written."""
    reader = gguf.GGUFReader(path)
    stored = {t.name: (t.tensor_type, np.array(t.data)) for t in reader.tensors}
    assert set(stored) == {n for n, _, _ in expected}, set(stored) ^ {n for n, _, _ in expected}
    for name, array, raw in expected:
        qtype, data = stored[name]
        if raw is None:
            assert np.array_equal(data.reshape(array.shape), array), name
        else:
            assert qtype == raw and np.array_equal(data.reshape(-1).view(np.uint8), array.reshape(-1).view(np.uint8)), name


def gpt_oss_gguf(model, folder):
    """The GGUF's tensors with MXFP4 experts, and the folder's model with those experts dequantised."""
    tensors, dequantised = [], {}
    for name, array in gpt_oss_float_tensors(model, folder):
        if is_expert_weight(name):
            blocks = quantize(array, Q.MXFP4)
            tensors.append((name, blocks, Q.MXFP4))
            dequantised[name] = dequantize(blocks, Q.MXFP4).reshape(array.shape)
        else:
            tensors.append((name, array, None))
    quantised = type(model)(model.config).eval()
    quantised.load_state_dict(model.state_dict())
    with torch.no_grad():
        for i, layer in enumerate(quantised.model.layers):
            gate = dequantised[f"blk.{i}.ffn_gate_exps.weight"]   # [E, F, D]
            up = dequantised[f"blk.{i}.ffn_up_exps.weight"]
            down = dequantised[f"blk.{i}.ffn_down_exps.weight"]   # [E, D, F]
            gate_up = np.empty((gate.shape[0], gate.shape[1] * 2, gate.shape[2]), dtype=np.float32)
            gate_up[:, ::2], gate_up[:, 1::2] = gate, up
            layer.mlp.experts.gate_up_proj.copy_(torch.from_numpy(gate_up.transpose(0, 2, 1).copy()))
            layer.mlp.experts.down_proj.copy_(torch.from_numpy(down.transpose(0, 2, 1).copy()))
    return tensors, quantised


# --- GPT-OSS with MXFP4 experts in safetensors, as the released checkpoints store them ------

def to_transformers_nibbles(ggml_blocks, rows, cols):
    """ggml MXFP4 blocks [rows, cols/32 * 17] (per block: E8M0 byte, then byte j = value j | value j+16 << 4)
    as transformers' checkpoint layout (integrations/mxfp4.py): blocks [rows, cols/32, 16] with byte j =
    value 2j | value 2j+1 << 4, and scales [rows, cols/32] (the same E8M0 bytes)."""
    b = ggml_blocks.reshape(rows, cols // 32, 17)
    scales = b[:, :, 0].copy()
    q = b[:, :, 1:]
    codes = np.concatenate([q & 0x0F, q >> 4], axis=-1)  # [rows, G, 32]: value order 0..31
    packed = (codes[:, :, 0::2] | (codes[:, :, 1::2] << 4)).astype(np.uint8)
    return packed, scales


def write_gpt_oss_mxfp4(folder, model, source_folder, tensors):
    """tiny_gpt_oss_mxfp4/: the GGUF's MXFP4 experts in the released checkpoints' safetensors layout
    (mlp.experts.gate_up_proj_blocks [E, 2F, D/32, 16] U8 with gate and up rows interleaved,
    gate_up_proj_scales [E, 2F, D/32], down_proj_blocks [E, D, F/32, 16], down_proj_scales [E, D, F/32]),
    every other tensor the float folder's, and config.json's quantization_config quant_method mxfp4."""
    cfg = model.config
    E, F, D = cfg.num_local_experts, cfg.intermediate_size, cfg.hidden_size
    by_name = {n: a for n, a, _ in tensors}
    out = {k: v for k, v in checkpoint(source_folder).items() if not k.endswith(("experts.gate_up_proj", "experts.down_proj"))}
    for i in range(cfg.num_hidden_layers):
        gate, gs = to_transformers_nibbles(by_name[f"blk.{i}.ffn_gate_exps.weight"], E * F, D)
        up, us = to_transformers_nibbles(by_name[f"blk.{i}.ffn_up_exps.weight"], E * F, D)
        blocks = np.empty((E, 2 * F, D // 32, 16), dtype=np.uint8)
        scales = np.empty((E, 2 * F, D // 32), dtype=np.uint8)
        blocks[:, 0::2], blocks[:, 1::2] = gate.reshape(E, F, D // 32, 16), up.reshape(E, F, D // 32, 16)
        scales[:, 0::2], scales[:, 1::2] = gs.reshape(E, F, D // 32), us.reshape(E, F, D // 32)
        down, ds = to_transformers_nibbles(by_name[f"blk.{i}.ffn_down_exps.weight"], E * D, F)
        p = f"model.layers.{i}.mlp.experts."
        out[p + "gate_up_proj_blocks"], out[p + "gate_up_proj_scales"] = blocks, scales
        out[p + "down_proj_blocks"], out[p + "down_proj_scales"] = down.reshape(E, D, F // 32, 16), ds.reshape(E, D, F // 32)
    os.makedirs(folder, exist_ok=True)
    for file in ("tokenizer.json", "tokenizer_config.json", "config.json"):
        shutil.copyfile(os.path.join(source_folder, file), os.path.join(folder, file))
    save_file(out, os.path.join(folder, "model.safetensors"))
    with open(os.path.join(folder, "config.json")) as f:
        config = json.load(f)
    config["quantization_config"] = {"quant_method": "mxfp4", "modules_to_not_convert": [
        "model.layers.*.self_attn", "model.layers.*.mlp.router", "model.embed_tokens", "lm_head"]}
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
        f.write("\n")
    print(f"wrote {os.path.relpath(folder, ROOT)}")


def load_mxfp4(folder):
    from transformers import Mxfp4Config
    return AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32, attn_implementation="eager",
                                                experts_implementation="eager",
                                                quantization_config=Mxfp4Config(dequantize=True)).eval()


# --- YaRN ---------------------------------------------------------------------------------

YARN_CASES = [
    # (name, head_dim, rope_theta, rope parameters beyond rope_type/rope_theta)
    ("tiny GPT-OSS", 8, 150000.0, {"factor": 32.0, "beta_fast": 32.0, "beta_slow": 1.0, "truncate": False,
                                   "original_max_position_embeddings": 4096}),
    ("GPT-OSS-20B", 64, 150000.0, {"factor": 32.0, "beta_fast": 32.0, "beta_slow": 1.0, "truncate": False,
                                   "original_max_position_embeddings": 4096}),
    ("Qwen2.5 long context (truncate default true)", 128, 1e6, {"factor": 4.0, "original_max_position_embeddings": 32768}),
    ("explicit attention_factor", 64, 10000.0, {"factor": 8.0, "attention_factor": 0.75, "original_max_position_embeddings": 2048}),
    ("mscale / mscale_all_dim", 64, 10000.0, {"factor": 40.0, "mscale": 1.0, "mscale_all_dim": 0.707,
                                              "original_max_position_embeddings": 4096}),
]


def yarn_reference():
    """yarn_reference.json: transformers' _compute_yarn_parameters on several configs: inverse frequencies
    (float32 bit patterns) and the attention factor that multiplies cos and sin."""
    from transformers import LlamaConfig
    from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS
    cases = []
    for name, dim, theta, params in YARN_CASES:
        config = LlamaConfig(hidden_size=dim * 2, num_attention_heads=2, head_dim=dim, max_position_embeddings=131072,
                             rope_parameters={"rope_type": "yarn", "rope_theta": theta, **params})
        inv, factor = ROPE_INIT_FUNCTIONS["yarn"](config, "cpu")
        cases.append({"name": name, "head_dim": dim, "rope_theta": theta, "parameters": params,
                      "inv_freq_bits": [int(b) for b in inv.numpy().astype(np.float32).view(np.uint32)],
                      "attention_factor": float(factor)})
    write_json(os.path.join(OUT, "yarn_reference.json"), {"generator": "tools/make_tiny_moe.py",
                                                          "transformers_version": transformers.__version__, "cases": cases})


# --- PEFT adapters --------------------------------------------------------------------------

PEFT_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj"]


@torch.no_grad()
def peft_adapter(folder, model_folder, prompts, seed):
    """peft_<model>/: a LoRA adapter PEFT saves for the model's attention projections (r 4, alpha 8; A as PEFT
    initialises it, B seeded random so the adapter moves the logits), and PEFT's adapted last-position
    log-probs per prompt. The experts and the router stay frozen (PEFT's names are the dense families')."""
    from peft import LoraConfig, get_peft_model
    torch.manual_seed(seed)
    wrapped = get_peft_model(load(model_folder), LoraConfig(r=4, lora_alpha=8, target_modules=PEFT_TARGETS, lora_dropout=0.0,
                                                            bias="none", task_type="CAUSAL_LM"))
    g = torch.Generator().manual_seed(seed + 1)
    for name, p in wrapped.named_parameters():
        if "lora_B" in name:
            p.copy_(torch.randn(p.shape, generator=g) * 0.3)
    wrapped.eval()
    wrapped.save_pretrained(folder)
    os.remove(os.path.join(folder, "README.md"))  # PEFT's model card template: nothing a reader needs
    path = os.path.join(folder, "adapter_config.json")
    with open(path) as f:
        config = json.load(f)
    config["base_model_name_or_path"] = os.path.basename(model_folder)
    with open(path, "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
        f.write("\n")
    adapted = [rounded(torch.log_softmax(wrapped(torch.tensor([ids])).logits[0, -1], -1), DIGITS) for ids in prompts]
    print(f"wrote {os.path.relpath(folder, ROOT)}")
    return {"folder": os.path.basename(folder), "r": 4, "lora_alpha": 8, "target_modules": PEFT_TARGETS,
            "last_logprobs": adapted}


# --- MXFP4 blocks ---------------------------------------------------------------------------

def mxfp4_case(source, raw):
    values_per_block, block_bytes = GGML_QUANT_SIZES[Q.MXFP4]
    assert (values_per_block, block_bytes) == (32, 17)
    raw = np.ascontiguousarray(raw, dtype=np.uint8).reshape(-1)
    values = dequantize(raw.reshape(1, -1), Q.MXFP4).reshape(-1).astype(np.float32)
    return {"type": "MXFP4", "ggml_type": int(Q.MXFP4.value), "source": source, "block_values": 32,
            "block_bytes": 17, "blocks": raw.size // 17, "bytes_base64": base64.b64encode(raw.tobytes()).decode(),
            "values": [float(v) if np.isfinite(v) else None for v in values],
            "value_bits": [int(b) for b in values.view(np.uint32)]}


def mxfp4_reference():
    rng = np.random.default_rng(20261201)
    floats = np.concatenate([rng.normal(0, 1, 64), rng.normal(0, 1e-3, 32), rng.normal(0, 50, 32)]).astype(np.float32)
    random = mxfp4_case("gguf.quants.quantize of seeded random floats (scales 1, 1e-3, 50)", quantize(floats.reshape(1, -1), Q.MXFP4))
    raw = rng.integers(0, 256, size=(256, 17), dtype=np.uint8)
    raw[:, 0] = np.arange(256, dtype=np.uint8)
    every = mxfp4_case("256 blocks, E8M0 byte 0...255 in turn, seeded random nibbles", raw)
    write_json(MXFP4_OUT, {"generator": "tools/make_tiny_moe.py",
                           "gguf_version": importlib.metadata.version("gguf"), "cases": [random, every]})


# --- fuzz seeds -----------------------------------------------------------------------------

def fuzz_seeds():
    """Small GGUFs (well under libFuzzer's 64 KiB input limit) with the metadata and expert tensors of both
    families: gpt-oss with MXFP4 experts and YaRN keys, llama with F32 experts."""
    folder = os.path.join(ROOT, "Fuzz", "corpus", "moe_gguf")
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(7)
    for arch, name in (("gpt-oss", "gpt_oss_mxfp4.gguf"), ("llama", "llama_experts.gguf")):
        w = gguf.GGUFWriter(os.path.join(folder, name), arch)
        w.add_block_count(1)
        w.add_embedding_length(32)
        w.add_feed_forward_length(32)
        w.add_head_count(2)
        w.add_expert_count(2)
        w.add_expert_used_count(1)
        if arch == "gpt-oss":
            w.add_expert_feed_forward_length(32)
            w.add_sliding_window(4)
            w.add_rope_scaling_type(gguf.RopeScalingType.YARN)
            w.add_rope_scaling_factor(32.0)
            w.add_rope_scaling_orig_ctx_len(4096)
            w.add_rope_scaling_yarn_beta_fast(32.0)
            w.add_rope_scaling_yarn_beta_slow(1.0)
        for role in ("gate", "up", "down"):
            array = rng.normal(0, 1, (2, 32, 32)).astype(np.float32)
            if arch == "gpt-oss":
                w.add_tensor(f"blk.0.ffn_{role}_exps.weight", quantize(array, Q.MXFP4), raw_dtype=Q.MXFP4)
                w.add_tensor(f"blk.0.ffn_{role}_exps.bias", rng.normal(0, 1, (2, 32)).astype(np.float32))
            else:
                w.add_tensor(f"blk.0.ffn_{role}_exps.weight", array[:, :8, :])
        w.add_tensor("blk.0.ffn_gate_inp.weight", rng.normal(0, 1, (2, 32)).astype(np.float32))
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
        w.close()
        size = os.path.getsize(os.path.join(folder, name))
        assert size < 65536, size
        print(f"wrote Fuzz/corpus/moe_gguf/{name} ({size} bytes)")


# --- main -----------------------------------------------------------------------------------

def main():
    mxfp4_reference()
    yarn_reference()
    fuzz_seeds()
    tok, data, specials = tiny_tokenizer()
    vocab = tok.get_vocab_size(with_added_tokens=True)
    prompts = []
    for text, length in zip(PROMPT_TEXTS, PROMPT_LENGTHS):
        ids = tok.encode(text, add_special_tokens=False).ids
        assert len(ids) >= length
        prompts.append(ids[:length])
    os.makedirs(OUT, exist_ok=True)
    models = []
    for name, family, cls, config, seed in specs(vocab):
        folder = os.path.join(OUT, name)
        # The first seed (of ten from the family's) whose routing has no near-tie on the prompts.
        for seed in range(seed, seed + 10):
            original = randomise(cls(config).float().eval(), family, seed)
            save_model_folder(original, folder, data, specials)
            model = load(folder)
            assert type(model) is cls
            try:
                entries = prompt_entries(model, prompts)
                break
            except NearTie as tie:
                print(f"{name}: seed {seed} has a router near-tie ({tie}); next seed")
        else:
            raise RuntimeError(f"{name}: every seed has a router near-tie")
        checks = {}
        gguf_file = name + ".gguf"
        path = os.path.join(OUT, gguf_file)
        if family == "mixtral":
            tensors = list(mixtral_tensors(model, folder))
            write_gguf(path, model, family, tok, data, tensors, gguf.LlamaFileType.ALL_F32)
            # The GGUF has no window: its reference is the same weights attending to every position.
            full = load(folder)
            full.config.sliding_window = None
            for layer in full.model.layers:
                layer.self_attn.sliding_window = None
            gguf_model = full
            checks["window_changes_last_logprobs_by"] = max(
                float(np.max(np.abs(np.array(a["last_logprobs"]) - np.array(b["last_logprobs"]))))
                for a, b in zip(entries, prompt_entries(full, prompts, with_hidden=False)))
            assert checks["window_changes_last_logprobs_by"] > 1e-3
        else:
            tensors, gguf_model = gpt_oss_gguf(model, folder)
            write_gguf(path, model, family, tok, data, tensors, gguf.LlamaFileType.MOSTLY_MXFP4_MOE)
            mxfp4_folder = os.path.join(OUT, name + "_mxfp4")
            write_gpt_oss_mxfp4(mxfp4_folder, model, folder, tensors)
            # transformers' own reading of the MXFP4 checkpoint (its dequantisation, its nibble order) is the
            # reference; it must equal the GGUF's, whose experts are the same blocks decoded by gguf-py.
            mxfp4_entries = prompt_entries(load_mxfp4(mxfp4_folder), prompts, with_hidden=False)
            checks["mxfp4_safetensors_vs_gguf_reference"] = max(
                float(np.max(np.abs(np.array(a["last_logprobs"]) - np.array(b["last_logprobs"]))))
                for a, b in zip(mxfp4_entries, prompt_entries(gguf_model, prompts, with_hidden=False)))
            assert checks["mxfp4_safetensors_vs_gguf_reference"] < 1e-5, checks
            checks["clamped_fraction_of_expert_preactivations"] = clamp_fraction(model, prompts)
            assert checks["clamped_fraction_of_expert_preactivations"] > 0.01, checks
        check_gguf(path, tensors)
        gguf_entries = prompt_entries(gguf_model, prompts, with_hidden=False)
        peft = peft_adapter(os.path.join(OUT, "peft_" + name), folder, prompts, seed + 1000)
        cfg = model.config
        models.append({
            "name": name, "family": family, "hf_class": cls.__name__, "seed": seed, "folder": name, "gguf": gguf_file,
            "config": effective_config(cfg, family),
            "layer_types": getattr(cfg, "layer_types", None) or ["sliding_attention"] * cfg.num_hidden_layers,
            "prompts": entries, "gguf_prompts": gguf_entries, "checks": checks, "peft": peft,
            **({"mxfp4_folder": name + "_mxfp4", "mxfp4_prompts": mxfp4_entries} if family == "gpt_oss" else {}),
        })
        print(f"{name}: min router gap {min(e['min_router_gap'] for e in entries):.3g}; checks {checks}")
    write_json(os.path.join(OUT, "tiny_moe_reference.json"), {
        "generator": "tools/make_tiny_moe.py",
        "transformers_version": transformers.__version__,
        "torch_version": torch.__version__,
        "notes": ("float32, eager attention, eager experts; ids fed as given, no BOS. gguf_prompts: the GGUF's "
                  "reference (Mixtral: full attention, as llama.cpp runs a llama GGUF; GPT-OSS: experts "
                  "dequantised from the file's MXFP4 blocks by gguf-py). See the script's docstring."),
        "models": models,
    })


if __name__ == "__main__":
    main()
