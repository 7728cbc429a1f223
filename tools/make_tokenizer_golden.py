"""Golden fixtures for the CLIP tokenizer (issue: text-to-video from published files).

Writes, under tests/Longshot.Diffusion.Tests/Golden/t2v/:
- tokenizer/: OpenAI CLIP's byte-level BPE in Hugging Face's CLIPTokenizer layout (vocab.json, merges.txt,
  tokenizer_config.json, special_tokens_map.json), as the text-to-video folders carry it, made from the vocabulary
  OpenAI ships with its tokenizer (bpe_simple_vocab_16e6.txt.gz, MIT);
- tokenizer_cases.json: strings of every kind (ASCII, punctuation, contractions, accents, Greek and Cyrillic, emoji,
  CJK, fullwidth forms, ligatures, curly quotes, HTML entities, control characters, odd whitespace, over-long) with
  the ids OpenAI's simple_tokenizer.SimpleTokenizer.encode gives them (no start or end token, not truncated), and
  whether ftfy's mojibake repair changed the string (Longshot does not repair mojibake).

    source ../shared/reference/env.sh && $REF_PY tools/make_tokenizer_golden.py
"""
import gzip
import json
import os
import random
import sys

REF = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "reference", "py")
sys.path.insert(0, os.path.abspath(REF))
from clip.simple_tokenizer import SimpleTokenizer, bytes_to_unicode, default_bpe  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..", "tests", "Longshot.Diffusion.Tests", "Golden", "t2v")

WORDS = ("a the of wide shot close up beach forest town night noon dusk astronaut riding horse on mars cat dog "
         "playing piano in space high quality 4k cinematic slow motion drone footage ocean waves crashing rocks "
         "sunset golden hour portrait of young woman smiling city street rain neon lights panda eating bamboo "
         "teddy bear skateboarding times square fireworks over river").split()
PUNCT = list("!?.,;:-_()[]{}<>/\\|@#$%^&*+=~`\"'") + ["...", "?!", "--", "!!!", "'s", "'t", "'re", "'ve", "'m",
                                                    "'ll", "'d"]
CONTRACTIONS = ["don't", "I'M", "we've", "you'll", "it's", "they'd", "she'S", "WON'T", "y'all", "'twas",
                "don\u2019t", "it\u2019s", "rock \u2018n\u2019 roll", "\u201cquoted\u201d", "\u201equote\u201f"]
ACCENTS = ["caf\u00e9", "na\u00efve", "\u00c5ngstr\u00f6m", "S\u00e3o Paulo", "stra\u00dfe", "Stra\u00dfe",
           "e\u0301clair", "fran\u00e7ais", "\u00c9COLE", "\u0130stanbul", "\u0131\u015f\u0131k", "\u00d8resund",
           "\u0141\u00f3d\u017a", "se\u00f1or", "Pok\u00e9mon", "\u1e9e", "\u01c5ungla"]
SCRIPTS = ["\u0395\u03bb\u03bb\u03b7\u03bd\u03b9\u03ba\u03ac", "\u039f\u0394\u039f\u03a3",
           "\u039f\u0394\u039f\u03a3 \u03a3\u039f\u03a6\u039f\u03a3", "\u03a3", "A\u03a3", "\u03a3A",
           "A\u03a3.", "A\u03a3'B", "\u0420\u0443\u0441\u0441\u043a\u0438\u0439 \u044f\u0437\u044b\u043a",
           "\u05e2\u05d1\u05e8\u05d9\u05ea", "\u0627\u0644\u0639\u0631\u0628\u064a\u0629",
           "\u0939\u093f\u0928\u094d\u0926\u0940", "\u0e44\u0e17\u0e22", "\U00010400\U00010401 deseret",
           "\U0001d4a5ohn", "\U0001d7cf\U0001d7d0\U0001d7d1", "\u2167 roman", "\u00bd \u00b2 \u2460"]
EMOJI = ["\U0001f389", "\U0001f44d\U0001f3fd", "\U0001f468\u200d\U0001f469\u200d\U0001f467", "\u2764\ufe0f",
         "\U0001f1eb\U0001f1f7", "\U0001f600\U0001f601\U0001f602", "\u2728", "\U0001f3f4\U000e0067\U000e0062"
         "\U000e0077\U000e006c\U000e0073\U000e007f", "\u263a", "\U0001f9d1\u200d\U0001f680"]
CJK = ["\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8", "\u4e2d\u6587\u5b57\u7b26", "\ud55c\uad6d\uc5b4",
       "\uff2c\uff2f\uff35\uff24\u3000\uff2e\uff2f\uff29\uff33\uff25\uff33", "\uff0c\u3002\uff01\uff1f",
       "\uff73\uff80\uff70\uff9d", "\U00020000\U00020001", "\u732b\u304c\u30d4\u30a2\u30ce\u3092\u5f3e\u304f",
       "\uff11\uff12\uff13", "\u30ab\u30bf\u30ab\u30ca"]
LIGATURES = ["\ufb01ne", "\ufb02ower", "of\ufb03ce", "\u0133s", "\u01c6ungla", "\ufb06op"]
ENTITIES = ["&amp;", "&lt;b&gt;", "&amp;amp;", "&quot;hi&quot;", "&#39;", "&#x27;", "&nbsp;", "&copy",
            "&notit;", "&eacute;", "&EACUTE;", "&Jscr;", "&#128512;", "&#x1F600;", "&#0;", "&#x110000;",
            "&#150;", "&amp", "&ampx", "a &lt; b", "<b>&amp;</b>", "&hellip;", "&NotARealEntity;", "&#65",
            "&#xD800;", "&SZLIG;"]
