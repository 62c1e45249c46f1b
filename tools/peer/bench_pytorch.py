#!/usr/bin/env python3
"""The PyTorch + PEFT side of docs/SPEC.md §8: the same work as `lazarus bench`, timed on this machine.

Dev-only (the dev venv: /opt/lazarus-dev-venv/bin/python tools/peer/bench_pytorch.py [--out FILE]).
Prints one JSON object. Two threads, float32, the default model from its GGUF (dequantised by
transformers). Every figure is the median of REPS (default 5, env LAZARUS_BENCH_REPS) timed repetitions
after one untimed warm-up. The 2 cores are shared: the load average at start and end is recorded.
OMP_WAIT_POLICY defaults to PASSIVE here (see below): with libgomp's spinning default, figures taken
while other processes run are 10-40x pessimistic.

- sgemm_gflops_1024 / _2048: torch.mm of two square float32 matrices, 2 n^3 flops.
- prefill_tokens_per_second: 32 arithmetic prompts ("23 + 45 =") left-padded into one batch, one forward
  computing the last position's logits only; counted over the real (non-pad) prompt tokens.
- decode_tokens_per_second: after that prefill (with a KV cache, untimed), 16 greedy steps of one token
  per prompt with the cache; 32 x 16 tokens over the time of the 16 steps.
- decode_single_tokens_per_second: one prompt ("Once upon a time", as `lazarus bench` decodes it), its
  prefill untimed, then 64 greedy steps with the KV cache; 64 tokens over the time of the 64 steps.
- lens_sweep_seconds: 300 arithmetic prompts in batches of 32, hidden states of every layer (embed,
  L0..L29, pre-norm) at the last position through the final norm, lm_head and a full-vocab softmax.
- lora_step_seconds: PEFT LoRA r 16, alpha 32 on q/k/v/o, batch 4 x 16 tokens, next-token
  cross-entropy, AdamW lr 2e-4: forward + backward + optimizer step.
- peak_rss_mb: the process's peak resident memory (ru_maxrss), model load included.
"""
import argparse
import datetime
import os
import random
import resource
import statistics
import sys
import time

# libgomp's threads spin while they wait; when another process takes one of the 2 shared cores, every
# small op then stalls for a scheduler slice (measured here: a 32 x 7 prefill took 10.7 s instead of
# 0.42 s at load average 6). Passive waiting removes that, so PyTorch is measured at its real speed.
# Must be set before torch (and its OpenMP runtime) loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from reference_model import encode, load_model, load_tokenizer  # noqa: E402

from machine import cpu_model, emit  # noqa: E402  (tools/peer/machine.py, beside this script)

THREADS = 2
REPS = int(os.environ.get("LAZARUS_BENCH_REPS", "5"))  # at least 3; the cores are shared, so more helps
PAD_ID = 2  # tokenizer.ggml.padding_token_id of the default model


def timed(fn, reps=REPS):
    """Median seconds of `reps` runs of fn after one warm-up run; also the individual times."""
    fn()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def arithmetic_prompts(count, seed):
    rng = random.Random(seed)
    return [f"{rng.randint(1, 99)} {rng.choice('+-*')} {rng.randint(1, 99)} =" for _ in range(count)]


def left_padded(batch_ids):
    width = max(len(ids) for ids in batch_ids)
    ids = torch.full((len(batch_ids), width), PAD_ID, dtype=torch.long)
    mask = torch.zeros((len(batch_ids), width), dtype=torch.long)
    for row, seq in enumerate(batch_ids):
        ids[row, width - len(seq):] = torch.tensor(seq)
        mask[row, width - len(seq):] = 1
    return ids, mask


def positions(mask):
    return (mask.cumsum(-1) - 1).clamp(min=0)


def bench_sgemm(n):
    a, b = torch.randn(n, n), torch.randn(n, n)
    seconds, _ = timed(lambda: torch.mm(a, b), reps=max(REPS, 5))
    return 2 * n ** 3 / seconds / 1e9


@torch.no_grad()
def bench_prefill_decode(model, batch_ids, steps=16):
    ids, mask = left_padded(batch_ids)
    real_tokens = int(mask.sum())

    def prefill():
        return model(input_ids=ids, attention_mask=mask, position_ids=positions(mask), use_cache=True,
                     logits_to_keep=1)

    prefill_seconds, prefill_times = timed(prefill)

    state = {}

    def setup():
        out = prefill()
        state["cache"] = out.past_key_values
        state["next"] = out.logits[:, -1].argmax(-1)
        state["mask"] = mask.clone()

    def decode():
        cache, nxt, m = state["cache"], state["next"], state["mask"]
        for _ in range(steps):
            m = torch.cat([m, torch.ones((m.shape[0], 1), dtype=m.dtype)], dim=1)
            out = model(input_ids=nxt[:, None], attention_mask=m, position_ids=positions(m)[:, -1:],
                        past_key_values=cache, use_cache=True)
            cache, nxt = out.past_key_values, out.logits[:, -1].argmax(-1)

    decode_times = []
    for _ in range(REPS + 1):  # the first is the warm-up
        setup()
        start = time.perf_counter()
        decode()
        decode_times.append(time.perf_counter() - start)
    decode_seconds = statistics.median(decode_times[1:])
    return {
        "prefill_tokens_per_second": real_tokens / prefill_seconds,
        "decode_tokens_per_second": len(batch_ids) * steps / decode_seconds,
        "prefill_real_tokens": real_tokens, "prefill_padded_shape": list(ids.shape),
        "prefill_times": prefill_times, "decode_times": decode_times[1:],
    }


