#!/usr/bin/env python3
"""Write tests/data/encoder_fixture.json: a small BEND-structured dilated ResNet encoder and MLM head in
plain torch.nn (bend.md section 3, BEND:bend/models/dilated_cnn.py), its weights named as nucleo's
parameters, a token input and the outputs, for tests/layers/resnet_encoder_test.cpp.

    /usr/bin/python3 bench/make_encoder_fixture.py      # needs Debian's python3-torch:
                                                        #   apt-get install -y python3-torch
The weights are drawn in float32 (BEND's inits; LayerNorm gains/biases and Linear biases are then
perturbed so the test can tell them apart), and the forward pass runs in float64 on exactly those
values, so the C++ test can compare a double model tightly and a float model loosely.
"""
import json
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

C, DEPTH, K, VOCAB = 16, 3, 9, 7
CYCLE, DOUBLE_EVERY, MAX_DIL = 6, 1, 32
B, L = 2, 40
SEED = 20250


class Transpose(nn.Module):
    def forward(self, x):
        return x.transpose(1, 2)


class ConvLayer(nn.Module):
    """BEND's ConvLayer: x += LN(GELU(Conv(x))); x += LN(GELU(Linear(x))). x is (B, L, H)."""

    def __init__(self, hidden, kernel, dilation):
        super().__init__()
        self.conv = nn.Sequential(
            Transpose(),
            nn.Conv1d(hidden, hidden, kernel, padding="same", dilation=dilation),
            Transpose(),
            nn.GELU(),
            nn.LayerNorm(hidden),
        )
        self.ffn = nn.Sequential(nn.Linear(hidden, hidden), nn.GELU(), nn.LayerNorm(hidden))

    def forward(self, x):
        x = x + self.conv(x)
        x = x + self.ffn(x)
        return x


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        dil = [min(MAX_DIL, 2 ** ((i % CYCLE) // DOUBLE_EVERY)) for i in range(DEPTH)]
        self.layers = nn.ModuleList([ConvLayer(C, K, d) for d in dil])

    def forward(self, ids):
        x = F.one_hot(ids, num_classes=C).to(self.layers[0].ffn[0].weight.dtype)  # H-wide one-hot
        for layer in self.layers:
            x = layer(x)
        return x


class MLMHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(C, C), nn.GELU(), nn.LayerNorm(C), nn.Linear(C, VOCAB))

    def forward(self, x):
        return self.net(x)


def bend_init(module, gen):
    """BEND _init_weights for Linear/LayerNorm; Conv1d keeps PyTorch's default. Then perturb the
    zero/one parameters so that they are checked too."""
    for m in module.modules():
        if isinstance(m, nn.Linear):
            m.weight.data.normal_(0.0, 0.02, generator=gen)
            m.bias.data.normal_(0.0, 0.02, generator=gen)  # BEND: zero; perturbed for the test
        elif isinstance(m, nn.LayerNorm):
            m.weight.data = 1.0 + 0.1 * torch.randn(m.weight.shape, generator=gen)
            m.bias.data = 0.1 * torch.randn(m.bias.shape, generator=gen)


def named(enc, head):
    """nucleo parameter names -> tensors (nucleo: encoder = Sequential<OneHot, Repeat<ResBlock>>)."""
    out_enc, out_head = {}, {}
    for i, layer in enumerate(enc.layers):
        p = f"1.{i}."
        out_enc[p + "0.body.0.weight"] = layer.conv[1].weight
        out_enc[p + "0.body.0.bias"] = layer.conv[1].bias
        out_enc[p + "0.body.2.weight"] = layer.conv[4].weight
        out_enc[p + "0.body.2.bias"] = layer.conv[4].bias
        out_enc[p + "1.body.0.weight"] = layer.ffn[0].weight
        out_enc[p + "1.body.0.bias"] = layer.ffn[0].bias
        out_enc[p + "1.body.2.weight"] = layer.ffn[2].weight
        out_enc[p + "1.body.2.bias"] = layer.ffn[2].bias
    for idx in (0, 2, 3):
        out_head[f"{idx}.weight"] = head.net[idx].weight
        out_head[f"{idx}.bias"] = head.net[idx].bias
    return out_enc, out_head


def dump(params):
    return {
        n: {"shape": list(t.shape), "data": [float(f"{v:.9g}") for v in t.detach().reshape(-1).tolist()]}
        for n, t in params.items()
    }


def main():
    torch.manual_seed(SEED)
    gen = torch.Generator().manual_seed(SEED + 1)
    enc, head = Encoder(), MLMHead()
    bend_init(enc, gen)
    bend_init(head, gen)
    # Round every weight to float32 (as stored), then evaluate in float64.
    enc, head = enc.float().double(), head.float().double()
    ids = torch.randint(0, VOCAB, (B, L), generator=gen)
    with torch.no_grad():
        hidden = enc(ids)             # (B, L, C)
        logits = head(hidden)         # (B, L, V)
    pe, ph = named(enc, head)
    fixture = {
        "generator": "bench/make_encoder_fixture.py (torch " + torch.__version__ + ")",
        "config": {"channels": C, "depth": DEPTH, "kernel": K, "vocab": VOCAB, "dilation_cycle": CYCLE,
                   "dilation_double_every": DOUBLE_EVERY, "max_dilation": MAX_DIL, "batch": B, "length": L},
        "tokens": ids.tolist(),
        "encoder": dump(pe),
        "mlm_head": dump(ph),
        # nucleo layout [B, channels, L], flattened row-major
        "hidden": [v for v in hidden.transpose(1, 2).reshape(-1).tolist()],
        "logits": [v for v in logits.transpose(1, 2).reshape(-1).tolist()],
    }
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(here, "..", "tests", "data", "encoder_fixture.json")
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
    os.replace(tmp, path)
    print(f"wrote {os.path.normpath(path)} ({os.path.getsize(path)} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
