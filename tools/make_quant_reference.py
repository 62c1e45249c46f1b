#!/usr/bin/env python3
"""Writes Tests/ModelFilesTests/Fixtures/quant_blocks.json: raw GGUF blocks and gguf-py's dequantisation.

Dev-only (run with the dev venv: /opt/lazarus-dev-venv/bin/python tools/make_quant_reference.py).
The Swift dequantisers are checked against `gguf.quants.dequantize`, which mirrors ggml's reference C.

Cases, two blocks each:
- Q4_0, Q4_1, Q5_0, Q5_1, Q8_0: seeded random floats quantised by gguf-py (one block centred on zero,
  one shifted positive so the `_1` types' minimum matters).
- Q4_K, Q5_K, Q6_K: gguf-py cannot quantise these, so the bytes are seeded random with the f16 scale
  fields (d, dmin; Q6_K's d) overwritten by small finite values; every other bit pattern is legal.
- F16, BF16: a block of 32 chosen values (zeros of both signs, subnormals, extremes, infinities) and
  a block of random ones. A "block" of these types is a single value; 32 are grouped for readability.
- Real blocks from the default model when it is present: Q4_1 (blk.0.attn_q) and Q8_0 (token_embd).

JSON: {"generator", "gguf_version", "cases": [{"type", "ggml_type", "source", "block_values",
"block_bytes", "blocks", "bytes_base64", "values", "value_bits"}]}. `values` are the float32 results
written exactly (null where not finite); `value_bits` are their IEEE-754 bit patterns as unsigned ints.
"""
import base64
import importlib.metadata
import os
import sys

import numpy as np
from gguf import GGUFReader
from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType as T
from gguf.quants import dequantize, quantize

from reference_model import DEFAULT_MODEL, ROOT, write_json

OUT = os.path.join(ROOT, "Tests", "ModelFilesTests", "Fixtures", "quant_blocks.json")

# The fixed block sizes the Swift side writes down as data; checked here against gguf-py.
EXPECTED_BLOCK_BYTES = {
    "Q4_0": 18, "Q4_1": 20, "Q5_0": 22, "Q5_1": 24, "Q8_0": 34,
    "Q4_K": 144, "Q5_K": 176, "Q6_K": 210, "BF16": 2, "F16": 2,
}
# Byte offsets of the f16 scale fields inside one K-quant super-block (ggml-common.h layouts).
K_SCALE_OFFSETS = {"Q4_K": (0, 2), "Q5_K": (0, 2), "Q6_K": (208,)}


def case(name, source, raw):
    qtype = T[name]
    block_values, block_bytes = GGML_QUANT_SIZES[qtype]
    assert block_bytes == EXPECTED_BLOCK_BYTES[name], (name, block_bytes)
    raw = np.ascontiguousarray(raw, dtype=np.uint8).reshape(-1)
    assert raw.size % block_bytes == 0
    values = dequantize(raw.reshape(1, -1), qtype).reshape(-1).astype(np.float32)
    assert values.size == raw.size // block_bytes * block_values
    return {
        "type": name,
        "ggml_type": int(qtype.value),
        "source": source,
        "block_values": block_values,
        "block_bytes": block_bytes,
        "blocks": raw.size // block_bytes,
        "bytes_base64": base64.b64encode(raw.tobytes()).decode(),
        "values": [float(v) if np.isfinite(v) else None for v in values],
        "value_bits": [int(b) for b in values.view(np.uint32)],
    }


def quantised_random(rng, name):
    centred = rng.normal(0.0, 1.0, 32)
    shifted = rng.normal(0.0, 0.3, 32) + 2.0
    floats = np.concatenate([centred, shifted]).astype(np.float32).reshape(1, 64)
    return case(name, "gguf.quants.quantize of seeded random floats", quantize(floats, T[name]))


def k_quant_random(rng, name):
    block_bytes = GGML_QUANT_SIZES[T[name]][1]
    raw = rng.integers(0, 256, size=(2, block_bytes), dtype=np.uint8)
    for block in range(2):
        for offset in K_SCALE_OFFSETS[name]:
            scale = np.float16(rng.uniform(0.001, 0.05))
            if name == "Q6_K" and block == 1:
                scale = -scale  # Q6_K's d is a signed f16 like any other: exercise the sign
            raw[block, offset:offset + 2] = np.frombuffer(scale.tobytes(), dtype=np.uint8)
    return case(name, "seeded random bytes with small finite f16 scales", raw)


def float_blocks(rng, name):
    chosen = np.array([
        0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.140625, 65504.0, -65504.0, 6.103515625e-05,
        5.960464477539063e-08, -5.960464477539063e-08, 1e-3, 100.0, 1e10, -1e-10,
        np.inf, -np.inf, 0.1, 0.2, 0.3, 1e30, 3.3895313892515355e38, 1.1754943508222875e-38,
        9.183549615799121e-41, 7.0, 1024.0, -0.0001, 2.0 ** -20, 12345.678, -7.75, 42.0,
    ], dtype=np.float32)
    random = rng.normal(0.0, 4.0, 32).astype(np.float32)
    floats = np.concatenate([chosen, random])
    if name == "F16":
        with np.errstate(over="ignore"):  # 1e10 and beyond become f16 infinities, on purpose
            raw = floats.astype(np.float16).view(np.uint8)
    else:
        raw = quantize(floats.reshape(1, -1), T.BF16).reshape(-1)
    return case(name, "32 chosen values (incl. subnormals, infinities) then 32 seeded random", raw)


def model_blocks():
    if not os.path.exists(DEFAULT_MODEL):
        print(f"no default model at {DEFAULT_MODEL}: skipping its real blocks", file=sys.stderr)
        return []
    reader = GGUFReader(DEFAULT_MODEL)
    wanted = {"blk.0.attn_q.weight": "Q4_1", "token_embd.weight": "Q8_0"}
    cases = []
    for tensor in reader.tensors:
        name = wanted.get(tensor.name)
        if name is None:
            continue
        assert tensor.tensor_type.name == name, (tensor.name, tensor.tensor_type.name)
        block_bytes = GGML_QUANT_SIZES[T[name]][1]
        raw = np.asarray(tensor.data).reshape(-1)[: 2 * block_bytes]
        cases.append(case(name, f"first two blocks of {tensor.name} in the default model", raw))
    return cases


def main():
    rng = np.random.default_rng(20240601)
    cases = [quantised_random(rng, n) for n in ("Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0")]
    cases += [k_quant_random(rng, n) for n in ("Q4_K", "Q5_K", "Q6_K")]
    cases += [float_blocks(rng, n) for n in ("BF16", "F16")]
    cases += model_blocks()
    for c in cases:
        finite = [v for v in c["values"] if v is not None]
        print(f'{c["type"]:5} {c["blocks"]} blocks x {c["block_bytes"]:3} B  '
              f'range [{min(finite):.4g}, {max(finite):.4g}]  ({c["source"]})')
    write_json(OUT, {
        "generator": "tools/make_quant_reference.py",
        "gguf_version": importlib.metadata.version("gguf"),
        "cases": cases,
    })


if __name__ == "__main__":
    main()
