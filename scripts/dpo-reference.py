#!/usr/bin/env python3
"""PyTorch's side of the DPO agreement check (bench/dpo-agreement.ts is loom's; run both on the GPU
machine, where PyTorch is; not in the tests).

  python3 scripts/dpo-reference.py POLICY REF PAIRS.jsonl [--beta 0.1] [--device cuda|cpu] > torch.json

POLICY and REF are Qwen2ForCausalLM checkpoints (loom's, or any); PAIRS.jsonl holds fixed pairs of
token ids, one a line: {"chosen": [ids], "rejected": [ids], "prompt_len": n}, as
`bench/dpo-agreement.ts pairs` writes them. In fp32 (eager attention, eval mode: no dropout), the
objective loom's dpo trains:

  L = mean over pairs of -log sigmoid(beta * ((lp(c) - lp_ref(c)) - (lp(r) - lp_ref(r))))

with lp a response's summed token log-probabilities: positions prompt_len-1 .. len-2 predicting
tokens prompt_len .. len-1. Prints one JSON line: the loss, each pair's four log-probabilities, the
global gradient norm of dL/dtheta, and for a few named parameters their gradient norm and the
gradient at fixed indices (0, n/7, 2n/7, ..., n-1), which bench/dpo-agreement.ts reads back.
"""
import argparse
import json

import torch
import torch.nn.functional as F


def load(ckpt, device):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(ckpt, dtype=torch.float32, attn_implementation="eager")
    return model.to(device).eval()


def response_logprob(model, ids, prompt_len, device):
    """Summed log p of the response tokens, one sequence a pass (no padding)."""
    x = torch.tensor([ids], device=device)
    logits = model(input_ids=x).logits[0].float()
    logp = F.log_softmax(logits[prompt_len - 1 : len(ids) - 1], dim=-1)
    targets = x[0, prompt_len:]
    return logp.gather(1, targets[:, None]).sum()


def probe_indices(n):
    return sorted({0, n - 1, *[(i * n) // 7 for i in range(1, 7)]})


def probed_names(model):
    layers = model.config.num_hidden_layers
    names = ["model.embed_tokens.weight", "model.layers.0.self_attn.q_proj.weight", "model.layers.0.self_attn.q_proj.bias",
             f"model.layers.{layers - 1}.mlp.down_proj.weight", "model.norm.weight", "lm_head.weight"]
    params = dict(model.named_parameters())
    # a tied head is the embedding: named_parameters lists it once
    return [n for n in names if n in params]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("policy")
    p.add_argument("ref")
    p.add_argument("pairs")
    p.add_argument("--beta", type=float, default=0.1)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    a = p.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    pairs = [json.loads(line) for line in open(a.pairs) if line.strip()]

    ref = load(a.ref, a.device)
    with torch.no_grad():
        ref_lp = [(response_logprob(ref, q["chosen"], q["prompt_len"], a.device).item(),
                   response_logprob(ref, q["rejected"], q["prompt_len"], a.device).item()) for q in pairs]
    del ref

    policy = load(a.policy, a.device)
    policy.zero_grad()
    loss_total = 0.0
    rows = []
    for q, (rc, rr) in zip(pairs, ref_lp):
        lc = response_logprob(policy, q["chosen"], q["prompt_len"], a.device)
        lr = response_logprob(policy, q["rejected"], q["prompt_len"], a.device)
        loss = -F.logsigmoid(a.beta * ((lc - rc) - (lr - rr))) / len(pairs)
        loss.backward()
        loss_total += loss.item()
        rows.append({"policy_chosen": lc.item(), "policy_rejected": lr.item(), "ref_chosen": rc, "ref_rejected": rr})

    params = dict(policy.named_parameters())
    grad_norm = torch.sqrt(sum((t.grad.double() ** 2).sum() for t in params.values() if t.grad is not None)).item()
    grads = {}
    for name in probed_names(policy):
        g = params[name].grad.detach().flatten().double().cpu()
        grads[name] = {"norm": g.norm().item(), "entries": {str(i): g[i].item() for i in probe_indices(g.numel())}}
    print(json.dumps({"side": "pytorch", "device": a.device, "beta": a.beta, "pairs": len(pairs), "loss": loss_total,
                      "grad_norm": grad_norm, "logprobs": rows, "grads": grads}), flush=True)


if __name__ == "__main__":
    main()
