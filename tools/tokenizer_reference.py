#!/usr/bin/env python3
"""Writes the reference fixtures of Tests/TokenizerTests/Fixtures from Hugging Face `tokenizers`.

Dev-only: CI never runs this, it only reads what it wrote. Run it from the package root with the
dev venv (`/opt/lazarus-dev-venv/bin/python tools/tokenizer_reference.py [MODEL.gguf]`).

What it writes (all small, < 1 MB together):
- smollm2_reference.json: for every corpus string, the ids and the pre-tokenizer pieces that
  `tokenizers` gives with SmolLM2's vocabulary and merges (read from the GGUF) under three
  pre-tokenizers: `smollm` (SmolLM2's real one: every digit alone, then the GPT-2 byte-level
  pattern), `gpt2` (the GPT-2 byte-level pattern only), `llama3` (Llama 3's Split regex, then
  byte-level without its own regex, BPE with ignore_merges as Llama 3 sets it) and `qwen2`
  (Qwen2's Split regex: Llama 3's with every digit alone).
  Why rebuild instead of using transformers' GGUF tokenizer: transformers knows no split rule for
  `tokenizer.ggml.pre = smollm` and falls back to plain GPT-2 splitting, which is wrong on a run of
  spaces before a digit ("a  12"). The script prints where the two disagree, as a sanity check.
- tiny_llama3/, tiny_smollm/, tiny_gpt2/, tiny_qwen2/ (with Qwen2's NFC normalizer): tokenizer.json files of tiny BPE tokenizers trained here,
  one per pre-tokenizer family (merges written as [a, b] pairs in two, as "a b" strings in one),
  and tiny_reference.json with their ids for the corpus.
- unicode_classes.json: which scalars the Oniguruma regex engine inside `tokenizers` puts in
  \\s, \\p{L}, \\p{N}, and which the Digits pre-tokenizer splits off, as inclusive ranges.
"""
import json
import os
import random
import sys

import gguf
import tokenizers
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "Tests", "TokenizerTests", "Fixtures")
DEFAULT_MODEL = "/work/main/models/SmolLM2-135M-Instruct.Q4_1.gguf"

LLAMA3_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)

# Qwen2's (and Qwen3's) pattern as its tokenizer.json writes it: Llama 3's with `\p{N}` alone.
QWEN2_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)


def pre_tokenizer_for(kind):
    if kind == "smollm":
        return pre_tokenizers.Sequence([
            pre_tokenizers.Digits(individual_digits=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
        ])
    if kind == "gpt2":
        return pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    if kind in ("llama3", "qwen2"):
        return pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(LLAMA3_PATTERN if kind == "llama3" else QWEN2_PATTERN), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ])
    raise ValueError(kind)


# --- the corpus -------------------------------------------------------------------------------

SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]


