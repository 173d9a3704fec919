"""Interleaved rounds of REFERENCE workloads for several sdekit binaries: the plain build against
`make build`'s, or this version against an earlier one, on the same machine in the same minutes.

Usage: python3 Benchmarks/interleaved.py W1,W3,W2,W4-em,W4-sriw1,W5 ROUNDS LABEL=BINARY [LABEL=BINARY …]
e.g.   python3 Benchmarks/interleaved.py W1,W3 5 native=.build-native/release/sdekit plain=.build/release/sdekit

Each figure is the solve's own seconds from the CLI's JSON (no process start, prior or metrics),
as a unit cost: ns per sample-step (W1, W3), per sample-evaluation (W2), per path-step (W4), per
row of one network evaluation (W5). Ratios are against the first binary."""
import json
import os
import statistics
import subprocess
import sys

MODEL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Models", "gmm2d8.safetensors")
SAMPLE = ["sample", "--sde", "vp", "--sampler", "euler-maruyama", "--steps", "1000", "--threads", "1", "--quiet", "--json"]
GBM = ["convergence", "--problem", "gbm", "--paths", "10000", "--levels", "10", "--threads", "1", "--json"]
WORKLOADS = {
    "W1": (SAMPLE + ["--target", "gmm2d8", "--count", "100000"], lambda r: r["seconds"] / 1e8 * 1e9),
    "W3": (SAMPLE + ["--target", "gmm64d16", "--count", "10000"], lambda r: r["seconds"] / 1e7 * 1e9),
    "W2": (["sample", "--sampler", "ode-dopri5", "--rtol", "1e-4", "--atol", "1e-4", "--count", "10000", "--threads", "1",
            "--quiet", "--json"], lambda r: r["seconds"] / (10_000 * r["nfe"]) * 1e9),
    "W4-em": (GBM + ["--solver", "euler-maruyama"], lambda r: r["levels"][-1]["seconds"] / (10_000 * 1024) * 1e9),
    "W4-sriw1": (GBM + ["--solver", "sriw1"], lambda r: r["levels"][-1]["seconds"] / (10_000 * 1024) * 1e9),
    "W5": (["sample", "--model", MODEL, "--sampler", "ode-euler", "--steps", "10", "--count", "10000", "--threads", "1",
            "--quiet", "--json"], lambda r: r["seconds"] / 10 / 10_000 * 1e9),
}


def main():
    if len(sys.argv) < 4:
        raise SystemExit(__doc__)
    workloads, rounds = sys.argv[1].split(","), int(sys.argv[2])
    binaries = dict(argument.split("=", 1) for argument in sys.argv[3:])
    unknown = [w for w in workloads if w not in WORKLOADS]
    if unknown:
        raise SystemExit(f"unknown workload {', '.join(unknown)}; known: {', '.join(WORKLOADS)}")
    costs = {(w, b): [] for w in workloads for b in binaries}
    for _ in range(rounds):
        for w in workloads:
            arguments, unit_cost = WORKLOADS[w]
            for label, binary in binaries.items():
                out = subprocess.run([binary, *arguments], check=True, capture_output=True, text=True).stdout
                costs[(w, label)].append(unit_cost(json.loads(out)))
    first = next(iter(binaries))
    for w in workloads:
        for label in binaries:
            values = costs[(w, label)]
            line = f"{w:9} {label:14} min {min(values):9.2f}  median {statistics.median(values):9.2f}  " \
                   f"[{', '.join(f'{v:.2f}' for v in values)}]"
            if label != first:
                base = costs[(w, first)]
                line += f"  /{first}: {min(values) / min(base):.3f} (min), " \
                        f"{statistics.median(values) / statistics.median(base):.3f} (median)"
            print(line)


if __name__ == "__main__":
    main()
