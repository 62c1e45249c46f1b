#!/usr/bin/env python3
"""Writes the forward-pass and logit-lens fixtures of the default model, from transformers in float32.

Dev-only (run with the dev venv: /opt/lazarus-dev-venv/bin/python tools/make_llama_reference.py).
The model is the default GGUF as transformers loads it (dequantised to float32, Q/K un-permuted); the
token ids come from SmolLM2's real tokenizer (reference_model.load_tokenizer) and are recorded, so the
Swift side feeds exactly the same ids. Each prompt runs alone (no padding, no BOS: the GGUF says
`tokenizer.ggml.add_bos_token = false`).

Tests/TransformerTests/Fixtures/smollm2_reference.json:
  {"generator", "model", "transformers_version", "torch_version", "dtype", "add_bos", "notes",
   "layers": ["embed", "L0", ..., "L29"], "fixed_ids": [...],
   "prompts": [{"text", "ids",
                "final": {"logsumexp", "top20": [[id, logit], ...], "fixed_logits": [...]},
                "hidden_last": {"l2_norm": [...per layer...], "first8": [[...] per layer],
                                "final_normed": {"l2_norm", "first8"}}}],
   "greedy": [{"text", "ids", "max_new_tokens", "new_ids", "new_text"}]}
  `fixed_logits[i]` is the logit of `fixed_ids[i]` at the last position. `hidden_last` is the residual
  stream at the last position: "embed" is the embedding output, "Lk" the output of block k BEFORE any
  final norm (for L29 taken by a hook on the last block, since transformers' last `hidden_states`
  entry is already final-normed); `final_normed` is that normed vector (transformers' last entry).

Tests/IntrospectionTests/Fixtures/lens_reference.json:
  {"generator", "model", "layers", "notes",
   "targets": {word: {"forms": [word, " " + word], "first_token_ids": [id, id]}},
   "prompts": [{"text", "ids", "task", "logprobs": {word: [[lp(form0), lp(form1)] per layer]},
                "top1": [[id, logprob] per layer]}],
   "metrics": {"mean_task_prob": [...per layer], "lens_task_accuracy": [...], "top1_rate": [...]}}
  logprobs are log_softmax(lm_head(final_norm(h_l[last]))) over the full vocabulary (natural log):
  log-probabilities, because many of these probabilities are far below 1e-30 and would compare badly
  as probabilities. A word's probability is the larger of its forms'; metrics follow docs/SPEC.md §5.
"""
import os

import torch
import transformers

from reference_model import (DEFAULT_MODEL, DIGITS, ROOT, encode, final_summary, load_model, load_tokenizer,
                             rounded, run_with_residuals, write_json)

LLAMA_OUT = os.path.join(ROOT, "Tests", "TransformerTests", "Fixtures", "smollm2_reference.json")
LENS_OUT = os.path.join(ROOT, "Tests", "IntrospectionTests", "Fixtures", "lens_reference.json")

# No prompt has two or more spaces before a digit: there transformers' own GGUF tokenizer would
# differ from SmolLM2's (docs/SPEC.md §3); the ids below come from the real one anyway and are recorded.
PROMPTS = [
    "7 * 8 =",
    "23 + 45 =",
    "89 - 34 =",
    "The capital of France is",
    "def add(a, b):\n",
    "Hello, world!",
    "12 * 5 = multiply: 60",
    "Café crème, naïve façade — 日本語 ✓",
    "<|im_start|>user\nWhat is 2 + 2?<|im_end|>\n<|im_start|>assistant\n",
]
GREEDY_PROMPTS = [
    "The capital of France is",
    "7 * 8 =",
    "def add(a, b):\n",
    "<|im_start|>user\nWhat is 2 + 2?<|im_end|>\n<|im_start|>assistant\n",
]
GREEDY_TOKENS = 12

LENS_PROMPTS = [
    ("7 * 8 =", "multiply"), ("23 + 45 =", "add"), ("89 - 34 =", "subtract"),
    ("9 * 9 =", "multiply"), ("17 + 38 =", "add"), ("65 - 28 =", "subtract"),
]
LENS_WORDS = ["multiply", "add", "subtract"]


def fixed_ids(tokenizer, vocab_size):
    """~30 ids whose logits are recorded for every prompt: digits, operators, the task words' first
    tokens, the special tokens and a spread across the vocabulary."""
    ids = [0, 1, 2]
    for text in [str(d) for d in range(10)] + [" =", " +", " -", " *", " Paris", "\n"]:
        ids.append(encode(tokenizer, text)[0])
    for word in LENS_WORDS:
        ids += [encode(tokenizer, word)[0], encode(tokenizer, " " + word)[0]]
    # The spread, cut to the vocabulary (a tiny model's has a few hundred tokens).
    ids += [i for i in (100, 1000, 5000, 12345, 20000, 30000, 40000) if i < vocab_size] + [vocab_size - 1]
    return sorted(set(ids))


def lens_logprobs(model, residual):
    """log_softmax(lm_head(final_norm(h))) for h: [D] -> [V]."""
    return torch.log_softmax(model.lm_head(model.model.norm(residual)), dim=-1)


