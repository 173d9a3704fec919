"""SDEKit's MLP denoiser in PyTorch: train it and export safetensors that `sdekit sample --model`
loads, plus a fixture of inputs and PyTorch outputs that SDEKit's tests compare against.

    python tools/pytorch_mlp.py OUT.safetensors [--fixture OUT.json] [--steps N] [--hidden 32,32]
                                [--time-features 8] [--seed S]

The architecture is the one MLPArchitecture describes: input x (d) joined with sin(ω_i t) and
cos(ω_i t), ω_i = 1000^(i/(E/2 − 1)), Linear/SiLU hidden layers, a Linear output; trained on
gmm2d8 by ε-prediction under the VP SDE of shared/REFERENCE.md. Needs torch and numpy only (the
safetensors file is written by hand: 8-byte length, JSON header, little-endian float32 data)."""
import argparse
import json
import math
import struct

import numpy as np
import torch

BETA_MIN, BETA_MAX, EPS = 0.1, 20.0, 1e-3


def features(t, count):
    half = count // 2
    omega = torch.tensor([1000.0 ** (i / (half - 1)) if half > 1 else 1.0 for i in range(half)], dtype=torch.float64)
    angles = t[:, None] * omega[None, :]
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)


class Denoiser(torch.nn.Module):
    def __init__(self, dimension, time_features, hidden):
        super().__init__()
        widths = [dimension + time_features] + hidden + [dimension]
        self.time_features = time_features
        self.layers = torch.nn.ModuleList(torch.nn.Linear(a, b) for a, b in zip(widths, widths[1:]))

    def forward(self, x, t):
        h = torch.cat([x, features(t.double(), self.time_features).to(x.dtype)], dim=1)
        for i, layer in enumerate(self.layers):
            h = layer(h)
            if i < len(self.layers) - 1:
                h = torch.nn.functional.silu(h)
        return h


def vp(t):
    a = torch.exp(-0.25 * t * t * (BETA_MAX - BETA_MIN) - 0.5 * t * BETA_MIN)
    return a, torch.sqrt(1 - a * a)


def gmm2d8(n, generator):
    k = torch.randint(0, 8, (n,), generator=generator)
    angle = 2 * math.pi * k / 8
    means = torch.stack([4 * torch.cos(angle), 4 * torch.sin(angle)], dim=1)
    return means + 0.5 * torch.randn(n, 2, generator=generator)


def save_safetensors(model, architecture, path):
    header, chunks, offset = {}, [], 0
    for i, layer in enumerate(model.layers):
        for name, tensor in [(f"layers.{i}.weight", layer.weight), (f"layers.{i}.bias", layer.bias)]:
            data = tensor.detach().to(torch.float32).contiguous().numpy().astype("<f4").tobytes()
            header[name] = {"dtype": "F32", "shape": list(tensor.shape), "data_offsets": [offset, offset + len(data)]}
            chunks.append(data)
            offset += len(data)
    header["__metadata__"] = {"sdekit_architecture": json.dumps(architecture, sort_keys=True), "format": "pt"}
    text = json.dumps(header, sort_keys=True).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path + ".partial", "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))
    import os
    os.replace(path + ".partial", path)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("output")
    parser.add_argument("--fixture")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--hidden", default="32,32")
    parser.add_argument("--time-features", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    hidden = [int(w) for w in args.hidden.split(",")]
    model = Denoiser(2, args.time_features, hidden)
    optimiser = torch.optim.Adam(model.parameters(), lr=2e-3)
    generator = torch.Generator().manual_seed(args.seed)
    for _ in range(args.steps):
        x0 = gmm2d8(256, generator)
        t = EPS + (1 - EPS) * torch.rand(256, generator=generator, dtype=torch.float64)
        noise = torch.randn(256, 2, generator=generator)
        a, s = vp(t)
        xt = (a[:, None] * x0 + s[:, None] * noise).float()
        loss = ((model(xt, t) - noise) ** 2).sum(1).mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    architecture = {"dimension": 2, "timeFeatures": args.time_features, "hidden": hidden, "parameterisation": "noise"}
    save_safetensors(model, architecture, args.output)
    if args.fixture:
        # Inputs at a few times; outputs in float64 of the float32 network (SDEKit runs float32).
        x = torch.linspace(-5, 5, 24, dtype=torch.float64).reshape(12, 2)
        cases = []
        with torch.no_grad():
            for t in [0.001, 0.1, 0.5, 1.0]:
                out = model(x.float(), torch.full((12,), t, dtype=torch.float64)).double()
                cases.append({"t": t, "x": x.tolist(), "output": out.tolist()})
        with open(args.fixture, "w") as f:
            json.dump({"model": args.output.split("/")[-1], "cases": cases}, f, indent=1)
    print(f"wrote {args.output}" + (f" and {args.fixture}" if args.fixture else "") + f" (final loss {loss.item():.4f})")


if __name__ == "__main__":
    main()
