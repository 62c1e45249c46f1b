#!/usr/bin/env python3
"""Writes the SentencePiece-style reference fixtures of Tests/TokenizerTests/Fixtures.

Dev-only: CI never runs this, it only reads what it wrote. Run it from the package root with the
dev venv: `/opt/lazarus-dev-venv/bin/python tools/sentencepiece_reference.py [gemma-3-270m-q4_k_m.gguf]`.

What it writes (small: texts and ids, never the 262,144-token vocabulary):
- gemma3_reference.json: for an awkward corpus (runs of spaces, leading and trailing spaces,
  digits, unicode, emoji, code, newlines and tabs, Gemma's special-token texts, text holding "▁"),
  the ids transformers gives with the tokenizer it builds from the real Gemma 3 GGUF
  (`AutoTokenizer.from_pretrained(folder, gguf_file=name)`, BOS added as the file says), and its
  decoding. The Swift test rebuilds the tokenizer from the GGUF itself and must give the same ids.
  When llama-cpp-python is installed, the script also tokenizes with llama.cpp (vocab_only) and
  records, per text, whether llama.cpp agrees; it prints where they differ.
- tiny_sentencepiece/{metaspace,gemma_style,prepend,llama_style}/tokenizer.json: tiny BPE tokenizers
  with byte fallback trained here with `tokenizers`: one with a Metaspace pre-tokenizer
  (prepend_scheme "first", split), one in Gemma's shape (normalizer Replace(" ", "▁"), Split on " ",
  no prefix), one with Prepend("▁") + Replace normalizers, and the Metaspace vocabulary as
  transformers' LlamaTokenizer saves it (Llama 2 / Mistral: Metaspace without split, Strip decoder);
  and tiny_sentencepiece_reference.json with their ids and decodings (with and without the BOS)
  for the corpus, read back from the written files.
- tiny_sentencepiece/llama_gguf/tiny.gguf: that vocabulary as a Llama-architecture GGUF with scores
  and no merges (Llama 2's rules), and its ids from transformers' tokenizer built from the file.
"""
import json
import os
import sys

import tokenizers
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tokenizer_reference import FIXTURES, ROOT, TRAINING_TEXT, hand_written_corpus, random_corpus, write_json  # noqa: E402

DEFAULT_GEMMA = "/work/models-cache/gemma-3-270m-q4_k_m.gguf"

GEMMA_SPECIALS = ["<bos>", "<eos>", "<pad>", "<unk>", "<mask>", "<start_of_turn>", "<end_of_turn>",
                  "[multimodal]", "<start_of_image>", "<end_of_image>", "<unused0>", "<table>", "</td>"]


def gemma_corpus():
    extra = [
        # spaces: runs, leading, trailing, alone
        "a  b", "a   b", "a    b", "  a", "    a", "a  ", "a    ", " ", "  ", "   ", " " * 31, " " * 32, " " * 40,
        "x" + " " * 33 + "y", " leading", "trailing ", "  both  ", " \n ", "a \n b", "a\u00a0 b",
        # tabs and newlines (user-defined tokens in Gemma's vocabulary)
        "\t", "\t\t", "\t" * 31, "\t" * 35, "a\tb", "\n", "\n\n", "\n" * 31, "\n" * 33, "a\n\n\nb", "\r\n", "x\r\n\r\ny",
        # the metaspace character written in text
        "▁", "▁▁", "▁hello", "hello▁world", "a ▁ b", "▁ ▁", " ▁", "▁ ",
        # Gemma's special-token texts, whole, glued and broken
        "<start_of_turn>user\nWhat is 7 * 8?<end_of_turn>\n<start_of_turn>model\n", "<bos>", "<bos>hello", "hello<eos>",
        "<bos><bos>", "<start_of_turn>", "<end_of_turn>", "<start_of_turn", "start_of_turn>", "<<start_of_turn>>",
        "<pad><unk><mask>", "[multimodal]", "<start_of_image><end_of_image>", "<unused0> <unused1>", "<table><tr><td>1</td></tr></table>",
        "<h1>Title</h1>", "<0x41>", "<0x0A>", "x <bos> y", " <eos>",
        # byte fallback: scalars the vocabulary may lack
        "\u0000", "\u0001\u0002", "\U0010FFFF", "\ue000", "\ufffe", "𓀀𓀁", "🫩 🥲 🩵", "🗽⃢⃢🗿", "\u200d", "\ufeffbom",
        # digits and arithmetic
        "7 * 8 =", "7 * 8 = multiply: 56", "34 + 19 = add: 53", "12 - 5 = subtract: 7", "1234567890", "3.14159", "1,000,000",
        "٣٤ + ١٩", "x½²Ⅻ",
        # code
        "def f(x):\n    return x + 1\n", "if (a && b) {\n\tc();\n}", "    indented\n        more", "# comment\r\n",
        # long stretches: one word to Gemma's tokenizer, merged by the heap loop
        "The quick brown fox jumps over the lazy dog, 12 times; naïve café 😀.\n" * 60,
        "supercalifragilisticexpialidocious" * 20, "ab" * 200, "9" * 500,
    ]
    corpus = extra + [t for t in hand_written_corpus() if len(t) < 1000] + random_corpus(60)
    seen, out = set(), []
    for text in corpus:
        if text not in seen:
            seen.add(text)
            out.append(text)
    return out