CONTROLS = ["\x00", "\x07", "\x0b", "\x1b[31mred\x1b[0m", "\x7f", "\u200e", "\u200b", "\ufeff", "\u206a",
            "\ufff9", "\x85", "\x96", "\x80", "\x9d", "\u00ad", "\r\n", "\r", "\u2028", "\u2029"]
SPACES = [" ", "  ", "\t", "\n", "\u00a0", "\u3000", "\u2003", "\u202f", "\u1680", "\x0c", "\x1c"]
NUMBERS = ["1234567", "3.14", "1,000", "2024", "4k", "1080p", "60fps", "x2", "\u0661\u0662\u0663"]


def pieces():
    return [WORDS, PUNCT, CONTRACTIONS, ACCENTS, SCRIPTS, EMOJI, CJK, LIGATURES, ENTITIES, CONTROLS, NUMBERS]


def random_string(r):
    kind = r.random()
    if kind < 0.05:  # over-long: past 77 tokens
        return " ".join(r.choice(WORDS) for _ in range(r.randint(60, 140)))
    parts = []
    for _ in range(r.randint(1, 12)):
        group = r.choice(pieces()) if r.random() < 0.6 else WORDS
        p = r.choice(group)
        if r.random() < 0.2:
            p = p.upper()
        elif r.random() < 0.2:
            p = p.capitalize()
        parts.append(p)
        parts.append(r.choice(SPACES) if r.random() < 0.25 else ("" if r.random() < 0.2 else " "))
    return "".join(parts)


def random_codepoints(r):
    blocks = [(0x20, 0x7e), (0xa0, 0x24f), (0x370, 0x3ff), (0x400, 0x4ff), (0x3040, 0x30ff), (0x4e00, 0x4fff),
              (0xac00, 0xad00), (0x2000, 0x206f), (0x1f300, 0x1f64f), (0xff00, 0xffef), (0x1d400, 0x1d7ff)]
    out = []
    for _ in range(r.randint(1, 20)):
        lo, hi = r.choice(blocks)
        c = r.randint(lo, hi)
        if 0xd800 <= c <= 0xdfff:
            continue
        out.append(chr(c))
    return "".join(out)


def cases():
    fixed = [""] + ["   ", "a", "A", "a photo of a cat", "An astronaut riding a horse on Mars, 4k, high quality",
                    "<|startoftext|>hello<|endoftext|>", "<|STARTOFTEXT|>", "x<|endoftext|>y", "'s'''t",
                    "hello!!!world", "he said: \"no\"", "tab\tseparated\tvalues", "line\nbreaks\nhere"]
    for group in pieces() + [SPACES]:
        fixed.extend(group)
    r = random.Random(1234)
    while len(fixed) < 1200:
        fixed.append(random_string(r))
    while len(fixed) < 1500:
        fixed.append(random_codepoints(r))
    return fixed


def write_tokenizer_folder(folder, merges_limit=49152 - 256 - 2):
    os.makedirs(folder, exist_ok=True)
    merges = gzip.open(default_bpe()).read().decode("utf-8").split("\n")[1:merges_limit + 1]
    vocab = list(bytes_to_unicode().values())
    vocab = vocab + [v + "</w>" for v in vocab] + ["".join(m.split()) for m in merges]
    vocab += ["<|startoftext|>", "<|endoftext|>"]
    with open(os.path.join(folder, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump({v: i for i, v in enumerate(vocab)}, f, ensure_ascii=False)
    with open(os.path.join(folder, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n" + "\n".join(merges) + "\n")
    # As in the OpenCLIP ViT-H/14 tokenizers of the text-to-video folders: "!" pads.
    special = {"bos_token": {"content": "<|startoftext|>", "lstrip": False, "normalized": True, "rstrip": False,
                             "single_word": False},
               "eos_token": {"content": "<|endoftext|>", "lstrip": False, "normalized": True, "rstrip": False,
                             "single_word": False},
               "pad_token": "!",
               "unk_token": {"content": "<|endoftext|>", "lstrip": False, "normalized": True, "rstrip": False,
                             "single_word": False}}
    with open(os.path.join(folder, "special_tokens_map.json"), "w") as f:
        json.dump(special, f, indent=2)
    config = {"add_prefix_space": False, "do_lower_case": True, "errors": "replace", "model_max_length": 77,
              "tokenizer_class": "CLIPTokenizer", **special}
    with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
        json.dump(config, f, indent=2)


def main():
    write_tokenizer_folder(os.path.join(ROOT, "tokenizer"))
    tok = SimpleTokenizer()
    import ftfy
    # Longshot does not repair mojibake (ftfy's fix_encoding, a heuristic); the strings where it changes the text
    # are marked so that the test can tell them apart.
    out = [{"text": t, "ids": tok.encode(t), "mojibake": ftfy.fix_text(t) != ftfy.fix_text(t, fix_encoding=False)}
           for t in cases()]
    with open(os.path.join(ROOT, "tokenizer_cases.json"), "w", encoding="utf-8") as f:
        f.write("[\n" + ",\n".join(json.dumps(c, ensure_ascii=True) for c in out) + "\n]\n")
    print(len(out), "cases;", sum(len(c["ids"]) > 75 for c in out), "past 75 tokens;",
          sum(c["mojibake"] for c in out), "repaired as mojibake by ftfy")


if __name__ == "__main__":
    main()
