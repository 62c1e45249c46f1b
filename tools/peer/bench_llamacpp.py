#!/usr/bin/env python3
"""The llama.cpp side of docs/SPEC.md §8: prefill and single-stream decode on the same GGUF and threads.

Dev-only (the dev venv has llama-cpp-python: /opt/lazarus-dev-venv/bin/python tools/peer/bench_llamacpp.py
[--model GGUF] [--out FILE]). Prints one JSON object. Two threads; the GGUF's own quantised weights (llama.cpp
never dequantises them to float32, so this is the `native` peer, not the `f32` one). Every figure is the median
of REPS (default 5, env LAZARUS_BENCH_REPS) timed repetitions after one untimed warm-up; the load average
at start and end is recorded, since the 2 cores are shared.

- prefill_tokens_per_second: the 32 arithmetic prompts of `lazarus bench` ("7 * 3 =", ...), each evaluated
  from an empty cache, one after the other (llama-cpp-python's API evaluates one sequence at a time; Lazarus
  and PyTorch run the 32 as one padded batch); counted over the prompt tokens.
- decode_single_tokens_per_second: "Once upon a time", its prefill untimed, then 64 greedy steps with the KV
  cache; 64 tokens over the time of the 64 steps (as `lazarus bench` and tools/peer/bench_pytorch.py).
"""
import argparse
import datetime
import os
import statistics
import time

import llama_cpp
import numpy as np

from machine import cpu_model, emit  # tools/peer/machine.py, beside this script

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
THREADS = 2
REPS = int(os.environ.get("LAZARUS_BENCH_REPS", "5"))
SINGLE_STREAM_PROMPT = "Once upon a time"  # Benchmark.singleStreamPrompt in Sources/Benchmarks
SINGLE_STREAM_STEPS = 64


def bench_prompts(count):
    """Benchmark.arithmeticPrompts in Sources/Benchmarks, the same 32 texts."""
    ops = ["*", "+", "-"]
    return [f"{7 + i % 40} {ops[i % 3]} {3 + (i * 7) % 45} =" for i in range(count)]


def tokens(llm, text):
    return llm.tokenize(text.encode("utf-8"), add_bos=False, special=False)


def greedy_next(llm):
    return int(np.argmax(llm.scores[llm.n_tokens - 1]))


def bench_prefill(llm, prompts):
    total = sum(len(p) for p in prompts)
    times = []
    for _ in range(REPS + 1):
        start = time.perf_counter()
        for p in prompts:
            llm.reset()
            llm.eval(p)
        times.append(time.perf_counter() - start)
    return total / statistics.median(times[1:]), times[1:]


def bench_single_stream(llm, prompt):
    times = []
    for _ in range(REPS + 1):
        llm.reset()
        llm.eval(prompt)
        nxt = greedy_next(llm)
        start = time.perf_counter()
        for _ in range(SINGLE_STREAM_STEPS):
            llm.eval([nxt])
            nxt = greedy_next(llm)
        times.append(time.perf_counter() - start)
    return SINGLE_STREAM_STEPS / statistics.median(times[1:]), times[1:]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=os.path.join(ROOT, "models", "SmolLM2-135M-Instruct.Q4_1.gguf"))
    parser.add_argument("--out", help="also write the JSON to this file")
    args = parser.parse_args()
    result = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"nproc": os.cpu_count(), "cpu_model": cpu_model(), "threads": THREADS,
                    "load_average_at_start": list(os.getloadavg())},
        "llama_cpp_python_version": llama_cpp.__version__,
        "model": os.path.basename(args.model),
    }
    llm = llama_cpp.Llama(model_path=args.model, n_threads=THREADS, n_threads_batch=THREADS, n_ctx=512,
                          n_batch=512, logits_all=False, verbose=False)
    prompts = [tokens(llm, t) for t in bench_prompts(32)]
    result["prefill_tokens_per_second"], prefill_times = bench_prefill(llm, prompts)
    result["decode_single_tokens_per_second"], single_times = bench_single_stream(llm, tokens(llm, SINGLE_STREAM_PROMPT))
    result["machine"]["load_average_at_end"] = list(os.getloadavg())
    result["details"] = {"repetitions": REPS, "statistic": "median after one warm-up",
                         "prefill": {"prompts": 32, "tokens": sum(len(p) for p in prompts), "times": prefill_times},
                         "single_stream": {"prompt": SINGLE_STREAM_PROMPT, "steps": SINGLE_STREAM_STEPS, "times": single_times}}
    emit(result, args.out)


if __name__ == "__main__":
    main()
