#!/usr/bin/env python3
"""PyTorch reference for `loom pretrain` (run on the GPU machine; loom itself never imports this).

The model is transformers' Qwen2ForCausalLM built from a loom checkpoint's config.json, so the
same file checks both that loom's checkpoints load in transformers and that loom trains like
PyTorch. Subcommands print JSON lines on stdout:

  train   --init CKPT --batches FILE ...   train from loom's exported init on the exact batches
                                            loom trained on (int32 [steps, windows, T+1]; with
                                            --targets, inputs and masked targets [steps, windows, T]
                                            apart); one {"step", "loss", "grad_norm", "lr"} line per step
  bench   --config CKPT --batch 8 --seq 2048 --mode eager|compile
                                            tokens/s, MFU and peak memory of a training step (of a
                                            reward model, when config.json names
                                            Qwen2ForSequenceClassification: rows are pairs)
  logits  --ckpt CKPT --ids FILE --loom FILE  compare transformers' logits with loom's
  rewards --ckpt CKPT --seqs FILE --loom FILE  a loom reward checkpoint in transformers'
                                            Qwen2ForSequenceClassification (fp32) against loom's
                                            rewards for the same sequences (JSONL id lists)
"""
import argparse
import json
import math
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F


def load_model(ckpt, dtype=torch.float32, weights=True):
    from transformers import Qwen2Config, Qwen2ForCausalLM, Qwen2ForSequenceClassification

    config = Qwen2Config.from_pretrained(ckpt)
    # the architecture config.json names: a language model, or a reward model (score head)
    cls = Qwen2ForSequenceClassification if "Qwen2ForSequenceClassification" in (config.architectures or []) else Qwen2ForCausalLM
    if weights:
        model = cls.from_pretrained(ckpt, dtype=dtype, attn_implementation="sdpa")
    else:
        config._attn_implementation = "sdpa"
        model = cls(config).to(dtype)
    return model.cuda(), config


def loss_of(model, ids, targets):
    logits = model(input_ids=ids).logits
    # targets < 0 bear no loss (SFT's masked cross-entropy); the mean is over the rest
    return F.cross_entropy(logits.float().view(-1, logits.size(-1)), targets.reshape(-1), ignore_index=-1)


def optimizer_for(model, lr, weight_decay):
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.95), eps=1e-8, fused=True)


def schedule(step, peak, warmup, total, min_ratio):
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    low = peak * min_ratio
    return low + 0.5 * (peak - low) * (1 + math.cos(math.pi * progress))


def train(a):
    torch.manual_seed(0)
    model, _ = load_model(a.init)
    model.train()
    if a.targets:  # inputs and masked targets apart: [steps, windows, seq] each
        inputs = np.fromfile(a.batches, dtype=np.int32).reshape(a.steps, a.windows, a.seq)
        targets = np.fromfile(a.targets, dtype=np.int32).reshape(a.steps, a.windows, a.seq)
    else:  # windows of seq+1 tokens: inputs and the next-token targets
        windows = np.fromfile(a.batches, dtype=np.int32).reshape(a.steps, a.windows, a.seq + 1)
        inputs, targets = windows[:, :, :-1], windows[:, :, 1:]
    opt = optimizer_for(model, a.lr, a.weight_decay)
    micro = a.windows // a.accum
    for step in range(a.steps):
        lr = schedule(step, a.lr, a.warmup, a.steps, a.min_lr_ratio)
        for g in opt.param_groups:
            g["lr"] = lr
        opt.zero_grad(set_to_none=True)
        total = 0.0
        for m in range(a.accum):
            part = slice(m * micro, (m + 1) * micro)
            ids = torch.from_numpy(np.ascontiguousarray(inputs[step, part])).long().cuda()
            tg = torch.from_numpy(np.ascontiguousarray(targets[step, part])).long().cuda()
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=a.dtype == "bf16"):
                loss = loss_of(model, ids, tg) / a.accum
            loss.backward()
            total += loss.item()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        print(json.dumps({"step": step + 1, "loss": total, "grad_norm": norm.item(), "lr": lr}), flush=True)


