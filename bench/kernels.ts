// Kernel benchmarks against the natural peer on the same machine, in the same run:
// numpy (OpenBLAS) on CPU, PyTorch on CUDA. One JSON line per op and shape:
//   {"op","shape","device","ms","tflops"|"gbps","peer","peer_ms","ratio"}  (ratio = peer_ms / ms; attention
//   lines add peer_flash2_ms, PyTorch's FlashAttention-2 backend, as SDPA itself runs cuDNN on Hopper)
// Usage: node --import tsx bench/kernels.ts --device cpu|cuda [--quick] [--only REGEX]
//   --only keeps the cases whose id matches (ids: mm-*, attnf-*, attn-*, lmhead, adamw, ...)
import { spawnSync } from 'node:child_process';
import { lmHeadWorkspace, openBackend, type DType, type Tensor } from '../kernels/index.js';

const args = process.argv.slice(2);
const device = args[args.indexOf('--device') + 1] && args.includes('--device') ? args[args.indexOf('--device') + 1] : 'cpu';
const quick = args.includes('--quick');
const only = args.includes('--only') ? new RegExp(args[args.indexOf('--only') + 1] ?? '') : undefined;
const k = openBackend(device);
const onGpu = k.kind === 'cuda';

interface Case {
  id: string;
  op: string;
  shape: string;
  /** floating-point operations (tflops) or bytes moved (gbps) per call */
  flops?: number;
  bytes?: number;
  /** what the Python peer runs */
  peer: Record<string, unknown>;
  /** sets up loom's call; returns the function to time */
  setup: () => () => void;
  /** extra fields for the line (e.g. memory) */
  extra?: () => Record<string, unknown>;
}

function timeIt(fn: () => void, minMs = onGpu ? 300 : 1000): number {
  fn();
  k.synchronize();
  let iters = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < iters; i++) fn();
    k.synchronize();
    const ms = performance.now() - t0;
    if (ms >= minMs || iters >= 1000) return ms / iters;
    iters = Math.min(1000, Math.max(iters * 2, Math.ceil((iters * minMs) / Math.max(ms, 1e-3))));
  }
}

const dt: DType = onGpu ? 'bf16' : 'f32';
// Random operands: constant data draws less power and would flatter GPU matmul clocks.
const PATTERN = 1 << 22;
const hostRandom = Float32Array.from({ length: PATTERN }, () => Math.random() * 2 - 1);
const staging = k.alloc([PATTERN]);
k.upload(staging, hostRandom);
const filled = (shape: number[], dtype: DType = dt, scale = 0.02): Tensor => {
  const t = k.alloc(shape, dtype);
  if (dtype === 'i32') return t;
  const flat = t.view([t.numel]);
  for (let off = 0; off < t.numel; off += PATTERN) {
    const len = Math.min(PATTERN, t.numel - off);
    k.cast(flat.rows(off, off + len), staging.rows(0, len));
  }
  k.scale(t, scale);
  return t;
};
const freeAll: Tensor[] = [];
const keep = (...ts: Tensor[]) => (freeAll.push(...ts), ts);
function release(): void {
  for (const t of freeAll.splice(0)) k.free(t);
}

const cases: Case[] = [];

function matmul(name: string, M: number, N: number, K: number): void {
  cases.push({
    id: `mm-${name}-${M}-${N}-${K}`, op: 'matmul', shape: `${name} ${M}x${N}x${K}`, flops: 2 * M * N * K,
    peer: { op: 'matmul', M, N, K },
    setup: () => {
      const [x, w, y] = keep(filled([M, K]), filled([N, K]), filled([M, N]));
      return () => k.linear(y, x, w);
    },
  });
}

if (onGpu) {
  // the 318M benchmark model of DESIGN.md: d 768, FFN 2048, 8 x 2048 tokens
  const tok = 8 * 2048;
  matmul('qkv', tok, 2304, 768);
  matmul('o_proj', tok, 768, 768);
  matmul('gate_up', tok, 4096, 768);
  matmul('down', tok, 768, 2048);
  matmul('down_dx', tok, 2048, 768);
  matmul('square', 8192, 8192, 8192);
} else {
  matmul('square', 1024, 1024, 1024);
  matmul('square', 2048, 2048, 2048);
  matmul('qkv', 2048, 2304, 768);
  matmul('down', 2048, 768, 2048);
}

