#!/usr/bin/env python3
"""transformers' side of loom's Hugging Face Qwen2 checks (run on the GPU machine; not in the tests).

  build OUT [--tokenizer DIR] [--seed 0] [--init-std 0.02]
      a random Qwen2ForCausalLM of Qwen2-0.5B's shape (hidden 896, 24 layers, 14 query and 2 KV
      heads, FFN 4864, vocabulary 151,936, tied embeddings, rope_theta 1e6) in fp32, saved with
      save_pretrained in 500 MB shards (so loom reads model.safetensors.index.json), with
      generation_config.json stopping at <|im_end|> and <|endoftext|>; --tokenizer copies a
      tokenizer exported by loom (`loom tokenize export -o DIR`) beside it
  logits CKPT PROMPTS.json OUT.json
      fp32 logits for each prompt (PROMPTS.json: a list of token-id lists): the first and last
      positions' full rows, each position's argmax and largest |logit|
  greedy CKPT PROMPTS.json N OUT.json [--stop-at-eos]
      generate(do_sample=False) continuations of N tokens, one prompt at a time (no padding);
      without --stop-at-eos every continuation runs the full N tokens

CKPT is any Qwen2ForCausalLM directory: one built here, or a checkpoint loom wrote.
"""
import argparse
import inspect
import json
import shutil
import sys
from pathlib import Path

import torch

ENDOFTEXT, IM_END = 151643, 151645
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json")


def device():
    return "cuda" if torch.cuda.is_available() else "cpu"


def build(a):
    from transformers import Qwen2Config, Qwen2ForCausalLM

    shape = dict(vocab_size=151936, hidden_size=896, intermediate_size=4864, num_hidden_layers=24, num_attention_heads=14,
                 num_key_value_heads=2, max_position_embeddings=32768, rms_norm_eps=1e-6, tie_word_embeddings=True,
                 use_sliding_window=False, initializer_range=a.init_std, bos_token_id=ENDOFTEXT, eos_token_id=ENDOFTEXT)
    # transformers 5 takes rope_parameters; 4.x took rope_theta
    if "rope_parameters" in inspect.signature(Qwen2Config.__init__).parameters:
        shape["rope_parameters"] = {"rope_type": "default", "rope_theta": 1e6}
    else:
        shape["rope_theta"] = 1e6
    torch.manual_seed(a.seed)
    model = Qwen2ForCausalLM(Qwen2Config(**shape)).to(torch.float32)
    model.generation_config.eos_token_id = [IM_END, ENDOFTEXT]
    model.generation_config.pad_token_id = ENDOFTEXT
    out = Path(a.out)
    model.save_pretrained(out, max_shard_size="500MB")
    if a.tokenizer:
        for name in TOKENIZER_FILES:
            shutil.copy(Path(a.tokenizer) / name, out / name)
    params = sum(p.numel() for p in model.parameters())
    print(json.dumps({"built": str(out), "parameters": params, "files": sorted(p.name for p in out.iterdir())}), flush=True)


def load(ckpt):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(ckpt, dtype=torch.float32, attn_implementation="eager")
    return model.to(device()).eval()


def read_prompts(path):
    prompts = json.loads(Path(path).read_text())
    if not (isinstance(prompts, list) and all(isinstance(p, list) and p and all(isinstance(t, int) for t in p) for p in prompts)):
        sys.exit(f"{path}: expected a list of non-empty token-id lists")
    return prompts


def logits(a):
    model = load(a.ckpt)
    rows = []
    with torch.no_grad():
        for ids in read_prompts(a.prompts):
            out = model(input_ids=torch.tensor([ids], device=device())).logits[0].float().cpu()
            rows.append({"ids": ids, "first": out[0].tolist(), "last": out[-1].tolist(),
                         "argmax": out.argmax(-1).tolist(), "max_abs": out.abs().amax(-1).tolist()})
    Path(a.out).write_text(json.dumps({"checkpoint": a.ckpt, "dtype": "float32", "prompts": rows}))
    print(json.dumps({"logits": a.out, "prompts": len(rows)}), flush=True)


def greedy(a):
    model = load(a.ckpt)
    if not a.stop_at_eos:
        model.generation_config.eos_token_id = None
    rows = []
    with torch.no_grad():
        for ids in read_prompts(a.prompts):
            x = torch.tensor([ids], device=device())
            out = model.generate(x, attention_mask=torch.ones_like(x), max_new_tokens=a.n, do_sample=False,
                                 pad_token_id=ENDOFTEXT)
            rows.append({"ids": ids, "continuation": out[0, len(ids):].tolist()})
    Path(a.out).write_text(json.dumps({"checkpoint": a.ckpt, "new_tokens": a.n, "stop_at_eos": a.stop_at_eos, "prompts": rows}))
    print(json.dumps({"greedy": a.out, "prompts": len(rows)}), flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build")
    b.add_argument("out")
    b.add_argument("--tokenizer", help="a directory with tokenizer.json and tokenizer_config.json to copy")
    b.add_argument("--seed", type=int, default=0)
    b.add_argument("--init-std", type=float, default=0.02)
    g = sub.add_parser("logits")
    g.add_argument("ckpt")
    g.add_argument("prompts")
    g.add_argument("out")
    d = sub.add_parser("greedy")
    d.add_argument("ckpt")
    d.add_argument("prompts")
    d.add_argument("n", type=int)
    d.add_argument("out")
    d.add_argument("--stop-at-eos", action="store_true", help="stop at generation_config.json's eos ids")
    a = p.parse_args()
    {"build": build, "logits": logits, "greedy": greedy}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
