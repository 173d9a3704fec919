"""W6 in alternating rounds: SDEKit's three fast-sampler runs (compare_peers.W6_RUNS), then the
peers' (samplers_peer.py: k-diffusion sample_dpmpp_2m and sample_heun, diffusers DPM-Solver++ 2M),
then SDEKit again, …, each timing the fastest of three runs, all at one thread. On a shared
machine the load drifts over minutes; a ratio taken within one round (SDEKit and the peer run
back to back) drifts less, and the spread over rounds shows how much.

Usage: w6_rounds.py SDEKIT_BINARY [rounds=3] [samples=100000]; prints each round's ns per sample
and SDEKit's speed-up per peer run, then the median over rounds."""
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
import compare_peers as cp  # noqa: E402  (its W6_RUNS and sdekit())
import reference as ref  # noqa: E402


def main():
    if len(sys.argv) < 2:
        raise SystemExit("usage: w6_rounds.py SDEKIT_BINARY [rounds] [samples]")
    binary = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 100_000
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    speedups = {}
    for r in range(rounds):
        ours = {}
        for solver, grid, options in cp.W6_RUNS:
            report = cp.sdekit(binary, "sample", *options, "--sampler", solver, "--steps", "20", "--count", str(n),
                               "--threads", "1", "--quiet", "--json", repeats=ref.REPEATS)
            ours[(solver, grid)] = (report["seconds"] / n * 1e9, report["nfe"])
        done = subprocess.run([sys.executable, os.path.join(HERE, "samplers_peer.py"), "W6", str(n)],
                              capture_output=True, text=True, env=env, cwd=HERE, check=True)
        for line in done.stdout.splitlines():
            if not line.startswith("{"):
                continue
            peer = json.loads(line)
            key = (peer["solver"], peer["grid"])
            mine, nfe = ours[key]
            ratio = peer["ns_per_sample"] / mine
            speedups.setdefault((peer["peer"],) + key, []).append(ratio)
            print(f"round {r + 1}: {peer['peer']} {key[0]} ({key[1]}): {peer['ns_per_sample']:.0f} ns/sample "
                  f"(NFE {peer['nfe']}), SDEKit {mine:.0f} ns/sample (NFE {nfe}): {ratio:.1f}×", flush=True)
    for (peer, solver, grid), values in speedups.items():
        print(f"{peer} {solver} ({grid}): SDEKit faster by {statistics.median(values):.1f}× "
              f"(median of {len(values)} rounds; {min(values):.1f}–{max(values):.1f}×)")


if __name__ == "__main__":
    main()
