#!/usr/bin/env python3
"""PyTorch reference for bench_crf: the torchcrf (pytorch-crf) algorithm, written here from its
description (not copied): forward algorithm with a Python loop over positions, each step vectorised
over batch and K x K with torch.logsumexp; gold score by gathering; NLL gradient by autograd;
Viterbi with a Python loop over positions keeping argmax back-pointers, and the traceback done as
torchcrf does it, per sequence in Python. A second Viterbi variant traces back vectorised over the
batch (the fastest plain-PyTorch form), reported alongside. The NLL comes in two variants:
`--variant unbind` (default) splits the emissions once per step list (linear-time backward, the fair
reference) and `--variant index` indexes em[t] in the loop literally as torchcrf does, which makes
autograd materialise one full-size gradient per position (quadratic in the length).

Same shapes as bench/bench_crf.cpp: K=9, batch 8 x 10,000 positions, fully labelled random tags,
float32, reduction sum, torch.set_num_threads(2). Prints one JSON object (median seconds, positions/s).
Usage: python3 bench/crf_torch.py [--batch 8] [--length 10000] [--threads 2] [--reps 3] [--variant unbind|index]
"""
import argparse
import json
import statistics
import time

import torch


class TorchCRF(torch.nn.Module):
    """Linear-chain CRF over num_tags tags; emissions (length, batch, K) as torchcrf stores them."""

    def __init__(self, num_tags):
        super().__init__()
        self.start = torch.nn.Parameter(torch.empty(num_tags).uniform_(-0.1, 0.1))
        self.end = torch.nn.Parameter(torch.empty(num_tags).uniform_(-0.1, 0.1))
        self.trans = torch.nn.Parameter(torch.empty(num_tags, num_tags).uniform_(-0.1, 0.1))

    def nll(self, em, tags, mask, unbind=True):
        """Sum over the batch of log Z - score(tags). em (L, B, K), tags (L, B) long, mask (L, B) bool.

        unbind=False indexes em[t] inside the loops exactly as torchcrf does; autograd then builds one
        full-size (L, B, K) gradient per position (quadratic in L). unbind=True splits em once
        (em.unbind(0)), which keeps the same algorithm linear; it is the fair reference."""
        steps = em.unbind(0) if unbind else em
        return (self.log_partition(steps, mask) - self.gold_score(steps, tags, mask)).sum()

    def gold_score(self, steps, tags, mask):
        L, B = tags.shape
        rows = torch.arange(B)
        m = mask.to(steps[0].dtype)
        s = self.start[tags[0]] + steps[0][rows, tags[0]]
        for t in range(1, L):
            s = s + (self.trans[tags[t - 1], tags[t]] + steps[t][rows, tags[t]]) * m[t]
        last = mask.long().sum(0) - 1
        return s + self.end[tags[last, rows]]

    def log_partition(self, steps, mask):
        L = mask.shape[0]
        a = self.start + steps[0]                                 # (B, K)
        for t in range(1, L):
            nxt = torch.logsumexp(a.unsqueeze(2) + self.trans + steps[t].unsqueeze(1), dim=1)
            a = torch.where(mask[t].unsqueeze(1), nxt, a)
        return torch.logsumexp(a + self.end, dim=1)

    @torch.no_grad()
    def viterbi(self, em, mask, batched_traceback=False):
        L, B, _ = em.shape
        d = self.start + em[0]
        history = []
        for t in range(1, L):
            best, idx = (d.unsqueeze(2) + self.trans + em[t].unsqueeze(1)).max(dim=1)
            d = torch.where(mask[t].unsqueeze(1), best, d)
            history.append(idx)
        d = d + self.end
        scores, last = d.max(dim=1)
        ends = mask.long().sum(0) - 1
        if batched_traceback:  # all sequences full length here
            path = [last]
            for idx in reversed(history):
                path.append(idx.gather(1, path[-1].unsqueeze(1)).squeeze(1))
            path.reverse()
            return torch.stack(path, 0).t(), scores
        paths = []
        for b in range(B):                                        # torchcrf: per sequence, in Python
            tag = last[b].item()
            seq = [tag]
            for idx in reversed(history[: ends[b]]):
                tag = idx[b][seq[-1]].item()
                seq.append(tag)
            seq.reverse()
            paths.append(seq)
        return paths, scores


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--length", type=int, default=10000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--variant", choices=["unbind", "index"], default="unbind",
                    help="unbind: em split once (linear backward); index: em[t] per step as torchcrf")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1234)
    B, L, K = args.batch, args.length, 9
    crf = TorchCRF(K)
    em = (torch.randn(L, B, K) * 3.0).requires_grad_(True)
    tags = torch.randint(0, K, (L, B))
    mask = torch.ones(L, B, dtype=torch.bool)

    def timed(fn):
        t0 = time.perf_counter()
        out = fn()
        return time.perf_counter() - t0, out

    def nll_grad():
        crf.zero_grad()
        em.grad = None
        loss = crf.nll(em, tags, mask, unbind=args.variant == "unbind")
        loss.backward()
        return loss.item()

    tg, tv, tvb = [], [], []
    for r in range(args.reps + 1):                                 # first repetition = warm-up
        g, loss = timed(nll_grad)
        v, _ = timed(lambda: crf.viterbi(em.detach(), mask))
        vb, _ = timed(lambda: crf.viterbi(em.detach(), mask, batched_traceback=True))
        if r:
            tg.append(g)
            tv.append(v)
            tvb.append(vb)
    pos = B * L
    g, v, vb = statistics.median(tg), statistics.median(tv), statistics.median(tvb)
    print(json.dumps({
        "impl": "torch", "variant": args.variant, "torch": torch.__version__, "K": K, "batch": B, "length": L,
        "threads": torch.get_num_threads(), "reps": args.reps,
        "nll_grad_s": g, "viterbi_s": v, "total_s": g + v,
        "nll_grad_pos_per_s": pos / g, "viterbi_pos_per_s": pos / v, "positions_per_s": pos / (g + v),
        "viterbi_batched_traceback_s": vb, "total_batched_traceback_s": g + vb,
        "positions_per_s_batched_traceback": pos / (g + vb),
        "total_min_s": min(a + b for a, b in zip(tg, tv)),
        "positions_per_s_best": pos / min(a + b for a, b in zip(tg, tv)), "loss": loss,
    }))


if __name__ == "__main__":
    main()
