"""PPO's objectives in PyTorch, for bench/ppo-agreement.ts: the clipped surrogate of a policy and the
clipped value loss of a critic, on fixed experience, with gradients by autograd (fp32).

    python3 scripts/ppo-reference.py POLICY_DIR CRITIC_DIR EXPERIENCE.json OUT.json

POLICY_DIR holds a Qwen2ForCausalLM and CRITIC_DIR a Qwen2ForSequenceClassification (loom checkpoints);
the experience has, per rollout, its token ids, prompt length, old log-probs, old values, advantages
and returns of each response token. Written independently of loom's code, from the PPO papers'
formulas: L_pi = mean_t max(-A*r, -A*clip(r, 1-eps, 1+eps)), L_V = mean_t 0.5*max((V-R)^2, (Vclip-R)^2).
"""
import json
import sys

import torch
from transformers import Qwen2ForCausalLM, Qwen2ForSequenceClassification

policy_dir, critic_dir, exp_file, out_file = sys.argv[1:5]
exp = json.load(open(exp_file))
torch.manual_seed(0)


def padded(rollouts, pad):
    longest = max(len(r["ids"]) for r in rollouts)
    ids = torch.full((len(rollouts), longest), pad, dtype=torch.long)
    for i, r in enumerate(rollouts):
        ids[i, : len(r["ids"])] = torch.tensor(r["ids"])
    return ids


def response_positions(r):
    # the position that predicts response token j is prompt_len + j - 1
    return list(range(r["prompt_len"] - 1, len(r["ids"]) - 1))


rollouts = exp["rollouts"]
ids = padded(rollouts, exp["pad"])
scale = exp["grad_scale"]
result = {}

policy = Qwen2ForCausalLM.from_pretrained(policy_dir, torch_dtype=torch.float32, attn_implementation="eager")
policy.train(False)
logp_all = torch.log_softmax(policy(input_ids=ids).logits.float(), dim=-1)
loss, clipped = torch.zeros(()), 0
for i, r in enumerate(rollouts):
    pos = response_positions(r)
    targets = torch.tensor(r["ids"][r["prompt_len"]:])
    logp = logp_all[i, pos].gather(-1, targets[:, None])[:, 0]
    old = torch.tensor(r["old_logprobs"])
    adv = torch.tensor(r["advantages"], dtype=torch.float32)
    ratio = torch.exp(logp - old)
    unclipped = -adv * ratio
    clipped_loss = -adv * torch.clamp(ratio, 1 - exp["clip"], 1 + exp["clip"])
    clipped += int((clipped_loss > unclipped).sum())
    loss = loss + torch.maximum(unclipped, clipped_loss).sum() * scale
loss.backward()
result["policy"] = {"loss": loss.item(), "clipped": clipped, "grads": {n: p.grad.flatten().tolist() for n, p in policy.named_parameters()}}

critic = Qwen2ForSequenceClassification.from_pretrained(critic_dir, torch_dtype=torch.float32, attn_implementation="eager")
critic.train(False)
hidden = critic.model(input_ids=ids).last_hidden_state
values_all = critic.score(hidden)[..., 0]
loss, clipped = torch.zeros(()), 0
for i, r in enumerate(rollouts):
    v = values_all[i, response_positions(r)]
    old = torch.tensor(r["old_values"])
    ret = torch.tensor(r["returns"], dtype=torch.float32)
    v_clip = old + torch.clamp(v - old, -exp["value_clip"], exp["value_clip"])
    a, b = (v - ret) ** 2, (v_clip - ret) ** 2
    clipped += int((b > a).sum())
    loss = loss + 0.5 * torch.maximum(a, b).sum() * scale
loss.backward()
result["critic"] = {"loss": loss.item(), "clipped": clipped, "grads": {n: p.grad.flatten().tolist() for n, p in critic.named_parameters()}}
json.dump(result, open(out_file, "w"))
