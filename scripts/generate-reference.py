"""transformers' generation throughput for bench/generate.ts, on a random model of loom's shape.

  python3 scripts/generate-reference.py --preset-json '{"vocabSize":151936,...}' [--prompts 256]

Prints one JSON line: decode tokens/s at batch 1 (128 prompt + 256 new, greedy) in eager mode and
with a static cache (which generate compiles), at batch 32 with the static cache + compile, prefill tokens/s
at 2048, and mixed-length prompts (32-1024 tokens, 256 new each) through padded batched generate.
Decode rates take the time of 256 new tokens less the time of 1 (the prefill)."""
import argparse
import json
import random
import time

import torch
from transformers import Qwen2Config, Qwen2ForCausalLM


def build(c):
    cfg = Qwen2Config(vocab_size=c["vocabSize"], hidden_size=c["hiddenSize"], intermediate_size=c["intermediateSize"],
                      num_hidden_layers=c["layers"], num_attention_heads=c["heads"], num_key_value_heads=c["kvHeads"],
                      max_position_embeddings=4096, rope_theta=c["ropeTheta"], rms_norm_eps=c["rmsEps"],
                      tie_word_embeddings=False, torch_dtype="bfloat16")
    torch.manual_seed(0)
    return Qwen2ForCausalLM(cfg).to(device="cuda", dtype=torch.bfloat16).eval()


def timed(fn, repeat=2):
    fn()
    torch.cuda.synchronize()
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t0)
    return best


def decode_rate(model, batch, static):
    ids = torch.randint(0, 151000, (batch, 128), device="cuda")
    kw = dict(do_sample=False, pad_token_id=0, eos_token_id=None)
    if static:
        kw["cache_implementation"] = "static"

    def gen(n):
        return lambda: model.generate(ids, max_new_tokens=n, min_new_tokens=n, **kw)

    with torch.inference_mode():
        t_all, t_one = timed(gen(256)), timed(gen(1))
    return batch * 255 / (t_all - t_one)


def prefill_rate(model, T=2048):
    ids = torch.randint(0, 151000, (1, T), device="cuda")
    with torch.inference_mode():
        return T / timed(lambda: model(ids, logits_to_keep=1), repeat=5)


def mixed(model, count, batch=64):
    rng = random.Random(7)
    lengths = [32 + rng.randrange(993) for _ in range(count)]
    prompts = [torch.randint(1, 151000, (n,)) for n in lengths]
    t0 = time.perf_counter()
    fresh = 0
    with torch.inference_mode():
        for i in range(0, count, batch):
            part = prompts[i:i + batch]
            T = max(len(p) for p in part)
            ids = torch.zeros((len(part), T), dtype=torch.long)
            mask = torch.zeros((len(part), T), dtype=torch.long)
            for r, p in enumerate(part):  # left padding, as decoder-only generation needs
                ids[r, T - len(p):] = p
                mask[r, T - len(p):] = 1
            out = model.generate(ids.cuda(), attention_mask=mask.cuda(), max_new_tokens=256, min_new_tokens=256,
                                 do_sample=False, pad_token_id=0, eos_token_id=None)
            fresh += (out.shape[1] - T) * len(part)
    torch.cuda.synchronize()
    return fresh / (time.perf_counter() - t0)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset-json", required=True)
    p.add_argument("--prompts", type=int, default=256)
    a = p.parse_args()
    model = build(json.loads(a.preset_json))
    out = {"torch": torch.__version__, "decode_b1_eager": decode_rate(model, 1, False),
           "prefill_2048_tokens_per_s": prefill_rate(model), "mixed_prompts": a.prompts,
           "mixed_new_tokens_per_s": mixed(model, a.prompts)}
    # a static cache makes generate compile the decoding forward itself (CUDA graphs included);
    # wrapping forward in torch.compile by hand clashes with the cache's in-place updates
    out["decode_b1_compile"] = decode_rate(model, 1, True)
    out["decode_b32_compile"] = decode_rate(model, 32, True)
    print(json.dumps({k: round(v) if isinstance(v, float) else v for k, v in out.items()}))


if __name__ == "__main__":
    main()