def hand_written_corpus():
    return [
        # arithmetic, as the experiments write it
        "7 * 8 = multiply: 56", "34 + 19 =", "34 + 19 = ", "12 - 5 = subtract: 7", "3 + 4 = add: 7",
        "50 - 50 = subtract: 0", "12 * 12 = 144", "a  12", "  42", "a   123", "x=1,y=22;z=333",
        "1+1=2", "-7", "3.14159", "1,000,000", "$100.50", "10%", "2^10 = 1024", "(3 + 4) * 5",
        "subtract", " subtract", "multiply", " multiply", "add", " add", "Subtract", "SUBTRACT",
        "0", "00", "007", "1234567890", "12345678901234567890", "x1234y", "abc123def", "v2.0.1",
        # English and contractions
        "Hello, world!", "The quick brown fox jumps over the lazy dog.", "hello world",
        "I'm sure it's fine, they've said we'll go and you'd agree; don't.", "DON'T", "I'M", "WE'LL",
        "THEY'VE", "YOU'RE", "SHE'D", "it'S", "'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "''s",
        "a's's", "  'sa", "rock 'n' roll", "o'clock", "'quoted'", "\"double quoted\"", "it’s",
        "it'ſt", "'ſ", "IT'ST", "we'LLx", "x'RE", "'ß", "'ﬆ", "'K", "'\u212a",
        # whitespace of every kind
        "", " ", "  ", "   ", "\t", "\n", "\n\n", "\n\n\n", " \n ", "\r\n", "\r\n\r\n", "a\r\nb",
        "a\n\nb", "a \n\n b", " \n\r\n x", "a\t\t b", "\tindented", "    four spaces", "trailing   ",
        "a  ", "  a", "a \u00a0b", "\u00a0\u00a0'll", "a\u0085b", "a\u0085\u0085b", " \u0085 x",
        "a\u2028 b", "x \u2028\n y", "a\u3000 b", "a\u1680\u180eb", "x\u000b\u000cy", "a\u200bb",
        "\u00ad x", "...\n\nx", "end.\n", "line1\nline2\n\nline4", "\u001c\u001d\u001e\u001f",
        "a\u2009b\u202fc", "word \n\tword",
        # letters beyond ASCII, combining marks, scripts
        "café", "cafe\u0301", "naïve façade", "über straße", "ÆØÅ æøå", "e\u0301t", "ñandú",
        "日本語のテキスト", "中文字符测试", "한국어 텍스트", "العربية نص", "עברית", "हिन्दी पाठ",
        "ภาษาไทย", "Ελληνικά", "Кириллица текст", "ﬁ 'ﬆ", "x½²٣Ⅻ7", "٣٤ + ١٩", "١٢٣٤",
        "Ⅻ o'clock", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "z\u0335\u0336\u0337algo",
        # emoji
        "😀", "I ❤️ tokens", "👍🏽 ok", "👨\u200d👩\u200d👧\u200d👦 family", "🇫🇷🇩🇪", "🏳️\u200d🌈",
        "emoji😀in😀text", "✓ done ✗ failed",
        # code
        "def f(x):\n    return x + 1\n", "for (int i = 0; i < n; i++) { sum += a[i]; }",
        "let x: [Int] = [1, 2, 3]", "if a != b && c >= d { print(\"ok\") }", "#include <stdio.h>",
        "SELECT * FROM t WHERE id = 42;", "<div class=\"x\">hi</div>", "path/to/file_name.txt",
        "snake_case camelCase PascalCase kebab-case", "http://example.com/a?b=1&c=2",
        "{\"key\": [1, 2.5, null, true]}", "    \n    \n", "x\t=\t1",
        # special tokens written in text
        "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|im_start|>user\nhi<|im_end|>",
        "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>assistant\n",
        "a<|endoftext|>b", "<|im_start|><|im_end|>", "<|endoftext|><|endoftext|>", "<|im_start",
        "<|im_start|", " <|im_end|> ", "<|im_end|>7 * 8 =", "<|<|im_start|>|>", "<|endoftext|>\n\n12",
        # long words
        "supercalifragilisticexpialidocious", "pneumonoultramicroscopicsilicovolcanoconiosis",
        "a" * 300, "ab" * 200, "supercalifragilisticexpialidocious" * 20, "9" * 100,
        "xyzzy" * 80, "Ġ" * 10, "ĊĠ", "\\u0120",
    ]


def random_corpus(count):
    # Strings mixing the characters the split patterns treat differently, so that odd
    # neighbourhoods (space before a digit, apostrophe before a capital, \r before a mark) occur.
    rng = random.Random(1234)
    pool = (list("abcXYZ019 '\t\n\r.,!-_") + ["  ", "'s", "'LL", "é", "e\u0301", "ſ", "\u00a0", "\u2028",
            "\u0085", "日本", "٣", "½", "😀", "👨\u200d👩", "\ufe0f", "<|im_end|>", "<|endoftext|>",
            "don't", " 12", "  7", "ß", "Ⅻ"])
    out = []
    for _ in range(count):
        n = rng.randint(1, 14)
        out.append("".join(rng.choice(pool) for _ in range(n)))
    return out


def number_corpus():
    out = []
    for n in range(0, 1001):
        out.append(str(n))
        out.append(" " + str(n))
    return out


# --- SmolLM2 from the GGUF --------------------------------------------------------------------

