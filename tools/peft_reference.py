#!/usr/bin/env python3
"""Final-position logits of a model with a LoRA adapter applied by PEFT, as JSON.

Dev-only (the dev venv: /opt/lazarus-dev-venv/bin/python tools/peft_reference.py ...). The model is the
default GGUF unless --model names another GGUF or a Hugging Face folder (e.g. a tiny family fixture,
whose own tokenizer.json then gives the ids). Three uses:

  peft_reference.py [--model PATH] ADAPTER_DIR OUT.json [--prompt TEXT]... [--full-logits]
      loads the model in transformers, applies ADAPTER_DIR (e.g. one the Swift trainer saved) with
      `PeftModel.from_pretrained`, and writes the logits for each prompt (default prompts below).
  peft_reference.py --self-test [--model PATH]
      makes a PEFT adapter (r 16, alpha 32, q/k/v/o, seeded random B) in a temporary folder, runs the
      above on it, and checks the result against the in-memory PEFT model and against an independent
      merge W + (alpha/r) B A read straight from adapter_model.safetensors.
  peft_reference.py --fixture [NAME]
      writes one of the PEFT-saved adapter fixtures of FIXTURES into Tests/IntrospectionTests/Fixtures/
      (saved by PEFT itself, seeded random nonzero B) and its reference JSON beside it: `default` is
      peft_adapter_r4/ (r 4, alpha 8, q_proj + v_proj on the default model) and peft_reference.json;
      `gemma3` and `qwen2` are peft_adapter_tiny_{gemma3,qwen2}/ (r 4, alpha 8, all seven projections on
      the tiny family folder) and peft_reference_tiny_{gemma3,qwen2}.json; `mixtral_router` and
      `gpt_oss_router` are peft_adapter_tiny_{mixtral,gpt_oss}_router/ (r 4, alpha 8, q_proj + v_proj and the
      router on the tiny MoE folder of tools/make_tiny_moe.py) and peft_reference_tiny_*_router.json. PEFT
      cannot name the router in target_modules (transformers 5's MixtralTopKRouter and GptOssTopKRouter are
      not nn.Linear: "Target module ... is not supported"), so it targets the router's weight through
      target_parameters (mlp.gate.weight for Mixtral, mlp.router.weight for GPT-OSS), which adds
      (alpha/r) B A to that weight: the same update as LoRA on a linear router.

JSON: {"generator", "model", "peft_version", "adapter": {"dir", "r", "lora_alpha", "target_modules", "target_parameters"},
"fixed_ids", "prompts": [{"text", "ids", "base": FINAL, "adapted": FINAL}]} with FINAL =
{"logsumexp", "top20": [[id, logit]...], "fixed_logits": [...]} (plus "logits", the full vector, with
--full-logits). "model" is the model's file or folder name. Ids come from the model's tokenizer, no
BOS; each prompt runs alone.
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
FIXTURES_ROOT = os.path.join(ROOT, "Tests", "IntrospectionTests", "Fixtures")
FAMILIES = os.path.join(ROOT, "Tests", "TransformerTests", "Fixtures", "families")
MIXTURES = os.path.join(ROOT, "Tests", "TransformerTests", "Fixtures", "moe")
ALL_PROJECTIONS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
# name -> (model, adapter folder, reference JSON, r, alpha, targets, seed, std of B). The tiny models' random
# weights are larger than a trained model's, so their B is too, for the adapter to move the logits visibly.
FIXTURES = {
    "default": (DEFAULT_MODEL, "peft_adapter_r4", "peft_reference.json", 4, 8, ("q_proj", "v_proj"), 11, 0.05),
    "gemma3": (os.path.join(FAMILIES, "tiny_gemma3"), "peft_adapter_tiny_gemma3", "peft_reference_tiny_gemma3.json",
               4, 8, ALL_PROJECTIONS, 13, 0.2),
    "qwen2": (os.path.join(FAMILIES, "tiny_qwen2"), "peft_adapter_tiny_qwen2", "peft_reference_tiny_qwen2.json",
              4, 8, ALL_PROJECTIONS, 17, 0.2),
    "mixtral_router": (os.path.join(MIXTURES, "tiny_mixtral"), "peft_adapter_tiny_mixtral_router",
                       "peft_reference_tiny_mixtral_router.json", 4, 8, ("q_proj", "v_proj"), 19, 0.2),
    "gpt_oss_router": (os.path.join(MIXTURES, "tiny_gpt_oss"), "peft_adapter_tiny_gpt_oss_router",
                       "peft_reference_tiny_gpt_oss_router.json", 4, 8, ("q_proj", "v_proj"), 23, 0.2),
}
# Parameters PEFT adapts directly (target_parameters), per fixture: the routers of the MoE folders.
FIXTURE_PARAMETERS = {"mixtral_router": ("mlp.gate.weight",), "gpt_oss_router": ("mlp.router.weight",)}


@torch.no_grad()
def last_logits(model, ids):
    return model(torch.tensor([ids]), use_cache=False).logits[0, -1]


def make_adapter(model, model_path, folder, r, alpha, targets, seed, b_std=0.05, parameters=()):
    """A PEFT adapter saved by PEFT: A as PEFT initialises it (from the seed), B seeded random instead
    of zero so the adapter changes the logits. Returns the in-memory PeftModel."""
    torch.manual_seed(seed)
    config = LoraConfig(r=r, lora_alpha=alpha, target_modules=list(targets), lora_dropout=0.0, bias="none",
                        task_type="CAUSAL_LM", target_parameters=list(parameters) or None)
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
    config["base_model_name_or_path"] = os.path.basename(os.path.normpath(model_path))
    with open(path, "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
        f.write("\n")
    return wrapped


def manual_merge_logits(model_path, folder, prompts_ids):
    """Independent of PEFT's forward: add (alpha/r) B A to each targeted weight from the saved files."""
    with open(os.path.join(folder, "adapter_config.json")) as f:
        config = json.load(f)
    scale = config["lora_alpha"] / config["r"]
    tensors = load_file(os.path.join(folder, "adapter_model.safetensors"))
    model = load_model(model_path)
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