def llama_reference(model, tokenizer, layers):
    vocab = model.config.vocab_size
    chosen = fixed_ids(tokenizer, vocab)
    prompts = []
    for text in PROMPTS:
        ids = encode(tokenizer, text)
        logits, residuals, normed = run_with_residuals(model, ids)
        final = final_summary(logits[-1], chosen)
        prompts.append({
            "text": text,
            "ids": ids,
            "final": final,
            "hidden_last": {
                "l2_norm": rounded([r[-1].norm() for r in residuals], DIGITS),
                "first8": [rounded(r[-1][:8], DIGITS) for r in residuals],
                "final_normed": {"l2_norm": float(normed[-1].norm()), "first8": rounded(normed[-1][:8], DIGITS)},
            },
        })
        print(f"{text!r}: top1 {tokenizer.decode([final['top20'][0][0]])!r} ({final['top20'][0][1]:.3f})")

    greedy = []
    for text in GREEDY_PROMPTS:
        ids = encode(tokenizer, text)
        out = model.generate(torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                             max_new_tokens=GREEDY_TOKENS, do_sample=False, eos_token_id=2, pad_token_id=2)
        new = [int(t) for t in out[0, len(ids):]]
        greedy.append({"text": text, "ids": ids, "max_new_tokens": GREEDY_TOKENS, "new_ids": new,
                       "new_text": tokenizer.decode(new, skip_special_tokens=False)})
        print(f"greedy {text!r} -> {greedy[-1]['new_text']!r}")

    return {
        "generator": "tools/make_llama_reference.py",
        "model": os.path.basename(DEFAULT_MODEL),
        "transformers_version": transformers.__version__,
        "torch_version": torch.__version__,
        "dtype": "float32",
        "add_bos": False,
        "notes": ("Ids fed as recorded, no BOS, each prompt alone. hidden_last: residual stream at the last "
                  "position; 'embed' = embedding output, 'Lk' = output of block k before any final norm (L29 "
                  "by a forward hook: transformers' last hidden_states entry is already final-normed, it is "
                  "final_normed here). Greedy: argmax, stops at EOS id 2 or after max_new_tokens."),
        "layers": layers,
        "fixed_ids": chosen,
        "prompts": prompts,
        "greedy": greedy,
    }


def lens_reference(model, tokenizer, layers):
    targets = {w: {"forms": [w, " " + w], "first_token_ids": [encode(tokenizer, w)[0], encode(tokenizer, " " + w)[0]]}
               for w in LENS_WORDS}
    prompts = []
    # best[p][l][word] = the word's probability (max over its forms) for prompt p at layer l
    best, top1_hits = [], []
    for text, task in LENS_PROMPTS:
        ids = encode(tokenizer, text)
        _, residuals, _ = run_with_residuals(model, ids)
        logprobs = {w: [] for w in LENS_WORDS}
        top1, best_p, hits = [], [], []
        for r in residuals:
            lp = lens_logprobs(model, r[-1])
            for w in LENS_WORDS:
                logprobs[w].append(rounded(lp[targets[w]["first_token_ids"]], DIGITS))
            arg = int(torch.argmax(lp))
            top1.append([arg, float(f"{float(lp[arg]):.{DIGITS}g}")])
            best_p.append({w: max(float(lp[i].exp()) for i in targets[w]["first_token_ids"]) for w in LENS_WORDS})
            hits.append(arg in targets[task]["first_token_ids"])
        best.append(best_p)
        top1_hits.append(hits)
        prompts.append({"text": text, "ids": ids, "task": task, "logprobs": logprobs, "top1": top1})

    count = len(LENS_PROMPTS)
    metrics = {"mean_task_prob": [], "lens_task_accuracy": [], "top1_rate": []}
    for layer in range(len(layers)):
        own = [best[p][layer][LENS_PROMPTS[p][1]] for p in range(count)]
        wins = [all(best[p][layer][LENS_PROMPTS[p][1]] > best[p][layer][w] for w in LENS_WORDS if w != LENS_PROMPTS[p][1])
                for p in range(count)]
        metrics["mean_task_prob"].append(float(f"{sum(own) / count:.{DIGITS}g}"))
        metrics["lens_task_accuracy"].append(sum(wins) / count)
        metrics["top1_rate"].append(sum(top1_hits[p][layer] for p in range(count)) / count)
    print("lens mean_task_prob by layer:", [f"{v:.3g}" for v in metrics["mean_task_prob"]])
    return {
        "generator": "tools/make_llama_reference.py",
        "model": os.path.basename(DEFAULT_MODEL),
        "layers": layers,
        "notes": ("logprobs[word][layer] = [lp(first token of word), lp(first token of ' ' + word)] with "
                  "lp = log_softmax(lm_head(final_norm(h_layer[last]))), natural log, full vocabulary, float32; "
                  "h_layer pre-norm ('embed' = embedding output, 'Lk' = output of block k). A word's probability "
                  "is the max over its forms. top1 = [argmax id, its logprob]. metrics as docs/SPEC.md §5 over these "
                  "prompts, from probabilities (exp of the logprobs)."),
        "targets": targets,
        "prompts": prompts,
        "metrics": metrics,
    }


@torch.no_grad()
def main():
    model = load_model()
    tokenizer = load_tokenizer()
    layers = ["embed"] + [f"L{k}" for k in range(model.config.num_hidden_layers)]
    write_json(LLAMA_OUT, llama_reference(model, tokenizer, layers))
    write_json(LENS_OUT, lens_reference(model, tokenizer, layers))


if __name__ == "__main__":
    main()
