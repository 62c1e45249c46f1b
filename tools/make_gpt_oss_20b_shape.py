#!/usr/bin/env python3
"""Writes a GGUF with GPT-OSS-20B's full per-layer shapes but few layers, for the memory measurement of
docs/moe.md (Tests/TransformerTests/GptOss20BShapeTests.swift reads it when $LAZARUS_GPT_OSS_20B_SHAPE names it).

Shapes are openai/gpt-oss-20b's config.json: hidden 2880, 32 experts of width 2880 with 4 per token, 64 query
heads and 8 key-value heads of 64, vocabulary 201088, sliding window 128 on even layers, YaRN factor 32 over
4096 positions, RoPE base 150000. Tensor types are those of ggml-org's MXFP4 GGUF of the model: experts MXFP4,
token embedding, output and attention projections Q8_0, the rest F32. Every weight is random bytes (MXFP4 E8M0
scales 2^-8..2^-4, Q8_0 scales ~0.002): the file measures memory, not language. The tokenizer is the tiny
GPT-OSS fixture's (301 tokens, its merges), so prompts encode; the model's vocabulary stays 201088 (ids above
300 are never produced by the tokenizer but are read by the lens). Only `--layers` differs from the real model
(default 2). About 1 GB a layer plus 1.2 GB of embeddings; not committed.

usage: /opt/lazarus-dev-venv/bin/python tools/make_gpt_oss_20b_shape.py OUT.gguf [--layers 2]
"""
import argparse
import os

import numpy as np
import gguf

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = os.path.join(ROOT, "Tests", "TransformerTests", "Fixtures", "moe", "tiny_gpt_oss.gguf")

D, F, E, K, H, HKV, DH, V, WINDOW = 2880, 2880, 32, 4, 64, 8, 64, 201088, 128
Q = gguf.GGMLQuantizationType


def mxfp4(rng, rows, cols):
    """rows x cols values as MXFP4 blocks (17 bytes a 32-value block): random codes, scales 2^-8..2^-4."""
    b = rng.integers(0, 256, size=(rows, cols // 32, 17), dtype=np.uint8)
    b[:, :, 0] = rng.integers(120, 125, size=(rows, cols // 32), dtype=np.uint8)
    return b.reshape(rows, cols // 32 * 17)


def q8_0(rng, rows, cols):
    """rows x cols values as Q8_0 blocks (fp16 scale + 32 int8): random values, scale 0.002."""
    b = rng.integers(0, 256, size=(rows, cols // 32, 34), dtype=np.uint8)
    scale = np.frombuffer(np.float16(0.002).tobytes(), dtype=np.uint8)
    b[:, :, 0] = scale[0]
    b[:, :, 1] = scale[1]
    return b.reshape(rows, cols // 32 * 34)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=2880)
    args = ap.parse_args()
    L = args.layers
    rng = np.random.default_rng(args.seed)
    tiny = gguf.GGUFReader(TINY)

    w = gguf.GGUFWriter(args.out, "gpt-oss")
    w.add_name("gpt-oss-20b shape, %d layers, random weights" % L)
    w.add_block_count(L)
    w.add_context_length(131072)
    w.add_embedding_length(D)
    w.add_feed_forward_length(F)
    w.add_head_count(H)
    w.add_head_count_kv(HKV)
    w.add_key_length(DH)
    w.add_value_length(DH)
    w.add_rope_freq_base(150000.0)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_expert_count(E)
    w.add_expert_used_count(K)
    w.add_expert_feed_forward_length(F)
    w.add_sliding_window(WINDOW)
    w.add_rope_scaling_type(gguf.RopeScalingType.YARN)
    w.add_rope_scaling_factor(32.0)
    w.add_rope_scaling_orig_ctx_len(4096)
    w.add_uint32("gpt-oss.vocab_size", V)
    w.add_float32("gpt-oss.rope.scaling.yarn_beta_fast", 32.0)
    w.add_float32("gpt-oss.rope.scaling.yarn_beta_slow", 1.0)
    w.add_file_type(38)  # MOSTLY_MXFP4_MOE
    # The tiny fixture's tokenizer, key by key.
    for key in ["tokenizer.ggml.model", "tokenizer.ggml.pre"]:
        f = tiny.fields[key]
        w.add_string(key, bytes(f.parts[f.data[0]]).decode())
    tokens = tiny.fields["tokenizer.ggml.tokens"]
    w.add_token_list([bytes(tokens.parts[i]).decode() for i in tokens.data])
    types = tiny.fields["tokenizer.ggml.token_type"]
    w.add_token_types([int(types.parts[i][0]) for i in types.data])
    merges = tiny.fields["tokenizer.ggml.merges"]
    w.add_token_merges([bytes(merges.parts[i]).decode() for i in merges.data])
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_add_bos_token(False)

    def f32(*shape, scale=0.02):
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    def quant(name, data, qtype):
        w.add_tensor(name, data, raw_dtype=qtype)

    quant("token_embd.weight", q8_0(rng, V, D), Q.Q8_0)
    quant("output.weight", q8_0(rng, V, D), Q.Q8_0)
    w.add_tensor("output_norm.weight", np.ones(D, dtype=np.float32))
    for i in range(L):
        p = "blk.%d." % i
        w.add_tensor(p + "attn_norm.weight", np.ones(D, dtype=np.float32))
        w.add_tensor(p + "post_attention_norm.weight", np.ones(D, dtype=np.float32))
        quant(p + "attn_q.weight", q8_0(rng, H * DH, D), Q.Q8_0)
        quant(p + "attn_k.weight", q8_0(rng, HKV * DH, D), Q.Q8_0)
        quant(p + "attn_v.weight", q8_0(rng, HKV * DH, D), Q.Q8_0)
        quant(p + "attn_output.weight", q8_0(rng, D, H * DH), Q.Q8_0)
        w.add_tensor(p + "attn_q.bias", f32(H * DH))
        w.add_tensor(p + "attn_k.bias", f32(HKV * DH))
        w.add_tensor(p + "attn_v.bias", f32(HKV * DH))
        w.add_tensor(p + "attn_output.bias", f32(D))
        w.add_tensor(p + "attn_sinks.weight", f32(H, scale=1.0))
        w.add_tensor(p + "ffn_gate_inp.weight", f32(E, D, scale=0.05))
        w.add_tensor(p + "ffn_gate_inp.bias", f32(E))
        quant(p + "ffn_gate_exps.weight", mxfp4(rng, E * F, D).reshape(E, F, D // 32 * 17), Q.MXFP4)
        quant(p + "ffn_up_exps.weight", mxfp4(rng, E * F, D).reshape(E, F, D // 32 * 17), Q.MXFP4)
        quant(p + "ffn_down_exps.weight", mxfp4(rng, E * D, F).reshape(E, D, F // 32 * 17), Q.MXFP4)
        w.add_tensor(p + "ffn_gate_exps.bias", f32(E, F))
        w.add_tensor(p + "ffn_up_exps.bias", f32(E, F))
        w.add_tensor(p + "ffn_down_exps.bias", f32(E, D))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    print("wrote %s (%.2f GB)" % (args.out, os.path.getsize(args.out) / 1e9))


if __name__ == "__main__":
    main()