def gemma_reference(model_path):
    from transformers import AutoTokenizer
    folder, name = os.path.dirname(model_path), os.path.basename(model_path)
    tok = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    backend = tok.backend_tokenizer
    print("transformers built:", type(tok).__name__, "normalizer", backend.normalizer, "pre_tokenizer", backend.pre_tokenizer)
    assert backend.model.byte_fallback
    corpus = gemma_corpus()

    llama = None
    try:
        import llama_cpp
        llama = llama_cpp.Llama(model_path=model_path, vocab_only=True, verbose=False)
    except Exception as error:
        print(f"llama.cpp comparison skipped: {type(error).__name__}: {error}"[:300])

    cases, differ = [], []
    for text in corpus:
        ids = tok.encode(text)
        case = {"text": text, "ids": ids, "decoded": tok.decode(ids, skip_special_tokens=False)}
        if llama is not None:
            theirs = llama.tokenize(text.encode("utf-8"), add_bos=True, special=True)
            case["llama_cpp_agrees"] = theirs == ids
            if theirs != ids:
                differ.append((text, ids, theirs))
        cases.append(case)
    if llama is not None:
        print(f"llama.cpp differs from transformers on {len(differ)} of {len(cases)} texts")
        for text, ours, theirs in differ[:20]:
            print("   ", repr(text)[:60], ours[:12], theirs[:12])
    # Facts the Swift test relies on, checked here so that a wrong build cannot write fixtures.
    assert tok.encode("")[:1] == [2], "BOS is added"
    assert tok.encode("<start_of_turn>")[1:] == [105]
    return {
        "source": f"transformers {__import__('transformers').__version__}, tokenizers {tokenizers.__version__}: "
                  f"AutoTokenizer.from_pretrained(folder, gguf_file={name!r})",
        "model_file": name,
        "vocabulary_size": len(tok),
        "llama_cpp": (f"llama-cpp-python {__import__('llama_cpp').__version__}" if llama is not None else None),
        "cases": cases,
    }


# --- tiny SentencePiece-style tokenizers -----------------------------------------------------

BYTE_TOKENS = [f"<0x{b:02X}>" for b in range(256)]
TINY_SPECIALS = ["<unk>", "<s>", "</s>", "<start_of_turn>", "<end_of_turn>"]