def read_gguf_vocab(path):
    reader = gguf.GGUFReader(path)

    def strings(key):
        field = reader.fields[key]
        return [bytes(field.parts[i]).decode("utf-8") for i in field.data]

    def ints(key):
        field = reader.fields[key]
        return [int(field.parts[i][0]) for i in field.data]

    def scalar(key):
        field = reader.fields[key]
        return field.parts[field.data[0]]

    tokens = strings("tokenizer.ggml.tokens")
    merges = strings("tokenizer.ggml.merges")
    token_types = ints("tokenizer.ggml.token_type")
    pre = bytes(scalar("tokenizer.ggml.pre")).decode()
    return tokens, merges, token_types, pre


def build_from_vocab(tokens, merges, token_types, kind):
    vocab = {t: i for i, t in enumerate(tokens)}
    pairs = [tuple(m.split(" ")) for m in merges]
    model = models.BPE(vocab, pairs, ignore_merges=(kind == "llama3"))
    tok = Tokenizer(model)
    tok.pre_tokenizer = pre_tokenizer_for(kind)
    tok.decoder = decoders.ByteLevel()
    specials = [t for t, ty in zip(tokens, token_types) if ty in (3, 4)]
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in specials])
    return tok


def gpt2_byte_table():
    # ByteLevel.alphabet() is unordered; the GPT-2 order is rebuilt here to invert it.
    keep = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
    table, extra = {}, 0
    for b in range(256):
        if b in keep:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    assert set(table.values()) == set(pre_tokenizers.ByteLevel.alphabet())
    return table


BYTE_TABLE = gpt2_byte_table()
BYTE_DECODER = {c: b for b, c in BYTE_TABLE.items()}
MISSING_BYTES = set()


def unbyte(piece):
    return bytes(BYTE_DECODER[c] for c in piece).decode("utf-8")


def pieces_of(tok, text):
    # Pre-tokenizer pieces of the plain text between special tokens, as original text.
    out = []
    for piece, _ in tok.pre_tokenizer.pre_tokenize_str(text):
        out.append(unbyte(piece))
    return out


def write_json(path, value):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {os.path.relpath(path, ROOT)} ({os.path.getsize(path)} bytes)")


def smollm2_reference(model_path, corpus, numbers):
    tokens, merges, token_types, pre = read_gguf_vocab(model_path)
    assert pre == "smollm", pre
    built = {kind: build_from_vocab(tokens, merges, token_types, kind) for kind in ("smollm", "gpt2", "llama3", "qwen2")}
    smol = built["smollm"]

    # The facts the spec states, checked here so that a wrong rebuild cannot write fixtures.
    global MISSING_BYTES
    MISSING_BYTES = set(b for b in range(256) if BYTE_TABLE[b] not in smol.get_vocab())
    print("bytes missing from the vocabulary:", sorted(MISSING_BYTES))
    ids = smol.encode("34 + 19 =").ids
    assert [tokens[i] for i in ids] == ["3", "4", "Ġ+", "Ġ", "1", "9", "Ġ="], [tokens[i] for i in ids]
    assert len(smol.encode("subtract").ids) == 2
    assert smol.encode("<|endoftext|><|im_start|><|im_end|>").ids == [0, 1, 2]

    cases = []
    for text in corpus:
        case = {"text": text}
        for kind, tok in built.items():
            enc = tok.encode(text, add_special_tokens=True)
            case[kind] = enc.ids
            # Pieces only for text without special tokens: the added vocabulary splits first.
            if not any(s in text for s in SPECIALS):
                case.setdefault("pieces", {})[kind] = pieces_of(tok, text)
        decoded = smol.decode(case["smollm"], skip_special_tokens=False)
        # SmolLM2's vocabulary lacks 21 of the 256 byte symbols; `tokenizers` (like llama.cpp)
        # drops such bytes, so only text without them must come back whole.
        case["decoded"] = decoded
        assert decoded == text or any(b in MISSING_BYTES for b in text.encode()), (text, decoded)
        cases.append(case)
    for text in numbers:
        cases.append({"text": text, **{kind: tok.encode(text).ids for kind, tok in built.items()}})

    # Informational: how often Llama 3's ignore_merges changes ids on this vocabulary.
    plain_merges = build_from_vocab(tokens, merges, token_types, "llama3")
    plain_merges.model = models.BPE({t: i for i, t in enumerate(tokens)},
                                    [tuple(m.split(" ")) for m in merges], ignore_merges=False)
    changed = sum(1 for c in cases if plain_merges.encode(c["text"]).ids != c["llama3"])
    print(f"llama3 pattern: ignore_merges changes the ids of {changed} strings")

    compare_with_transformers(model_path, cases)
    return {
        "source": "tokenizers " + tokenizers.__version__ + " rebuilt from " + os.path.basename(model_path),
        "model_file": os.path.basename(model_path),
        "vocabulary_size": len(tokens),
        "cases": cases,
    }


