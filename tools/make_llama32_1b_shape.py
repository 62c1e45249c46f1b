"""Writes a Llama-3.2-1B-shaped Hugging Face folder with random bf16 weights (dev-only; issue 16).

The folder is ~2.5 GB and is never committed: it exists to show that a model of this size loads, trains
(LoRA) and runs the flagship within this machine's memory and time (docs/performance.md). Usage:

    /opt/lazarus-dev-venv/bin/python tools/make_llama32_1b_shape.py /work/big1b [--seed 0]

- config.json: Llama-3.2-1B's own fields (hidden 2048, 16 layers, 32 query / 8 key-value heads of 64,
  MLP 8192, vocabulary 128256, tied embeddings, rope_theta 500000 with its llama3 rope_scaling), except
  bos/eos ids, which are the tokenizer's (below).
- tokenizer.json + tokenizer_config.json: SmolLM2's tokenizer (49152 tokens), rebuilt from the default
  GGUF's vocabulary as tools/reference_model.py does. Llama 3's own tokenizer is not available offline;
  the embedding keeps Llama's 128256 rows, so every row past 49151 is a token the tokenizer never emits
  but the unembedding still scores (the full-vocabulary cost of the real model is kept).
- model.safetensors: bf16, written tensor by tensor in chunks (a few hundred MB of RAM at most).
  Matrices are N(0, 0.02²) (Llama's initializer_range), norm weights are 1, as transformers initialises.
"""
import argparse
import json
import os
import struct

import numpy as np

from reference_model import DEFAULT_MODEL
from tokenizer_reference import build_from_vocab, read_gguf_vocab

CONFIG = {
    "architectures": ["LlamaForCausalLM"],
    "attention_bias": False,
    "attention_dropout": 0.0,
    "head_dim": 64,
    "hidden_act": "silu",
    "hidden_size": 2048,
    "initializer_range": 0.02,
    "intermediate_size": 8192,
    "max_position_embeddings": 131072,
    "mlp_bias": False,
    "model_type": "llama",
    "num_attention_heads": 32,
    "num_hidden_layers": 16,
    "num_key_value_heads": 8,
    "pretraining_tp": 1,
    "rms_norm_eps": 1e-05,
    "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                     "original_max_position_embeddings": 8192, "rope_type": "llama3"},
    "rope_theta": 500000.0,
    "tie_word_embeddings": True,
    "torch_dtype": "bfloat16",
    "use_cache": True,
    "vocab_size": 128256,
}

CHUNK = 1 << 24  # elements generated at a time (64 MB of float32)


def tensor_shapes(c):
    """(name, shape) in the order Hugging Face checkpoints list them; tied, so no lm_head.weight."""
    d, f, dh = c["hidden_size"], c["intermediate_size"], c["head_dim"]
    q, kv = c["num_attention_heads"] * dh, c["num_key_value_heads"] * dh
    out = [("model.embed_tokens.weight", [c["vocab_size"], d])]
    for i in range(c["num_hidden_layers"]):
        p = f"model.layers.{i}."
        out += [(p + "input_layernorm.weight", [d]),
                (p + "self_attn.q_proj.weight", [q, d]), (p + "self_attn.k_proj.weight", [kv, d]),
                (p + "self_attn.v_proj.weight", [kv, d]), (p + "self_attn.o_proj.weight", [d, q]),
                (p + "post_attention_layernorm.weight", [d]),
                (p + "mlp.gate_proj.weight", [f, d]), (p + "mlp.up_proj.weight", [f, d]),
                (p + "mlp.down_proj.weight", [d, f])]
    out.append(("model.norm.weight", [d]))
    return out


def bf16_bits(x):
    """float32 → bfloat16 bit patterns, rounded to nearest even (as torch's .to(torch.bfloat16))."""
    u = x.astype(np.float32).view(np.uint32)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)


def write_safetensors(path, shapes, std, seed):
    header, offset = {"__metadata__": {"format": "pt"}}, 0
    for name, shape in shapes:
        size = int(np.prod(shape)) * 2
        header[name] = {"dtype": "BF16", "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    rng = np.random.default_rng(seed)
    with open(path + ".partial", "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for name, shape in shapes:
            count = int(np.prod(shape))
            if len(shape) == 1:
                f.write(bf16_bits(np.ones(count, dtype=np.float32)).tobytes())
                continue
            for start in range(0, count, CHUNK):
                n = min(CHUNK, count - start)
                f.write(bf16_bits(rng.standard_normal(n, dtype=np.float32) * np.float32(std)).tobytes())
    os.replace(path + ".partial", path)
    return offset


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    os.makedirs(args.folder, exist_ok=True)

    tokens, merges, token_types, pre = read_gguf_vocab(DEFAULT_MODEL)
    assert pre == "smollm", pre
    tokenizer = build_from_vocab(tokens, merges, token_types, "smollm")
    tokenizer.save(os.path.join(args.folder, "tokenizer.json"))
    import gguf
    reader = gguf.GGUFReader(DEFAULT_MODEL)

    def token_id(key):
        field = reader.fields[key]
        return int(field.parts[field.data[0]][0])

    bos, eos = token_id("tokenizer.ggml.bos_token_id"), token_id("tokenizer.ggml.eos_token_id")
    with open(os.path.join(args.folder, "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": "PreTrainedTokenizerFast", "bos_token": tokens[bos], "eos_token": tokens[eos],
                   "add_bos_token": False}, f, indent=2)
    config = dict(CONFIG, bos_token_id=bos, eos_token_id=eos)
    assert len(tokens) <= config["vocab_size"]
    with open(os.path.join(args.folder, "config.json"), "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
        f.write("\n")

    shapes = tensor_shapes(config)
    size = write_safetensors(os.path.join(args.folder, "model.safetensors"), shapes,
                             config["initializer_range"], args.seed)
    params = size // 2
    print(f"wrote {args.folder}: {len(shapes)} tensors, {params / 1e9:.3f} B parameters, {size / 1e9:.2f} GB bf16; "
          f"tokenizer: SmolLM2's {len(tokens)} tokens (bos {bos}, eos {eos}) in a vocabulary of {config['vocab_size']}")


if __name__ == "__main__":
    main()