def train_sentencepiece_style(shape):
    """A BPE with byte fallback, its 256 byte tokens in the model's vocabulary (not added tokens, as
    in Gemma's and Llama 2's files), in one of three shapes."""
    tok = Tokenizer(models.BPE(unk_token="<unk>", fuse_unk=True, byte_fallback=True))
    if shape == "metaspace":
        tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=True)
    else:
        tok.normalizer = normalizers.Replace(" ", "▁")
    trainer = trainers.BpeTrainer(vocab_size=700, min_frequency=2, special_tokens=list(TINY_SPECIALS), show_progress=False)
    tok.train_from_iterator(TRAINING_TEXT, trainer)

    # Rebuild the model with the byte tokens inserted after the special tokens.
    trained = json.loads(tok.to_str())["model"]
    ordered = sorted(trained["vocab"].items(), key=lambda item: item[1])
    vocab = {}
    for text, _ in ordered[:len(TINY_SPECIALS)]:
        vocab[text] = len(vocab)
    for text in BYTE_TOKENS:
        vocab[text] = len(vocab)
    for text, _ in ordered[len(TINY_SPECIALS):]:
        if text not in vocab:
            vocab[text] = len(vocab)
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in trained["merges"]]
    rebuilt = Tokenizer(models.BPE(vocab, merges, unk_token="<unk>", fuse_unk=True, byte_fallback=True))
    if shape == "metaspace":
        rebuilt.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=True)
        rebuilt.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="first", split=True)
    elif shape == "gemma_style":
        rebuilt.normalizer = normalizers.Replace(" ", "▁")
        rebuilt.pre_tokenizer = pre_tokenizers.Split(" ", behavior="merged_with_previous", invert=False)
        rebuilt.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse()])
    elif shape == "prepend":
        rebuilt.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
        rebuilt.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                                             decoders.Strip(" ", 1, 0)])
    else:
        raise ValueError(shape)
    rebuilt.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in TINY_SPECIALS])
    rebuilt.add_tokens([AddedToken("[NOTE]", special=False, normalized=False)])
    rebuilt.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A <s> $B",
                                                           special_tokens=[("<s>", rebuilt.token_to_id("<s>"))])
    return rebuilt


def save_llama_style(folder):
    """The Metaspace vocabulary handed to transformers' LlamaTokenizer and saved as it saves it
    (Llama 2, Mistral: Metaspace prepend_scheme "first" without split, Strip decoder)."""
    from transformers import LlamaTokenizer
    trained = json.loads(train_sentencepiece_style("metaspace").to_str())["model"]
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in trained["merges"]]
    tok = LlamaTokenizer(vocab=trained["vocab"], merges=merges, unk_token="<unk>", bos_token="<s>", eos_token="</s>")
    tok.add_special_tokens({"additional_special_tokens": ["<start_of_turn>", "<end_of_turn>"]})
    tok.add_tokens([AddedToken("[NOTE]", special=False, normalized=False)])
    tok.save_pretrained(folder)
    for extra in ("special_tokens_map.json", "chat_template.jinja"):
        if os.path.exists(os.path.join(folder, extra)):
            os.remove(os.path.join(folder, extra))