def reference(model_path, adapter_dir, prompts, full_logits=False):
    tokenizer = load_tokenizer(model_path)
    base = load_model(model_path)
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
        "model": os.path.basename(os.path.normpath(model_path)),
        "peft_version": peft.__version__,
        "adapter": {"dir": os.path.basename(os.path.normpath(adapter_dir)), "r": config["r"],
                    "lora_alpha": config["lora_alpha"], "target_modules": sorted(config["target_modules"]),
                    "target_parameters": sorted(config.get("target_parameters") or [])},
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


def self_test(model_path):
    with tempfile.TemporaryDirectory() as folder:
        tokenizer = load_tokenizer(model_path)
        wrapped = make_adapter(load_model(model_path), model_path, folder, r=16, alpha=32,
                               targets=("q_proj", "k_proj", "v_proj", "o_proj"), seed=7)
        in_memory = [last_logits(wrapped, encode(tokenizer, p)) for p in PROMPTS]
        del wrapped
        _, prompts_ids, from_files = reference(model_path, folder, PROMPTS)
        check("PeftModel.from_pretrained vs the in-memory PEFT model", in_memory, from_files, 1e-4)
        check("manual merge W + (alpha/r) B A vs PEFT", from_files,
              manual_merge_logits(model_path, folder, prompts_ids), 2e-3)


def fixture(name):
    model_path, folder_name, json_name, r, alpha, targets, seed, b_std = FIXTURES[name]
    folder = os.path.join(FIXTURES_ROOT, folder_name)
    make_adapter(load_model(model_path), model_path, folder, r=r, alpha=alpha, targets=targets, seed=seed, b_std=b_std,
                 parameters=FIXTURE_PARAMETERS.get(name, ()))
    readme = os.path.join(folder, "README.md")
    if os.path.exists(readme):
        os.remove(readme)  # PEFT's model-card template: nothing a test reads
    result, prompts_ids, adapted = reference(model_path, folder, PROMPTS)
    check("manual merge vs PEFT", adapted, manual_merge_logits(model_path, folder, prompts_ids), 2e-3)
    write_json(os.path.join(FIXTURES_ROOT, json_name), result)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("adapter_dir", nargs="?")
    parser.add_argument("out", nargs="?")
    parser.add_argument("--model", default=DEFAULT_MODEL, help="a GGUF file or a Hugging Face folder (default: the default model)")
    parser.add_argument("--prompt", action="append", help="a prompt (repeatable); default: a few fixed ones")
    parser.add_argument("--full-logits", action="store_true", help="also write the full logit vectors")
    parser.add_argument("--self-test", action="store_true")
    parser.add_argument("--fixture", nargs="?", const="default", choices=sorted(FIXTURES))
    args = parser.parse_args()
    if args.self_test:
        self_test(args.model)
    elif args.fixture:
        fixture(args.fixture)
    elif args.adapter_dir and args.out:
        result, _, _ = reference(args.model, args.adapter_dir, args.prompt or PROMPTS, args.full_logits)
        write_json(os.path.abspath(args.out), result)
    else:
        parser.error("give ADAPTER_DIR OUT.json, or --self-test, or --fixture [NAME]")


if __name__ == "__main__":
    main()
