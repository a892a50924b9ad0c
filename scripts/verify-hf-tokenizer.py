#!/usr/bin/env python3
"""Checks a loom tokenizer export against loom's own ids (run where Python and transformers exist).

    loom tokenize export --out DIR --tiktoken --ids-for texts.jsonl    # where Node runs
    python3 scripts/verify-hf-tokenizer.py DIR                          # where transformers is

DIR holds tokenizer.json, tokenizer_config.json and loom-ids.json ([{"text", "ids"}] written by
loom). Loads DIR with transformers.AutoTokenizer and with tokenizers.Tokenizer, encodes every text
without special-token handling and compares with loom's ids; if DIR also holds vocab.tiktoken,
compares with the Python tiktoken package as well. Prints one JSON line; exit 1 on any mismatch.
"""
import base64
import json
import sys
import unicodedata
from pathlib import Path


def main(directory: str) -> int:
    root = Path(directory)
    cases = json.loads((root / "loom-ids.json").read_text(encoding="utf-8"))
    report = {"texts": len(cases), "tokens": sum(len(c["ids"]) for c in cases)}

    from transformers import AutoTokenizer
    import transformers
    import tokenizers

    report["transformers"] = transformers.__version__
    report["tokenizers_version"] = tokenizers.__version__
    auto = AutoTokenizer.from_pretrained(str(root))
    report["auto_class"] = type(auto).__name__
    raw = tokenizers.Tokenizer.from_file(str(root / "tokenizer.json"))

    engines = {
        "auto": lambda t: auto.encode(t, add_special_tokens=False),
        "tokenizers": lambda t: raw.encode(t, add_special_tokens=False).ids,
    }
    tiktoken_file = root / "vocab.tiktoken"
    if tiktoken_file.exists():
        import tiktoken

        ranks = {}
        for line in tiktoken_file.read_text().splitlines():
            if line:
                b64, rank = line.split()
                ranks[base64.b64decode(b64)] = int(rank)
        config = json.loads((root / "tokenizer.json").read_text(encoding="utf-8"))
        pattern = config["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"]
        specials = {t["content"]: t["id"] for t in config["added_tokens"]}
        enc = tiktoken.Encoding("loom", pat_str=pattern, mergeable_ranks=ranks, special_tokens=specials)
        engines["tiktoken"] = lambda t: enc.encode_ordinary(unicodedata.normalize("NFC", t))

    # Hugging Face always parses special-token text (an "added token") as the special token; loom
    # never does in ordinary text (no ChatML injection). Such texts are reported apart.
    specials = [t["content"] for t in json.loads((root / "tokenizer.json").read_text(encoding="utf-8"))["added_tokens"]]
    has_special = [any(s in c["text"] for s in specials) for c in cases]
    report["texts_with_special_token_text"] = sum(has_special)
    ok = True
    for name, encode in engines.items():
        mismatches = []
        for i, case in enumerate(cases):
            if has_special[i] and name != "tiktoken":
                continue
            ids = list(encode(case["text"]))
            if ids != case["ids"]:
                mismatches.append(i)
        report[name] = {"mismatched_texts": len(mismatches), "first": mismatches[:5]}
        ok = ok and not mismatches
    decoded = sum(auto.decode(c["ids"]) == unicodedata.normalize("NFC", c["text"]) for c in cases)
    report["auto_decode_exact"] = decoded
    chat = auto.apply_chat_template([{"role": "user", "content": "你好"}], tokenize=False, add_generation_prompt=True)
    report["chat_template"] = chat
    report["ok"] = ok
    print(json.dumps(report, ensure_ascii=False))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "."))