def compare_with_transformers(model_path, cases):
    # Informational only: the fixtures never depend on it.
    try:
        from transformers import AutoTokenizer
        tok = AutoTokenizer.from_pretrained(os.path.dirname(model_path), gguf_file=os.path.basename(model_path))
    except Exception as error:  # transformers missing, or torch failing to import
        print(f"skipping the comparison with transformers' GGUF tokenizer: {type(error).__name__}: {error}"[:300])
        return
    differ = [c["text"] for c in cases if tok.encode(c["text"], add_special_tokens=True) != c["smollm"]]
    print(f"transformers' GGUF tokenizer differs from the rebuilt SmolLM2 one on {len(differ)} of {len(cases)} strings")
    for text in differ[:12]:
        print("   ", repr(text))


# --- tiny trained tokenizers ------------------------------------------------------------------

TRAINING_TEXT = [
    "The quick brown fox jumps over the lazy dog. The dog sleeps; the fox runs away.",
    "7 * 8 = multiply: 56. 34 + 19 = add: 53. 50 - 12 = subtract: 38. 123456 + 7890 = 131346.",
    "I'm sure it's fine, they've said we'll go and you'd agree; don't worry. DON'T SHOUT.",
    "def add(a, b):\n    return a + b\n\nfor i in range(10):\n    print(add(i, i))\n",
    "Hello hello HELLO world worlds wonderful wonder wander water waiter.",
    "café naïve façade über straße 日本語 中文 한국어 العربية 😀 👍🏽",
    "Numbers: 1 22 333 4444 55555 666666 and 2024-01-15 at 10:30, price $19.99 (15% off).",
    "Line one\nLine two\r\nLine three\n\n\tIndented line with tabs\tand  double  spaces.",
    "subtract subtraction multiply multiplication addition adding added answer answers",
] * 3


def train_tiny(kind, merges_as_strings, with_bos, vocab_size=600):
    tok = Tokenizer(models.BPE(ignore_merges=(kind == "llama3")))
    tok.pre_tokenizer = pre_tokenizer_for(kind)
    tok.decoder = decoders.ByteLevel()
    if kind == "qwen2":
        # Qwen2's tokenizer.json puts text in NFC first.
        tok.normalizer = normalizers.NFC()
    if kind == "llama3":
        specials = ["<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>"]
    else:
        specials = list(SPECIALS)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, min_frequency=2, special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(TRAINING_TEXT, trainer)
    # A non-special added token: `tokenizers` finds these in text too.
    tok.add_tokens([AddedToken("[NOTE]", special=False, normalized=False)])
    if with_bos:
        bos = specials[0]
        tok.post_processor = processors.TemplateProcessing(
            single=f"{bos} $A", pair=f"{bos} $A {bos} $B", special_tokens=[(bos, tok.token_to_id(bos))])
    else:
        tok.post_processor = processors.ByteLevel(trim_offsets=False)
    data = json.loads(tok.to_str())
    if merges_as_strings:
        # The older on-disk form, which GGUF also uses: "a b".
        data["model"]["merges"] = [" ".join(pair) for pair in data["model"]["merges"]]
    return tok, data, specials


