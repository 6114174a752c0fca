#!/usr/bin/env python3
"""PyTorch peer of bench/bench_encoder.cpp: BEND's dilated ResNet + MLM head in plain torch.nn.

Model written from the description in /work/shared/reference/bend.md section 3 (BEND ConvLayer):
  x = x + LayerNorm(GELU(Conv1d_HxH(k=9, dilation d_i, 'same')(x)))
  x = x + LayerNorm(GELU(Linear_HxH(x)))
with an H-wide one-hot input and the MLM head Linear(H,H) -> GELU -> LayerNorm(H) -> Linear(H,7).
Training step = zero_grad, forward, CrossEntropy(ignore_index=-100) on 15 % masked positions,
backward, AdamW step; inference = forward under torch.no_grad(). float32, torch.set_num_threads(N).
Flush-to-zero is on (torch.set_flush_denormal(True)), as in nucleo. Medians over --iters steps after --warmup steps. One configuration per process (peak RSS = VmHWM of
this process). Prints one JSON line.

  python3 bench/encoder_torch.py --config small|medium|paper|mm [--threads 2] [--iters N] [--warmup N]
"""
import argparse
import json
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

CONFIGS = {  # channels, depth, batch, length, warmup, iters
    "small": (64, 6, 16, 1024, 2, 7),
    "medium": (128, 12, 8, 2048, 2, 5),
    "paper": (512, 30, 2, 2048, 1, 3),
}
VOCAB, MASK_ID, KERNEL = 7, 5, 9


def dilation_of(i, cycle=6, double_every=1, max_dilation=32):
    return min(max_dilation, 2 ** ((i % cycle) // double_every))


class Block(nn.Module):
    """One BEND layer on [B, L, H] activations (channels last, as BEND keeps them)."""

    def __init__(self, hidden, dilation):
        super().__init__()
        self.conv = nn.Conv1d(hidden, hidden, KERNEL, dilation=dilation, padding="same")
        self.conv_norm = nn.LayerNorm(hidden)
        self.mix = nn.Linear(hidden, hidden)
        self.mix_norm = nn.LayerNorm(hidden)

    def forward(self, x):
        c = self.conv(x.transpose(1, 2)).transpose(1, 2)
        x = x + self.conv_norm(F.gelu(c))
        return x + self.mix_norm(F.gelu(self.mix(x)))


class Net(nn.Module):
    def __init__(self, hidden, depth):
        super().__init__()
        self.hidden = hidden
        self.blocks = nn.ModuleList(Block(hidden, dilation_of(i)) for i in range(depth))
        self.head = nn.Sequential(nn.Linear(hidden, hidden), nn.GELU(), nn.LayerNorm(hidden),
                                  nn.Linear(hidden, VOCAB))
        for m in self.modules():  # BEND's _init_weights: Linear N(0, 0.02) / 0; convs keep the default
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0.0, 0.02)
                nn.init.zeros_(m.bias)

    def forward(self, ids):
        x = F.one_hot(ids, self.hidden).float()
        for blk in self.blocks:
            x = blk(x)
        return self.head(x)


def peak_rss_mib():
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return -1.0


def blas_libraries():
    libs = set()
    with open("/proc/self/maps") as fh:
        for line in fh:
            path = line.split()[-1] if len(line.split()) >= 6 else ""
            if any(k in path for k in ("blas", "mkl", "dnnl", "gomp", "omp")):
                libs.add(path)
    return sorted(libs)


def mm_gflops(n=4096, reps=5):
    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.mm(a, b)
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        torch.mm(a, b)
        ts.append(time.perf_counter() - t0)
    return 2.0 * n ** 3 / statistics.median(ts) * 1e-9


def bench_model(name, threads, warmup, iters):
    hidden, depth, batch, length, w0, i0 = CONFIGS[name]
    warmup = w0 if warmup is None else warmup
    iters = i0 if iters is None else iters
    torch.manual_seed(42)
    model = Net(hidden, depth)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss(ignore_index=-100)
    tokens = torch.randint(0, 4, (batch, length))
    masked = torch.rand(batch, length) < 0.15
    ids = torch.where(masked, torch.full_like(tokens, MASK_ID), tokens)
    targets = torch.where(masked, tokens, torch.full_like(tokens, -100))

    losses = []

    def train_step():
        opt.zero_grad(set_to_none=False)
        logits = model(ids)
        loss = loss_fn(logits.reshape(-1, VOCAB), targets.reshape(-1))
        loss.backward()
        opt.step()
        losses.append(loss.item())

    def infer():
        with torch.no_grad():
            model(ids)

    tt, ti = [], []
    model.train()
    for i in range(warmup + iters):
        t0 = time.perf_counter()
        train_step()
        if i >= warmup:
            tt.append(time.perf_counter() - t0)
    model.eval()
    for i in range(warmup + iters):
        t0 = time.perf_counter()
        infer()
        if i >= warmup:
            ti.append(time.perf_counter() - t0)
    rss = peak_rss_mib()
    nt = batch * length
    fwd_flops = nt * (depth * 2.0 * hidden * hidden * (KERNEL + 1) + 2.0 * hidden * hidden + 2.0 * hidden * VOCAB)
    t_train, t_inf = statistics.median(tt), statistics.median(ti)
    return {"impl": "pytorch", "config": name, "channels": hidden, "depth": depth, "batch": batch,
            "length": length, "threads": torch.get_num_threads(), "warmup": warmup, "iters": iters,
            "masked": int(masked.sum()), "loss_first": losses[0], "loss_last": losses[-1],
            "train_s": t_train, "infer_s": t_inf, "train_nt_per_s": nt / t_train, "infer_nt_per_s": nt / t_inf,
            "train_gflops": 3.0 * fwd_flops / t_train * 1e-9, "infer_gflops": fwd_flops / t_inf * 1e-9,
            "peak_rss_mib": rss, "torch": torch.__version__}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True, choices=list(CONFIGS) + ["mm"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--warmup", type=int)
    ap.add_argument("--iters", type=int)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.set_flush_denormal(True)  # as nucleo's CpuContext (FTZ/DAZ); without it the backward crawls on tiny gradients
    if a.config == "mm":
        out = {"impl": "pytorch", "config": "mm", "n": 4096, "threads": torch.get_num_threads(),
               "mm_gflops": mm_gflops(), "torch": torch.__version__, "libraries": blas_libraries()}
    else:
        out = bench_model(a.config, a.threads, a.warmup, a.iters)
        out["libraries"] = blas_libraries()
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