def bench(a):
    torch.manual_seed(0)
    model, config = load_model(a.config, weights=False)
    model.train()
    opt = optimizer_for(model, 3e-4, 0.1)
    V = config.vocab_size
    ids = torch.randint(0, V, (a.batch, a.seq + 1), device="cuda")

    def forward_loss(x, y):
        with torch.autocast("cuda", dtype=torch.bfloat16):
            if not hasattr(model, "lm_head"):
                # a reward model: rows are (chosen, rejected) pairs, Bradley-Terry loss on their scores
                scores = model(input_ids=x).logits[:, 0].float()
                return -torch.nn.functional.logsigmoid(scores[0::2] - scores[1::2]).mean()
            return loss_of(model, x, y)

    # compile covers the loss too, so Inductor fuses the fp32 upcast into the cross-entropy
    # instead of materializing fp32 logits: the strongest plain-PyTorch baseline
    fwd_loss = torch.compile(forward_loss) if a.mode == "compile" else forward_loss

    def step():
        opt.zero_grad(set_to_none=True)
        loss = fwd_loss(ids[:, :-1], ids[:, 1:])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss

    for _ in range(a.warmup):
        step()
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    for _ in range(a.steps):
        loss = step()
    torch.cuda.synchronize()
    dt = (time.perf_counter() - t0) / a.steps
    tps = a.batch * a.seq / dt
    C, L, Fi = config.hidden_size, config.num_hidden_layers, config.intermediate_size
    kv = config.num_key_value_heads * (C // config.num_attention_heads)
    head = V * C if hasattr(model, "lm_head") else 0
    flops = 6 * (L * (2 * C * C + 2 * C * kv + 3 * C * Fi) + head) + 12 * L * a.seq * C
    print(json.dumps({
        "peer": f"pytorch-{a.mode}", "torch": torch.__version__, "device": torch.cuda.get_device_name(),
        "tokens_per_s": round(tps), "mfu": round(flops * tps / 989e12, 4), "ms_per_step": round(dt * 1e3, 2),
        "peak_mem_gb": round(torch.cuda.max_memory_allocated() / 2**30, 2), "loss": loss.item(),
    }), flush=True)


def logits(a):
    model, config = load_model(a.ckpt)
    model.eval()
    ids = np.fromfile(a.ids, dtype=np.int32)
    theirs = np.fromfile(a.loom, dtype=np.float32).reshape(len(ids) // a.seq * a.seq, config.vocab_size)
    with torch.no_grad():
        out = model(input_ids=torch.from_numpy(ids).long().cuda().view(-1, a.seq)).logits.float().view(-1, config.vocab_size).cpu().numpy()
    diff = np.abs(out - theirs)
    print(json.dumps({
        "check": "transformers-logits", "tokens": int(len(ids)), "max_abs_diff": float(diff.max()),
        "mean_abs_diff": float(diff.mean()), "logit_scale": float(np.abs(out).mean()),
        "argmax_agree": float((out.argmax(-1) == theirs.argmax(-1)).mean()),
    }), flush=True)


def rewards(a):
    from transformers import Qwen2ForSequenceClassification

    model = Qwen2ForSequenceClassification.from_pretrained(a.ckpt, dtype=torch.float32, attn_implementation="eager").eval()
    seqs = [json.loads(line) for line in open(a.seqs)]
    theirs = [float(x) for x in open(a.loom).read().split()]
    ours = []
    with torch.no_grad():
        for ids in seqs:  # one at a time: no padding, so the pooled token is the last one
            ours.append(float(model(input_ids=torch.tensor([ids])).logits[0, 0]))
    diff = np.abs(np.array(ours) - np.array(theirs))
    print(json.dumps({"check": "transformers-rewards", "sequences": len(seqs), "max_abs_diff": float(diff.max()),
                      "reward_scale": float(np.abs(np.array(ours)).mean()), "transformers": ours[:4], "loom": theirs[:4]}), flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train")
    t.add_argument("--init", required=True)
    t.add_argument("--batches", required=True)
    t.add_argument("--targets", help="masked targets apart from the inputs (SFT); then --batches holds [steps, windows, seq] inputs")
    t.add_argument("--steps", type=int, required=True)
    t.add_argument("--windows", type=int, required=True, help="windows per step")
    t.add_argument("--accum", type=int, default=1)
    t.add_argument("--seq", type=int, required=True)
    t.add_argument("--lr", type=float, required=True)
    t.add_argument("--warmup", type=int, required=True)
    t.add_argument("--min-lr-ratio", type=float, default=0.1)
    t.add_argument("--weight-decay", type=float, default=0.1)
    t.add_argument("--dtype", choices=["bf16", "f32"], default="bf16")
    b = sub.add_parser("bench")
    b.add_argument("--config", required=True, help="a checkpoint directory (only config.json is read; a Qwen2ForSequenceClassification one times a reward-model step)")
    b.add_argument("--batch", type=int, default=8)
    b.add_argument("--seq", type=int, default=2048)
    b.add_argument("--mode", choices=["eager", "compile"], default="eager")
    b.add_argument("--steps", type=int, default=5)
    b.add_argument("--warmup", type=int, default=2)
    g = sub.add_parser("logits")
    g.add_argument("--ckpt", required=True)
    g.add_argument("--ids", required=True)
    g.add_argument("--loom", required=True)
    g.add_argument("--seq", type=int, required=True)
    r = sub.add_parser("rewards")
    r.add_argument("--ckpt", required=True)
    r.add_argument("--seqs", required=True)
    r.add_argument("--loom", required=True)
    a = p.parse_args()
    {"train": train, "bench": bench, "logits": logits, "rewards": rewards}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
