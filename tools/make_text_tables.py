"""Tables the CLIP tokenizer's text clean-up needs, from Python's standard library, written beside its code in
src/Longshot.Diffusion/Text/ (the program runs with .NET's invariant globalization, which does not normalise
Unicode, so Longshot carries its own data):

- html5-entities.json: the HTML5 named character references (WHATWG's list, as html.entities.html5 holds it; names
  keep their ';', and the legacy names that may appear without one are listed without it too);
- unicode-nfc.json: what Unicode normalization form C needs (canonical combining classes, canonical decompositions,
  the pairs that compose, Hangul aside, which is algorithmic) and ftfy's width map (NFKC of U+FF01-U+FFEF), from
  unicodedata at its Unicode version.

    python3 tools/make_text_tables.py
"""
import html.entities
import json
import os
import sys
import unicodedata

DIR = os.path.join(os.path.dirname(__file__), "..", "src", "Longshot.Diffusion", "Text")


def write(name, data):
    with open(os.path.join(DIR, name), "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=True, separators=(",", ":"))
        f.write("\n")


def nfc_tables():
    ccc, decompositions, compositions = {}, {}, []
    for cp in range(sys.maxunicode + 1):
        if 0xD800 <= cp <= 0xDFFF or 0xAC00 <= cp <= 0xD7A3:
            continue
        c = chr(cp)
        if unicodedata.combining(c):
            ccc[cp] = unicodedata.combining(c)
        d = unicodedata.decomposition(c)
        if not d or d.startswith("<"):
            continue
        parts = [int(x, 16) for x in d.split()]
        decompositions[cp] = parts
        # A primary composite: its two-character decomposition composes back to it.
        if len(parts) == 2 and unicodedata.normalize("NFC", chr(parts[0]) + chr(parts[1])) == c:
            compositions.append([parts[0], parts[1], cp])
    width = {cp: unicodedata.normalize("NFKC", chr(cp)) for cp in range(0xFF01, 0xFFF0)
             if unicodedata.normalize("NFKC", chr(cp)) != chr(cp)}
    return {"unicode": unicodedata.unidata_version, "ccc": ccc, "decompositions": decompositions,
            "compositions": compositions, "width": width}


write("html5-entities.json", dict(sorted(html.entities.html5.items())))
write("unicode-nfc.json", nfc_tables())
print(len(html.entities.html5), "HTML names; Unicode", unicodedata.unidata_version)
