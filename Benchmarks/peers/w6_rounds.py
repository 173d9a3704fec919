"""W6 in alternating rounds: SDEKit's three fast-sampler runs (compare_peers.W6_RUNS), then the
peers' (samplers_peer.py: k-diffusion sample_dpmpp_2m and sample_heun, diffusers DPM-Solver++ 2M),
then SDEKit again, …, each timing the fastest of three runs, all at one thread. On a shared
machine the load drifts over minutes; a ratio taken within one round (SDEKit and the peer run
back to back) drifts less, and the spread over rounds shows how much.

Usage: w6_rounds.py SDEKIT_BINARY[,SDEKIT_BINARY…] [rounds=3] [samples=100000]: several binaries
(the plain `swift build -c release` one and the `-target-cpu native` one) take turns within each
round. Prints each round's ns per sample and SDEKit's speed-up per peer run, then the median over
rounds."""
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
        raise SystemExit("usage: w6_rounds.py SDEKIT_BINARY[,SDEKIT_BINARY…] [rounds] [samples]")
    binaries = sys.argv[1].split(",")
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 100_000
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    speedups = {}
    for r in range(rounds):
        ours = {}
        for binary in binaries:
            for solver, grid, options in cp.W6_RUNS:
                report = cp.sdekit(binary, "sample", *options, "--sampler", solver, "--steps", "20", "--count", str(n),
                                   "--threads", "1", "--quiet", "--json", repeats=ref.REPEATS)
                ours[(binary, solver, grid)] = (report["seconds"] / n * 1e9, report["nfe"])
        done = subprocess.run([sys.executable, os.path.join(HERE, "samplers_peer.py"), "W6", str(n)],
                              capture_output=True, text=True, env=env, cwd=HERE, check=True)
        for line in done.stdout.splitlines():
            if not line.startswith("{"):
                continue
            peer = json.loads(line)
            for binary in binaries:
                mine, nfe = ours[(binary, peer["solver"], peer["grid"])]
                ratio = peer["ns_per_sample"] / mine
                speedups.setdefault((binary, peer["peer"], peer["solver"], peer["grid"]), []).append(ratio)
                print(f"round {r + 1}: {peer['peer']} {peer['solver']} ({peer['grid']}): {peer['ns_per_sample']:.0f} "
                      f"ns/sample (NFE {peer['nfe']}); {binary}: {mine:.0f} ns/sample (NFE {nfe}): {ratio:.1f}×",
                      flush=True)
    for (binary, peer, solver, grid), values in speedups.items():
        print(f"{binary}: {peer} {solver} ({grid}): SDEKit faster by {statistics.median(values):.1f}× "
              f"(median of {len(values)} rounds; {min(values):.1f}–{max(values):.1f}×)")


if __name__ == "__main__":
    main()