SINGLE_STREAM_PROMPT = "Once upon a time"  # Benchmark.singleStreamPrompt in Sources/Benchmarks
SINGLE_STREAM_STEPS = 64


@torch.no_grad()
def bench_single_stream(model, prompt_ids, steps=SINGLE_STREAM_STEPS):
    """Tokens/s of `steps` greedy steps of one prompt with the KV cache (prefill untimed)."""
    ids = torch.tensor([prompt_ids])
    times = []
    for _ in range(REPS + 1):  # the first is the warm-up
        out = model(input_ids=ids, use_cache=True, logits_to_keep=1)
        cache, nxt = out.past_key_values, out.logits[:, -1].argmax(-1)
        start = time.perf_counter()
        for _ in range(steps):
            out = model(input_ids=nxt[:, None], past_key_values=cache, use_cache=True)
            cache, nxt = out.past_key_values, out.logits[:, -1].argmax(-1)
        times.append(time.perf_counter() - start)
    return steps / statistics.median(times[1:]), times[1:]


@torch.no_grad()
def lens_sweep(model, batches):
    last_block = model.model.layers[-1]
    norm, head = model.model.norm, model.lm_head
    for ids, mask in batches:
        captured = {}
        handle = last_block.register_forward_hook(
            lambda _m, _i, out: captured.__setitem__("h", out[0] if isinstance(out, tuple) else out))
        try:
            out = model(input_ids=ids, attention_mask=mask, position_ids=positions(mask),
                        output_hidden_states=True, use_cache=False, logits_to_keep=1)
        finally:
            handle.remove()
        # hidden_states: [embed, L0..L28, FinalNorm(L29)]; the pre-norm L29 comes from the hook.
        states = list(out.hidden_states[:-1]) + [captured["h"]]
        for h in states:
            torch.softmax(head(norm(h[:, -1])), dim=-1)


def bench_lora_step(model, tokenizer):
    from peft import LoraConfig, get_peft_model
    torch.manual_seed(0)
    config = LoraConfig(r=16, lora_alpha=32, lora_dropout=0.0, target_modules=["q_proj", "k_proj", "v_proj", "o_proj"],
                        task_type="CAUSAL_LM")
    wrapped = get_peft_model(model, config)
    wrapped.train()
    optimizer = torch.optim.AdamW([p for p in wrapped.parameters() if p.requires_grad], lr=2e-4,
                                  betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    texts = [f"{a} + {b} = add: {a + b}. {a} * {b} = multiply: {a * b}." for a, b in ((12, 7), (34, 19), (5, 88), (61, 3))]
    batch = torch.tensor([encode(tokenizer, t)[:16] for t in texts])
    assert batch.shape == (4, 16), batch.shape

    def step():
        optimizer.zero_grad(set_to_none=True)
        out = wrapped(input_ids=batch, labels=batch, use_cache=False)
        out.loss.backward()
        optimizer.step()

    seconds, times = timed(step, reps=max(REPS, 5))
    return seconds, times


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", help="also write the JSON to this file")
    args = parser.parse_args()
    torch.set_num_threads(THREADS)

    result = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"nproc": os.cpu_count(), "cpu_model": cpu_model(), "torch_threads": torch.get_num_threads(),
                    # the cores are shared: a high load here means the figures are pessimistic
                    "load_average_at_start": list(os.getloadavg())},
        "torch_version": torch.__version__,
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
    }
    import peft
    import transformers
    result["transformers_version"], result["peft_version"] = transformers.__version__, peft.__version__

    result["sgemm_gflops_1024"] = bench_sgemm(1024)
    result["sgemm_gflops_2048"] = bench_sgemm(2048)

    tokenizer = load_tokenizer()
    model = load_model()
    prompts32 = [encode(tokenizer, p) for p in arithmetic_prompts(32, seed=1)]
    pd = bench_prefill_decode(model, prompts32)
    result["prefill_tokens_per_second"] = pd.pop("prefill_tokens_per_second")
    result["decode_tokens_per_second"] = pd.pop("decode_tokens_per_second")
    result["decode_single_tokens_per_second"], single_times = bench_single_stream(model, encode(tokenizer, SINGLE_STREAM_PROMPT))

    prompts300 = [encode(tokenizer, p) for p in arithmetic_prompts(300, seed=2)]
    batches = [left_padded(prompts300[i:i + 32]) for i in range(0, len(prompts300), 32)]
    result["lens_sweep_seconds"], lens_times = timed(lambda: lens_sweep(model, batches), reps=3)  # the costly one

    result["lora_step_seconds"], lora_times = bench_lora_step(model, tokenizer)
    result["machine"]["load_average_at_end"] = list(os.getloadavg())
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0

    result["details"] = {
        "repetitions": REPS, "statistic": "median after one warm-up", **pd,
        "single_stream": {"prompt": SINGLE_STREAM_PROMPT, "steps": SINGLE_STREAM_STEPS, "times": single_times},
        "lens": {"repetitions": 3, "prompts": 300, "batch": 32, "layers": len(model.model.layers) + 1, "times": lens_times},
        "lora": {"r": 16, "alpha": 32, "targets": ["q_proj", "k_proj", "v_proj", "o_proj"], "batch": [4, 16],
                 "optimizer": "AdamW lr 2e-4", "times": lora_times},
    }
    emit(result, args.out)


if __name__ == "__main__":
    main()