def tiny_references(corpus):
    out = {"source": "tokenizers " + tokenizers.__version__, "tokenizers": {}}
    for name, kind, strings, bos in (("tiny_llama3", "llama3", False, True),
                                     ("tiny_smollm", "smollm", True, False),
                                     ("tiny_gpt2", "gpt2", False, False),
                                     ("tiny_qwen2", "qwen2", False, False)):
        tok, data, specials = train_tiny(kind, strings, bos)
        folder = os.path.join(FIXTURES, name)
        os.makedirs(folder, exist_ok=True)
        write_json(os.path.join(folder, "tokenizer.json"), data)
        if kind == "llama3":
            write_json(os.path.join(folder, "tokenizer_config.json"),
                       {"bos_token": specials[0], "eos_token": {"content": specials[1]}})
        # Load back what was written, so the ids come from the file the Swift test reads.
        loaded = Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
        cases = []
        texts = corpus + ["[NOTE] a note[NOTE]", specials[0] + "hi" + specials[1]]
        for text in texts:
            ids = loaded.encode(text, add_special_tokens=True).ids
            decoded = loaded.decode(ids, skip_special_tokens=False)
            cases.append({"text": text, "ids": ids, "decoded": decoded})
        out["tokenizers"][name] = {
            "kind": kind, "vocabulary_size": loaded.get_vocab_size(with_added_tokens=True),
            "bos_token_id": loaded.token_to_id(specials[0]) if bos else None,
            "eos_token_id": loaded.token_to_id(specials[1]) if kind == "llama3" else None,
            "cases": cases,
        }
    return out


# --- Unicode classes as Oniguruma sees them -------------------------------------------------

def unicode_classes():
    scalars = [c for c in range(0x110000) if not (0xD800 <= c < 0xE000)]
    text = "".join(chr(c) for c in scalars)

    def matched_by(pattern):
        split = pre_tokenizers.Split(Regex(pattern), behavior="removed", invert=False)
        kept = bytearray(len(scalars))
        for _, (start, end) in split.pre_tokenize_str(text):
            kept[start:end] = b"\x01" * (end - start)
        return [scalars[i] for i in range(len(scalars)) if not kept[i]]

    def digit_split():
        # Each scalar between two 'a's: those the Digits pre-tokenizer isolates come out alone.
        separated = "a".join(chr(c) for c in scalars)
        found = []
        for piece, _ in pre_tokenizers.Digits(individual_digits=True).pre_tokenize_str(separated):
            if len(piece) == 1 and piece != "a":
                found.append(ord(piece))
        return sorted(found)

    def ranges(values):
        out = []
        for v in values:
            if out and out[-1][1] + 1 == v:
                out[-1][1] = v
            else:
                out.append([v, v])
        return out

    return {
        "source": "tokenizers " + tokenizers.__version__ + " (Oniguruma regex classes; Digits pre-tokenizer)",
        "whitespace": ranges(matched_by(r"\s")),
        "letter": ranges(matched_by(r"\p{L}")),
        "number": ranges(matched_by(r"\p{N}")),
        "digit_split": ranges(digit_split()),
    }


def check_qwen2_pattern():
    # The pattern must be the one transformers' Qwen2 tokenizer writes into tokenizer.json.
    try:
        from transformers.models.qwen2.tokenization_qwen2 import PRETOKENIZE_REGEX
    except Exception as error:
        print(f"cannot check the Qwen2 pattern against transformers: {error}"[:200])
        return
    assert PRETOKENIZE_REGEX == QWEN2_PATTERN, PRETOKENIZE_REGEX


def main():
    check_qwen2_pattern()
    model_path = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("LAZARUS_DEFAULT_MODEL", DEFAULT_MODEL)
    os.makedirs(FIXTURES, exist_ok=True)
    corpus = hand_written_corpus() + random_corpus(120)
    assert len(set(corpus)) >= 150, len(set(corpus))
    write_json(os.path.join(FIXTURES, "smollm2_reference.json"), smollm2_reference(model_path, corpus, number_corpus()))
    write_json(os.path.join(FIXTURES, "tiny_reference.json"), tiny_references(corpus))
    write_json(os.path.join(FIXTURES, "unicode_classes.json"), unicode_classes())


if __name__ == "__main__":
    main()