// attention (causal): forward alone, and forward + backward the way training uses it
for (const [B, H, T, D] of onGpu ? [[8, 12, 2048, 64], [4, 8, 2048, 128]] : [[1, 4, 512, 64]]) {
  cases.push({
    id: `attnf-${D}`, op: 'attention_fwd', shape: `B${B} H${H} T${T} D${D}`, flops: 4 * B * H * T * T * D * 0.5,
    peer: { op: 'attention', B, H, T, D, forward: true },
    setup: () => {
      const [q, kk, v, o] = keep(...[0, 1, 2, 3].map(() => filled([B, T, H, D], dt, 0.1)));
      const [lse] = keep(filled([B, H, T], 'f32'));
      return () => k.attention(o, lse, q, kk, v);
    },
  });
  const fl = 4 * B * H * T * T * D * 0.5 * 3.5; // causal half; fwd 2 GEMMs + bwd 5 GEMMs = 3.5x fwd
  cases.push({
    id: `attn-${D}`, op: 'attention_fwd_bwd', shape: `B${B} H${H} T${T} D${D}`, flops: fl,
    peer: { op: 'attention', B, H, T, D },
    setup: () => {
      const [q, kk, v, o, dO, dq, dk, dv] = keep(...[0, 1, 2, 3, 4, 5, 6, 7].map(() => filled([B, T, H, D], dt, 0.1)));
      const [lse, scratch] = keep(filled([B, H, T], 'f32'), filled([B * H * T], 'f32'));
      return () => {
        k.attention(o, lse, q, kk, v);
        k.attentionBackward(dq, dk, dv, dO, o, lse, q, kk, v, scratch);
      };
    },
  });
}

// fused LM head + cross-entropy, forward + backward, at the Qwen vocabulary
{
  const [N, C, V, chunk] = onGpu ? [8192, 768, 151936, 8192] : [512, 256, 151936, 4096];
  const wsFloats = lmHeadWorkspace(N, C, chunk, V);
  cases.push({
    id: 'lmhead', op: 'lmhead_ce_fwd_bwd', shape: `N${N} C${C} V${V}`, flops: 2 * N * C * V * 3, // logits, dh, dw: the GEMMs any implementation needs
    peer: { op: 'lmhead', N, C, V },
    setup: () => {
      const [h, w, dh] = keep(filled([N, C]), filled([V, C]), filled([N, C]));
      const [dw, losses, ws] = keep(filled([V, C], 'f32'), filled([N], 'f32'), filled([wsFloats], 'f32'));
      const targets = keep(k.alloc([N], 'i32'))[0];
      k.upload(targets, Int32Array.from({ length: N }, (_, i) => (i * 7919) % V));
      return () => k.lmHeadCE(losses, dh, dw, h, w, targets, { chunk, workspace: ws, gradScale: 1 / N });
    },
    extra: () => ({ workspace_mb: Math.round((wsFloats * 4) / 2 ** 20), full_logits_mb: Math.round((N * V * 4) / 2 ** 20) }),
  });
}

// AdamW over all parameters: fp32 master/grad/m/v (+ bf16 working copy on GPU)
{
  const n = onGpu ? 318_000_000 : 10_000_000;
  const bytes = n * (16 + 12 + (onGpu ? 2 : 0));
  cases.push({
    id: 'adamw', op: 'adamw', shape: `${n} params`, bytes,
    peer: { op: 'adamw', n },
    setup: () => {
      const [p, g, m, v] = keep(...[0, 1, 2, 3].map(() => filled([n], 'f32', 0.01)));
      const working = onGpu ? keep(k.alloc([n], 'bf16'))[0] : null;
      let step = 0;
      return () => k.adamw(p, g, m, v, { lr: 1e-4, weightDecay: 0.1, step: ++step, working });
    },
  });
}

// RMSNorm forward + backward at the model's activation size
{
  const [N, C] = onGpu ? [16384, 768] : [2048, 768];
  const esz = onGpu ? 2 : 4;
  cases.push({
    id: 'rmsnorm', op: 'rmsnorm_fwd_bwd', shape: `${N}x${C}`, bytes: N * C * esz * 5,
    peer: { op: 'rmsnorm', N, C },
    setup: () => {
      const [x, y, dy, dx] = keep(filled([N, C]), filled([N, C]), filled([N, C]), filled([N, C]));
      const [w] = keep(filled([C], dt, 1));
      const [rstd, dw] = keep(filled([N], 'f32'), filled([C], 'f32'));
      return () => {
        k.rmsnorm(y, rstd, x, w, 1e-6);
        k.rmsnormBackward(dx, dw, dy, x, w, rstd);
      };
    },
  });
}

