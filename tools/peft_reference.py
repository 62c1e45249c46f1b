#!/usr/bin/env python3
"""Final-position logits of the default model with a LoRA adapter applied by PEFT, as JSON.

Dev-only (the dev venv: /opt/lazarus-dev-venv/bin/python tools/peft_reference.py ...). Three uses:

  peft_reference.py ADAPTER_DIR OUT.json [--prompt TEXT]... [--full-logits]
      loads the default GGUF in transformers, applies ADAPTER_DIR (e.g. one the Swift trainer saved)
      with `PeftModel.from_pretrained`, and writes the logits for each prompt (default prompts below).
  peft_reference.py --self-test
      makes a PEFT adapter (r 16, alpha 32, q/k/v/o, seeded random B) in a temporary folder, runs the
      above on it, and checks the result against the in-memory PEFT model and against an independent
      merge W + (alpha/r) B A read straight from adapter_model.safetensors.
  peft_reference.py --fixture
      writes Tests/IntrospectionTests/Fixtures/peft_adapter_r4/ (r 4, alpha 8, q_proj + v_proj, saved
      by PEFT itself) and peft_reference.json beside it.

JSON: {"generator", "model", "peft_version", "adapter": {"dir", "r", "lora_alpha", "target_modules"},
"fixed_ids", "prompts": [{"text", "ids", "base": FINAL, "adapted": FINAL}]} with FINAL =
{"logsumexp", "top20": [[id, logit]...], "fixed_logits": [...]} (plus "logits", the full vector, with
--full-logits). Ids come from SmolLM2's tokenizer, no BOS; each prompt runs alone.
"""
import argparse
import json
import os
import tempfile

import peft
import torch
from peft import LoraConfig, PeftModel, get_peft_model
from safetensors.torch import load_file

from make_llama_reference import fixed_ids
from reference_model import DEFAULT_MODEL, ROOT, encode, final_summary, load_model, load_tokenizer, rounded, write_json

PROMPTS = ["7 * 8 =", "23 + 45 =", "The capital of France is", "Hello, world!"]
FIXTURE_DIR = os.path.join(ROOT, "Tests", "IntrospectionTests", "Fixtures", "peft_adapter_r4")
FIXTURE_JSON = os.path.join(ROOT, "Tests", "IntrospectionTests", "Fixtures", "peft_reference.json")


@torch.no_grad()
def last_logits(model, ids):
    return model(torch.tensor([ids]), use_cache=False).logits[0, -1]


