#!/usr/bin/env python3
"""Writes Tests/TokenizerTests/Fixtures/o200k_splits.json: how Hugging Face `tokenizers` (the regex engine
every tokenizer.json runs through) splits text by the o200k pattern of GPT-OSS's tokenizer.json
(tiktoken's o200k_base; llama.cpp's `tokenizer.ggml.pre = gpt-4o`), so the hand-written scanner of
Sources/Tokenizer/PreTokenizer.swift can be held to it match for match.

Dev-only (run with the dev venv: /opt/lazarus-dev-venv/bin/python tools/make_o200k_split_reference.py).
Texts: tokenizer_reference.py's hand-written, random and number corpora, plus strings aimed at what this
pattern adds (capitals splitting words, titlecase and modifier letters, combining marks before and after
letters, contractions on the word, slashes and line breaks after punctuation), and seeded random strings of
those characters. JSON: {"generator", "tokenizers_version", "pattern", "cases": [{"text", "pieces"}]}.
"""
import os
import random

import tokenizers
from tokenizers import Regex, pre_tokenizers

from reference_model import ROOT, write_json
from tokenizer_reference import hand_written_corpus, number_corpus, random_corpus

OUT = os.path.join(ROOT, "Tests", "TokenizerTests", "Fixtures", "o200k_splits.json")
PATTERN = ("[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|"
           "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|"
           "\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+")

AIMED = [
    "HelloWorld", "camelCaseWord", "PascalCase", "HTTPServer", "getHTTPResponseCode", "iPhone", "McDonald's",
    "DON'T", "don't", "I'm", "it'S", "WE'LL", "They'Re", "'s", "x'sy", "ABC'def", "ǅemal ǈ ǋ", "ǅǅ", "aǅb",
    "ʰʲ modifier ʰa Aʰ", "ーカタカナー", "e\u0301", "\u0301e", "\u0301", " \u0301", "A\u0301B", "a\u0301\u0302b",
    "Ä\u0308ö", "\u0903\u0915", "\u20dd", "x\u20ddy", "1\u0301", ".\u0301a", "/\u0301", "a/b/c", "a/\n/b", "!!/\n\nx",
    "path/to/dir/", "http://x.y/z//", "x\r\n/", "--/\r\n", " /", "  /", "\t/", "ΑΒΓ αβγ ΆΈ", "ÀÉÎ àéî",
    "İstanbul ı", "ﬀ ﬁ ﬂ", "Ⓐⓑ", "ℌℑ", "ǲ", "ᾈᾉ", "ᏸᏹ", "𐐀𐐨", "Ꭰꭰ", "Ⅻⅻ", "ꟸꟹ", "a1b2", "ABC123def",
    "123abc", "1234567", "a 1234", "٣٤٥٦", "x\u00a0Y", "\u3000A", "Hello\u2028World", "\u0085X",
]


def random_aimed(count):
    rng = random.Random(4242)
    pool = list("aZ9 '/\n\r\t.-") + ["\u0301", "ǅ", "ʰ", "ー", "日", "Ä", "ı", "ß", "'S", "'ll", "\u00a0", "😀", "\u20dd", "Ⅻ"]
    return ["".join(rng.choice(pool) for _ in range(rng.randint(1, 12))) for _ in range(count)]


def main():
    split = pre_tokenizers.Split(Regex(PATTERN), behavior="isolated", invert=False)
    texts = hand_written_corpus() + random_corpus(400) + number_corpus()[:200] + AIMED + random_aimed(600)
    seen, cases = set(), []
    for text in texts:
        if text in seen:
            continue
        seen.add(text)
        pieces = [p for p, _ in split.pre_tokenize_str(text)]
        assert "".join(pieces) == text, text
        cases.append({"text": text, "pieces": pieces})
    write_json(OUT, {"generator": "tools/make_o200k_split_reference.py", "tokenizers_version": tokenizers.__version__,
                     "pattern": PATTERN, "cases": cases})
    print(f"{len(cases)} texts")


if __name__ == "__main__":
    main()