// device copy bandwidth: the bound memory-bound ops are judged against
{
  const n = onGpu ? 1 << 30 : 1 << 26;
  cases.push({
    id: 'copy', op: 'copy', shape: `${n / 2 ** 20} MiB`, bytes: 2 * n,
    peer: { op: 'copy', n },
    setup: () => {
      const [a, b] = keep(k.alloc([n / 4]), k.alloc([n / 4]));
      return () => k.copy(b, a);
    },
  });
}

const PEER = String.raw`
import json, sys, time
cases = json.load(sys.stdin)
gpu = sys.argv[1] == 'cuda'
out = {}
if gpu:
    import torch
    import torch.nn.functional as F
    dev = 'cuda'
    name = 'pytorch ' + torch.__version__ + ' ' + torch.cuda.get_device_name(0)
    def sync(): torch.cuda.synchronize()
else:
    import numpy as np
    name = 'numpy ' + np.__version__
    def sync(): pass

def bench(fn, min_s):
    fn(); sync()
    iters = 1
    while True:
        t = time.perf_counter()
        for _ in range(iters): fn()
        sync()
        dt = time.perf_counter() - t
        if dt >= min_s or iters >= 1000: return dt / iters * 1e3
        iters = min(1000, max(iters * 2, int(iters * min_s / max(dt, 1e-6)) + 1))

for c in cases:
    p, extra = c['peer'], {}
    op = p['op']
    if gpu:
        bf = torch.bfloat16
        if op == 'matmul':
            x = torch.randn(p['M'], p['K'], device=dev, dtype=bf); w = torch.randn(p['N'], p['K'], device=dev, dtype=bf)
            fn = lambda: F.linear(x, w)
        elif op == 'attention':
            B, H, T, D = p['B'], p['H'], p['T'], p['D']
            q, k, v = [torch.randn(B, H, T, D, device=dev, dtype=bf, requires_grad=True) for _ in range(3)]
            g = torch.randn(B, H, T, D, device=dev, dtype=bf)
            if p.get('forward'):
                def fn():
                    with torch.no_grad(): F.scaled_dot_product_attention(q, k, v, is_causal=True)
            else:
                def fn():
                    o = F.scaled_dot_product_attention(q, k, v, is_causal=True)
                    o.backward(g)
        elif op == 'lmhead':
            N, C, V = p['N'], p['C'], p['V']
            h = torch.randn(N, C, device=dev, dtype=bf, requires_grad=True); w = (torch.randn(V, C, device=dev, dtype=bf) * 0.02).requires_grad_()
            t = torch.arange(N, device=dev) * 7919 % V
            def fn():
                loss = F.cross_entropy((h @ w.t()).float(), t)
                loss.backward()
            torch.cuda.reset_peak_memory_stats(); base = torch.cuda.memory_allocated(); fn(); sync()
            extra['peer_peak_extra_mb'] = round((torch.cuda.max_memory_allocated() - base) / 2**20)
        elif op == 'adamw':
            n = p['n']
            prm = torch.nn.Parameter(torch.randn(n, device=dev)); prm.grad = torch.randn(n, device=dev)
            opt = torch.optim.AdamW([prm], lr=1e-4, weight_decay=0.1, fused=True)
            fn = opt.step
        elif op == 'rmsnorm':
            x = torch.randn(p['N'], p['C'], device=dev, dtype=bf, requires_grad=True); wt = torch.ones(p['C'], device=dev, dtype=bf, requires_grad=True)
            g = torch.randn(p['N'], p['C'], device=dev, dtype=bf)
            def fn(): F.rms_norm(x, (p['C'],), wt, 1e-6).backward(g)
        elif op == 'copy':
            a = torch.empty(p['n'] // 4, device=dev); b = torch.empty_like(a)
            fn = lambda: b.copy_(a)
        ms = bench(fn, 0.3)
        if op == 'attention':  # SDPA picks cuDNN's kernels on Hopper; FlashAttention-2 beside it
            from torch.nn.attention import sdpa_kernel, SDPBackend
            with sdpa_kernel(SDPBackend.FLASH_ATTENTION): extra['peer_flash2_ms'] = round(bench(fn, 0.3), 4)
        if op == 'lmhead': del h, w
        torch.cuda.empty_cache()
    else:
        f = np.float32
        if op == 'matmul':
            x = np.random.rand(p['M'], p['K']).astype(f); w = np.random.rand(p['N'], p['K']).astype(f)
            fn = lambda: x @ w.T
        elif op == 'attention':
            B, H, T, D = p['B'], p['H'], p['T'], p['D']
            q, k, v, g = [np.random.rand(B, H, T, D).astype(f) for _ in range(4)]
            mask = np.triu(np.full((T, T), -np.inf, f), 1)
            def fwd():
                s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(D) + mask
                pr = np.exp(s - s.max(-1, keepdims=True)); pr /= pr.sum(-1, keepdims=True)
                return pr @ v
            def fn():
                if p.get('forward'): return fwd()
                s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(D) + mask
                pr = np.exp(s - s.max(-1, keepdims=True)); pr /= pr.sum(-1, keepdims=True)
                o = pr @ v
                dv = pr.transpose(0, 1, 3, 2) @ g; dp = g @ v.transpose(0, 1, 3, 2)
                ds = pr * (dp - (dp * pr).sum(-1, keepdims=True))
                dq = ds @ k; dk = ds.transpose(0, 1, 3, 2) @ q
        elif op == 'lmhead':
            N, C, V = p['N'], p['C'], p['V']
            h = np.random.rand(N, C).astype(f); w = (np.random.rand(V, C) * 0.02).astype(f)
            t = np.arange(N) * 7919 % V
            def fn():
                lg = h @ w.T
                m = lg.max(1, keepdims=True); e = np.exp(lg - m); z = e.sum(1, keepdims=True)
                pr = e / z; pr[np.arange(N), t] -= 1; pr /= N
                dh = pr @ w; dw = pr.T @ h
        elif op == 'adamw':
            n = p['n']
            prm, g, m, v = [np.random.rand(n).astype(f) for _ in range(4)]
            def fn():
                m[:] = 0.9 * m + 0.1 * g; v[:] = 0.95 * v + 0.05 * g * g
                prm[:] -= 1e-4 * (m / (np.sqrt(v) + 1e-8) + 0.1 * prm)
        elif op == 'rmsnorm':
            x = np.random.rand(p['N'], p['C']).astype(f); wt = np.ones(p['C'], f); g = np.random.rand(p['N'], p['C']).astype(f)
            def fn():
                r = 1 / np.sqrt((x * x).mean(1, keepdims=True) + 1e-6); y = x * r * wt
                gw = g * wt; dx = r * gw - x * r ** 3 * (gw * x).mean(1, keepdims=True); dw = (g * x * r).sum(0)
        elif op == 'copy':
            a = np.empty(p['n'] // 4, f); b = np.empty_like(a)
            fn = lambda: np.copyto(b, a)
        ms = bench(fn, 1.0)
    out[c['id']] = dict(ms=ms, **extra)
print(json.dumps({'peer': name, 'results': out}))
`;