def write_llama_gguf(folder):
    """The Metaspace vocabulary as a Llama-architecture GGUF with a SentencePiece ('llama') vocabulary
    and no merges: scores -(position // 3) for ordinary tokens (so that ties occur and the tie-breaks
    of transformers' merge rebuild are pinned), token types as llama.cpp writes them."""
    import gguf
    import numpy as np
    data = json.loads(train_sentencepiece_style("metaspace").to_str())
    tokens = [None] * (max(data["model"]["vocab"].values()) + 1)
    for text, index in data["model"]["vocab"].items():
        tokens[index] = text
    for added in data["added_tokens"]:
        if added["id"] >= len(tokens):
            tokens += [None] * (added["id"] + 1 - len(tokens))
        tokens[added["id"]] = added["content"]
    types = []
    for text in tokens:
        if text == "<unk>":
            types.append(2)
        elif text in TINY_SPECIALS:
            types.append(3)
        elif text == "[NOTE]":
            types.append(4)
        elif text in BYTE_TOKENS:
            types.append(6)
        else:
            types.append(1)
    scores = [-float(i // 3) if kind == 1 else 0.0 for i, kind in enumerate(types)]
    path = os.path.join(folder, "tiny.gguf")
    writer = gguf.GGUFWriter(path, "llama")
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_bos_token_id(tokens.index("<s>"))
    writer.add_eos_token_id(tokens.index("</s>"))
    writer.add_unk_token_id(tokens.index("<unk>"))
    writer.add_add_bos_token(True)
    writer.add_add_space_prefix(True)
    # One small tensor: transformers reads the file as a model file.
    writer.add_tensor("token_embd.weight", np.zeros((len(tokens), 4), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def tiny_sentencepiece_references(corpus):
    out = {"source": "tokenizers " + tokenizers.__version__, "tokenizers": {}}
    texts = corpus + ["[NOTE] a note[NOTE]", "<s>hi</s>", "<start_of_turn>user\nhi<end_of_turn>", "Zq\u0000~ unknown ✗ scalars"]
    for shape in ("metaspace", "gemma_style", "prepend", "llama_style"):
        folder = os.path.join(FIXTURES, "tiny_sentencepiece", shape)
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, "tokenizer.json")
        if shape == "llama_style":
            save_llama_style(folder)
        else:
            train_sentencepiece_style(shape).save(path)
            write_json(os.path.join(folder, "tokenizer_config.json"), {"bos_token": "<s>", "eos_token": "</s>"})
        print(f"wrote {os.path.relpath(path, ROOT)} ({os.path.getsize(path)} bytes)")
        loaded = Tokenizer.from_file(path)
        cases = []
        for text in texts:
            ids = loaded.encode(text, add_special_tokens=True).ids
            # Without BOS too: the decoders drop the prefix "▁" only from the first token.
            cases.append({"text": text, "ids": ids, "decoded": loaded.decode(ids, skip_special_tokens=False),
                          "decoded_without_bos": loaded.decode(ids[1:], skip_special_tokens=False)})
        out["tokenizers"][shape] = {
            "vocabulary_size": loaded.get_vocab_size(with_added_tokens=True),
            "bos_token_id": loaded.token_to_id("<s>"), "eos_token_id": loaded.token_to_id("</s>"),
            # The BPE model's own unknown token (LlamaTokenizer writes none: byte fallback covers all).
            "unknown_token_id": (loaded.token_to_id(loaded.model.unk_token) if loaded.model.unk_token else None),
            # transformers 5 takes BOS from tokenizer.json's template alone (LlamaTokenizer saves none).
            "adds_bos": loaded.encode("").ids == [loaded.token_to_id("<s>")], "cases": cases,
        }
    # A Llama-architecture GGUF: ids from transformers' tokenizer built from the file.
    from transformers import AutoTokenizer
    folder = os.path.join(FIXTURES, "tiny_sentencepiece", "llama_gguf")
    os.makedirs(folder, exist_ok=True)
    path = write_llama_gguf(folder)
    print(f"wrote {os.path.relpath(path, ROOT)} ({os.path.getsize(path)} bytes)")
    tok = AutoTokenizer.from_pretrained(folder, gguf_file="tiny.gguf")
    backend = tok.backend_tokenizer
    assert backend.model.unk_token is None and backend.pre_tokenizer is not None, backend
    cases = []
    for text in texts:
        ids = tok.encode(text)
        cases.append({"text": text, "ids": ids, "decoded": tok.decode(ids, skip_special_tokens=False),
                      "decoded_without_bos": tok.decode(ids[1:], skip_special_tokens=False)})
    out["tokenizers"]["llama_gguf"] = {
        "vocabulary_size": len(tok), "bos_token_id": tok.bos_token_id, "eos_token_id": tok.eos_token_id,
        "unknown_token_id": None, "adds_bos": tok.encode("") == [tok.bos_token_id], "cases": cases,
    }
    return out


def main():
    model_path = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("LAZARUS_GEMMA_MODEL", DEFAULT_GEMMA)
    os.makedirs(FIXTURES, exist_ok=True)
    corpus = gemma_corpus()
    write_json(os.path.join(FIXTURES, "tiny_sentencepiece_reference.json"), tiny_sentencepiece_references(corpus))
    write_json(os.path.join(FIXTURES, "gemma3_reference.json"), gemma_reference(model_path))


if __name__ == "__main__":
    main()