def make_adapter(model, folder, r, alpha, targets, seed, b_std=0.05):
    """A PEFT adapter saved by PEFT: A as PEFT initialises it (from the seed), B seeded random instead
    of zero so the adapter changes the logits. Returns the in-memory PeftModel."""
    torch.manual_seed(seed)
    config = LoraConfig(r=r, lora_alpha=alpha, target_modules=list(targets), lora_dropout=0.0, bias="none",
                        task_type="CAUSAL_LM")
    wrapped = get_peft_model(model, config)
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for name, p in wrapped.named_parameters():
            if "lora_B" in name:
                p.copy_(torch.randn(p.shape, generator=g) * b_std)
    wrapped.eval()
    wrapped.save_pretrained(folder)
    # PEFT records the folder the base model came from: name the file instead of a path on this machine.
    path = os.path.join(folder, "adapter_config.json")
    with open(path) as f:
        config = json.load(f)
    config["base_model_name_or_path"] = os.path.basename(DEFAULT_MODEL)
    with open(path, "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
        f.write("\n")
    return wrapped


def manual_merge_logits(folder, prompts_ids):
    """Independent of PEFT's forward: add (alpha/r) B A to each targeted weight from the saved files."""
    with open(os.path.join(folder, "adapter_config.json")) as f:
        config = json.load(f)
    scale = config["lora_alpha"] / config["r"]
    tensors = load_file(os.path.join(folder, "adapter_model.safetensors"))
    model = load_model()
    weights = dict(model.named_parameters())
    merged = 0
    with torch.no_grad():
        for key, a in tensors.items():
            if not key.endswith("lora_A.weight"):
                continue
            b = tensors[key.replace("lora_A", "lora_B")]
            # base_model.model.model.layers.{i}.self_attn.q_proj.lora_A.weight -> model.layers.{i}...weight
            target = key.removeprefix("base_model.model.").replace(".lora_A.weight", ".weight")
            weights[target].add_(scale * (b @ a))
            merged += 1
    assert merged > 0
    return [last_logits(model, ids) for ids in prompts_ids]


def reference(adapter_dir, prompts, full_logits=False):
    tokenizer = load_tokenizer()
    base = load_model()
    chosen = fixed_ids(tokenizer, base.config.vocab_size)
    prompts_ids = [encode(tokenizer, p) for p in prompts]
    base_logits = [last_logits(base, ids) for ids in prompts_ids]
    adapted_model = PeftModel.from_pretrained(base, adapter_dir).eval()
    adapted_logits = [last_logits(adapted_model, ids) for ids in prompts_ids]
    with open(os.path.join(adapter_dir, "adapter_config.json")) as f:
        config = json.load(f)

    def record(logits):
        out = final_summary(logits, chosen)
        if full_logits:
            out["logits"] = rounded(logits, 7)
        return out

    result = {
        "generator": "tools/peft_reference.py",
        "model": os.path.basename(DEFAULT_MODEL),
        "peft_version": peft.__version__,
        "adapter": {"dir": os.path.basename(os.path.normpath(adapter_dir)), "r": config["r"],
                    "lora_alpha": config["lora_alpha"], "target_modules": sorted(config["target_modules"])},
        "fixed_ids": chosen,
        "prompts": [{"text": t, "ids": ids, "base": record(b), "adapted": record(a)}
                    for t, ids, b, a in zip(prompts, prompts_ids, base_logits, adapted_logits)],
    }
    for p, b, a in zip(prompts, base_logits, adapted_logits):
        print(f"{p!r}: adapter moves the last logits by up to {float((a - b).abs().max()):.3f}")
    return result, prompts_ids, adapted_logits


def check(name, expected, got, atol):
    worst = max(float((e - g).abs().max()) for e, g in zip(expected, got))
    print(f"{name}: max |difference| {worst:.2e}")
    assert worst <= atol, (name, worst)


def self_test():
    with tempfile.TemporaryDirectory() as folder:
        tokenizer = load_tokenizer()
        wrapped = make_adapter(load_model(), folder, r=16, alpha=32,
                               targets=("q_proj", "k_proj", "v_proj", "o_proj"), seed=7)
        in_memory = [last_logits(wrapped, encode(tokenizer, p)) for p in PROMPTS]
        del wrapped
        _, prompts_ids, from_files = reference(folder, PROMPTS)
        check("PeftModel.from_pretrained vs the in-memory PEFT model", in_memory, from_files, 1e-4)
        check("manual merge W + (alpha/r) B A vs PEFT", from_files, manual_merge_logits(folder, prompts_ids), 2e-3)


def fixture():
    make_adapter(load_model(), FIXTURE_DIR, r=4, alpha=8, targets=("q_proj", "v_proj"), seed=11)
    readme = os.path.join(FIXTURE_DIR, "README.md")
    if os.path.exists(readme):
        os.remove(readme)  # PEFT's model-card template: nothing a test reads
    result, prompts_ids, adapted = reference(FIXTURE_DIR, PROMPTS)
    check("manual merge vs PEFT", adapted, manual_merge_logits(FIXTURE_DIR, prompts_ids), 2e-3)
    write_json(FIXTURE_JSON, result)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("adapter_dir", nargs="?")
    parser.add_argument("out", nargs="?")
    parser.add_argument("--prompt", action="append", help="a prompt (repeatable); default: a few fixed ones")
    parser.add_argument("--full-logits", action="store_true", help="also write the full logit vectors")
    parser.add_argument("--self-test", action="store_true")
    parser.add_argument("--fixture", action="store_true")
    args = parser.parse_args()
    if args.self_test:
        self_test()
    elif args.fixture:
        fixture()
    elif args.adapter_dir and args.out:
        result, _, _ = reference(args.adapter_dir, args.prompt or PROMPTS, args.full_logits)
        write_json(os.path.abspath(args.out), result)
    else:
        parser.error("give ADAPTER_DIR OUT.json, or --self-test, or --fixture")


if __name__ == "__main__":
    main()