function runPeer(selected: Case[]): { peer: string; results: Record<string, { ms: number } & Record<string, unknown>> } | null {
  const r = spawnSync('python3', ['-c', PEER, onGpu ? 'cuda' : 'cpu'], {
    input: JSON.stringify(selected.map((c) => ({ id: c.id, peer: c.peer }))),
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  if (r.status !== 0) {
    process.stderr.write(`bench: the ${onGpu ? 'PyTorch' : 'numpy'} peer failed:\n${r.stderr}\n`);
    return null;
  }
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

const selected = quick ? cases.filter((c) => c.op === 'matmul').slice(0, 2) : only ? cases.filter((c) => only.test(c.id)) : cases;
const loom: Record<string, number> = {};
const extras: Record<string, Record<string, unknown>> = {};
for (const c of selected) {
  try {
    loom[c.id] = timeIt(c.setup());
    if (c.extra) extras[c.id] = c.extra();
  } catch (err) {
    process.stderr.write(`bench: ${c.id}: ${(err as Error).message}\n`);
  } finally {
    release();
  }
}
const peer = runPeer(selected);
for (const c of selected) {
  const ms = loom[c.id];
  if (ms === undefined) continue;
  const p = peer?.results[c.id];
  const rate = (t: number) => (c.flops ? { tflops: +(c.flops / t / 1e9).toFixed(3) } : { gbps: +(c.bytes! / t / 1e6).toFixed(1) });
  const line: Record<string, unknown> = { op: c.op, shape: c.shape, device: `${k.device} (${k.name})`, ms: +ms.toFixed(4), ...rate(ms) };
  if (p) {
    const { ms: pms, ...pextra } = p;
    const prate = rate(pms);
    Object.assign(line, { peer: peer!.peer, peer_ms: +pms.toFixed(4), ...Object.fromEntries(Object.entries(prate).map(([key, v]) => [`peer_${key}`, v])), ratio: +(pms / ms).toFixed(3), ...pextra });
  }
  Object.assign(line, extras[c.id] ?? {});
  process.stdout.write(JSON.stringify(line) + '\n');
}
