"""Runs SDEKit's CLI and each installed peer on the REFERENCE workloads, one after the other on
this machine at one thread each, and prints a table of costs, ratios and quality; writes it as
JSON. Usage: compare_peers.py SDEKIT_BINARY OUTPUT_JSON [--quick] [--workloads W1,W7,…]"""
import datetime
import importlib.util
import json
import os
import platform
import subprocess
import sys
import tempfile

import numpy as np

import reference as ref

HERE = os.path.dirname(os.path.abspath(__file__))
QUICK = "--quick" in sys.argv
W1_N, W3_N, W2_N = (20_000, 2_000, 10_000) if QUICK else (100_000, 10_000, 10_000)
W7_N = 2_000 if QUICK else 10_000

# Unit costs: ns per sample-step (W1, W3), per path-step with the Brownian path (W4), per sample
# per evaluation (W2), per row of one network evaluation (W5). (workload, peer script, python modules it needs)
PEERS = [
    ("W1", "numpy_peer.py", ["numpy"]), ("W1", "jax_peer.py", ["jax"]), ("W1", "diffrax_peer.py", ["diffrax"]),
    ("W1", "torch_peer.py", ["torch"]),
    ("W3", "numpy_peer.py", ["numpy"]), ("W3", "jax_peer.py", ["jax"]), ("W3", "torch_peer.py", ["torch"]),
    ("W2", "scipy_peer.py", ["scipy"]), ("W2", "diffrax_peer.py", ["diffrax"]),
    ("W4", "numpy_peer.py", ["numpy"]), ("W4", "torchsde_peer.py", ["torchsde"]),
    ("W5", "torch_peer.py", ["torch"]), ("W5", "jax_peer.py", ["jax"]),
    ("W6", "samplers_peer.py", ["torch", "diffusers", "k_diffusion"]),
    ("W7", "likelihood_peer.py", ["scipy", "diffrax"]),
    ("W8", "adaptive_sde_peer.py", ["diffrax"]),
]
W2_TOLERANCES = [1e-5, 3e-5, 1e-4, 3e-4, 1e-3]
# The RMS norm (SciPy's and diffrax's) passes larger element errors at a given tolerance, so its
# grid reaches further down to meet the peers' achieved errors.
W2_RMS_TOLERANCES = [3e-6, 5e-6, 7e-6, 1e-5, 1.5e-5, 2e-5, 2.5e-5, 3e-5, 1e-4]
RMS = ["--error-norm", "rms"]
# W2 runs of SDEKit: (label, sampler, extra options, tolerances).
W2_RUNS = [("ode-gsl-rkf45", "ode-gsl-rkf45", [], W2_TOLERANCES), ("ode-dopri5", "ode-dopri5", [], W2_TOLERANCES),
           ("ode-gsl-rkf45 rms", "ode-gsl-rkf45", RMS, W2_RMS_TOLERANCES),
           ("ode-dopri5 rms", "ode-dopri5", RMS, W2_RMS_TOLERANCES),
           ("ode-gsl-rk8pd", "ode-gsl-rk8pd", [], W2_TOLERANCES)]
# Which of them stand beside each W2 peer: the same kind of method under GSL's maximum norm and
# under the peer's own RMS norm.
W2_COUNTERPARTS = {"RK45": ["ode-gsl-rkf45", "ode-gsl-rkf45 rms", "ode-dopri5 rms"],
                   "Dopri5": ["ode-dopri5", "ode-dopri5 rms"]}
W6_N = 20_000 if QUICK else 100_000
# W8: SDEKit solves REFERENCE's 10,000 paths; diffrax 1,000 (its vmapped solve queries the tree
# from the root at every step, 10–40 µs a path-step: 10,000 paths take hours), costs per path.
W8_N, W8_PEER_N = (2_000, 200) if QUICK else (10_000, 1_000)
SIZES = {"W1": W1_N, "W3": W3_N, "W2": W2_N, "W4": 10_000, "W5": 10_000, "W6": W6_N, "W7": W7_N, "W8": W8_PEER_N}
# W6 (issue 21): SDEKit's fast samplers, 20 steps at one thread, as (solver, grid, options); the
# grids are the peers' (samplers_peer.py): EDM with Karras's σ and σ = 0 appended for k-diffusion,
# the DDPM chain with diffusers' linspace timesteps and final σ = 0 for DPMSolverMultistepScheduler.
W6_RUNS = [("dpm-solver++-2m", "edm karras", ["--sde", "edm", "--grid", "karras", "--final-step", "zero"]),
           ("edm-heun", "edm karras", ["--sde", "edm", "--grid", "karras", "--final-step", "zero"]),
           ("dpm-solver++-2m", "ddpm linspace", ["--sde", "ddpm", "--timestep-spacing", "linspace"])]
# W7 runs of SDEKit: (label, options, tolerances). Each peer is set beside the fastest run of its
# divergence whose mean |error| against the closed form is at most the peer's. A one-probe
# Hutchinson error is the probe's noise (about 0.8 nats, the same distribution on both sides,
# each from its own probes), so there "at most" allows the 2 % by which two draws of that mean
# differ (its standard error over 10,000 samples is about 1 %).
W7_RUNS = [("exact", ["--divergence", "exact"], [1e-3, 3e-4, 1e-4, 3e-5, 1e-5]),
           ("exact rms", ["--divergence", "exact", "--error-norm", "rms"], [1e-4, 3e-5, 1e-5, 3e-6]),
           ("hutchinson", ["--divergence", "hutchinson", "--probes", "1"], [1e-2, 1e-3, 1e-4]),
           ("hutchinson rms", ["--divergence", "hutchinson", "--probes", "1", "--error-norm", "rms"], [1e-2, 1e-3, 1e-4])]
W7_COUNTERPARTS = {"RK45 hutchinson": (["hutchinson", "hutchinson rms"], 1.02),
                   "RK45 exact": (["exact", "exact rms"], 1.0),
                   "Dopri5 exact trace (jacfwd)": (["exact", "exact rms"], 1.0)}
# W8 runs of SDEKit: (problem, solver, tolerances) spanning strong errors 3e-3 … 5e-5, on a tree of
# 2⁻¹⁸ resolution like the peer's.
W8_RUNS = [("gbm", "sriw1", [1e-3, 5e-4, 3e-4, 2e-4, 1e-4, 5e-5, 3e-5, 2e-5, 1.5e-5, 1e-5]),
           ("double-well", "sra1", [1e-2, 7e-3, 5e-3, 3e-3, 2e-3, 1e-3, 5e-4, 2e-4, 1e-4])]
# The shipped gmm2d8 model has REFERENCE W5's architecture.
W5_MODEL = os.path.join(HERE, "..", "..", "Models", "gmm2d8.safetensors")


def sdekit(binary, *arguments, repeats=1, seconds=lambda r: r["seconds"]):
    """The CLI's JSON report; with `repeats`, the run whose `seconds` is least (reference.py: every
    timing is the fastest of REPEATS runs, the peers' too)."""
    reports = [json.loads(subprocess.run([binary, *arguments], check=True, capture_output=True, text=True).stdout)
               for _ in range(repeats)]
    return reports[0] if repeats == 1 else min(reports, key=seconds)


def sampling_runs(binary, workload):
    """W1 (1 and 2 threads) or W3: Euler–Maruyama on the reverse VP SDE, 1000 steps."""
    target, n = ("gmm2d8", W1_N) if workload == "W1" else ("gmm64d16", W3_N)
    runs = []
    for threads in ([1, 2] if workload == "W1" else [1]):
        r = sdekit(binary, "sample", "--sde", "vp", "--target", target, "--sampler", "euler-maruyama",
                   "--steps", "1000", "--count", str(n), "--threads", str(threads), "--quiet", "--json",
                   repeats=ref.REPEATS)
        occupancy = r["mode_occupancy"]
        runs.append({"peer": "sdekit", "workload": workload, "threads": threads, "seconds": r["seconds"],
                     "ns_per_sample_step": r["seconds"] / (n * 1000) * 1e9, "nfe": r["nfe"],
                     "mean_err": r["mean_err"], "cov_err": r["cov_err"], "sw2": r["sw2"],
                     "sw2_floor": r["sw2_floor"], "mode_occupancy_min": min(occupancy),
                     "mode_occupancy_max": max(occupancy)})
    return runs


def ode_runs(binary):
    """W2: each solver at several tolerances, so the table can compare at equal achieved error."""
    runs = []
    with tempfile.TemporaryDirectory() as folder:
        tight = os.path.join(folder, "tight.npy")
        sdekit(binary, "sample", "--sampler", "ode-gsl-rk8pd", "--rtol", "1e-12", "--atol", "1e-12",
               "--count", str(W2_N), "--threads", "1", "--quiet", "--json", "-o", tight)
        for label, sampler, options, tolerances in W2_RUNS:
            for tolerance in tolerances:
                path = os.path.join(folder, f"{sampler}-{len(options)}-{tolerance}.npy")
                r = sdekit(binary, "sample", "--sampler", sampler, *options, "--rtol", str(tolerance),
                           "--atol", str(tolerance), "--count", str(W2_N), "--threads", "1", "--quiet", "--json",
                           "-o", path, repeats=ref.REPEATS)
                error = float(np.sqrt(((np.load(path) - np.load(tight)) ** 2).sum(1).mean()))
                runs.append({"peer": "sdekit", "workload": "W2", "solver": label, "tolerance": tolerance, "threads": 1,
                             "seconds": r["seconds"], "nfe": r["nfe"],
                             "ns_per_sample_evaluation": r["seconds"] / (W2_N * r["nfe"]) * 1e9,
                             "error_vs_tight": error, "sw2": r["sw2"], "sw2_floor": r["sw2_floor"]})
    return runs


def gbm_runs(binary):
    """W4: GBM at dt = 2⁻¹⁰ on 10,000 paths, Euler–Maruyama and SRIW1."""
    runs = []
    for solver in ["euler-maruyama", "sriw1"]:
        r = sdekit(binary, "convergence", "--problem", "gbm", "--solver", solver, "--paths", "10000",
                   "--levels", "10", "--threads", "1", "--json", repeats=ref.REPEATS,
                   seconds=lambda report: report["levels"][-1]["seconds"])
        level = r["levels"][-1]
        runs.append({"peer": "sdekit", "workload": "W4", "solver": solver, "threads": 1, "seconds": level["seconds"],
                     "ns_per_sample_step": level["seconds"] / (10_000 * 1024) * 1e9, "strong_error": level["error"]})
    return runs


def adaptive_runs(binary):
    """W8: adaptive SDE solves per path on a Brownian tree, GBM with SRIW1 and the double well
    with SRA1 (embedded error estimates), a sweep of tolerances; one JSON point per tolerance."""
    runs = []
    for problem, solver, tolerances in W8_RUNS:
        r = sdekit(binary, "convergence", "--problem", problem, "--solver", solver, "--adaptive", "--tree-depth", "18",
                   "--paths", str(W8_N), "--tolerances", ",".join(f"{t:g}" for t in tolerances), "--threads", "1",
                   "--json")
        for point in r["points"]:
            runs.append({"peer": "sdekit", "workload": "W8", "problem": problem, "solver": solver, "threads": 1,
                         "tolerance": point["tolerance"], "seconds": point["seconds"], "paths": W8_N,
                         "ns_per_path": point["seconds"] / W8_N * 1e9, "strong_error": point["error"],
                         "cpu_ns_per_path": point["cpu_seconds"] / W8_N * 1e9,
                         "drift_evaluations": point["nfe"], "diffusion_evaluations": point["diffusion_evaluations"],
                         "rejected_fraction": point["rejected_fraction"]})
    return runs


def network_runs(binary):
    """W5: ten probability-flow Euler steps of the learned score are ten network evaluations on
    10,000 rows (the Euler update itself is two multiply-adds per value)."""
    r = sdekit(binary, "sample", "--model", W5_MODEL, "--sampler", "ode-euler", "--steps", "10", "--count", "10000",
               "--threads", "1", "--quiet", "--json", repeats=ref.REPEATS)
    return [{"peer": "sdekit", "workload": "W5", "solver": "mlp", "threads": 1, "seconds": r["seconds"] / 10,
             "ns_per_row": r["seconds"] / 10 / 10_000 * 1e9}]


def fast_sampler_runs(binary):
    """W6: DPM-Solver++(2M) and Karras's Heun on EDM (Karras grid), DPM-Solver++(2M) on the DDPM
    chain (diffusers' timesteps), 20 steps, gmm2d8's exact score; cost per sample."""
    runs = []
    for solver, grid, options in W6_RUNS:
        r = sdekit(binary, "sample", *options, "--sampler", solver, "--steps", "20", "--count", str(W6_N),
                   "--threads", "1", "--quiet", "--json", repeats=ref.REPEATS)
        occupancy = r["mode_occupancy"]
        runs.append({"peer": "sdekit", "workload": "W6", "solver": solver, "grid": grid, "threads": 1,
                     "seconds": r["seconds"], "nfe": r["nfe"], "ns_per_sample": r["seconds"] / W6_N * 1e9,
                     "ns_per_sample_evaluation": r["seconds"] / (W6_N * r["nfe"]) * 1e9,
                     "mean_err": r["mean_err"], "cov_err": r["cov_err"], "sw2": r["sw2"], "sw2_floor": r["sw2_floor"],
                     "mode_occupancy_min": min(occupancy), "mode_occupancy_max": max(occupancy)})
    return runs


def likelihood_runs(binary):
    """W7: the probability-flow log-likelihood of exact gmm2d8 samples under VP from ε = 1e-3,
    ending at the exact p_T as the peers do, at several tolerances of each divergence."""
    runs = []
    for label, options, tolerances in W7_RUNS:
        for tolerance in tolerances:
            r = sdekit(binary, "likelihood", "--target", "gmm2d8", "--count", str(W7_N), "--sde", "vp",
                       "--terminal", "marginal", *options, "--rtol", str(tolerance), "--atol", str(tolerance),
                       "--threads", "1", "--quiet", "--json", repeats=ref.REPEATS)
            runs.append({"peer": "sdekit", "workload": "W7", "solver": label, "tolerance": tolerance, "threads": 1,
                         "seconds": r["seconds"], "nfe": r["nfe"],
                         "ns_per_sample_evaluation": r["seconds"] / (W7_N * r["nfe"]) * 1e9,
                         "mean_abs_error": r["mean_abs_error"]})
    return runs


def sdekit_runs(binary, workload):
    """SDEKit's runs of one workload."""
    if workload in ("W1", "W3"):
        return sampling_runs(binary, workload)
    return {"W2": ode_runs, "W4": gbm_runs, "W5": network_runs, "W6": fast_sampler_runs,
            "W7": likelihood_runs, "W8": adaptive_runs}[workload](binary)


def peer_runs(workload):
    """The installed peers' runs of one workload."""
    runs = []
    for script, modules in [(script, modules) for name, script, modules in PEERS if name == workload]:
        missing = [m for m in modules if importlib.util.find_spec(m) is None]
        if missing:
            print(f"skipped {script} {workload}: {', '.join(missing)} not installed (make peers)", file=sys.stderr)
            continue
        print(f"running {script} {workload} …", file=sys.stderr)
        env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
        if workload == "W5":
            # XLA's CPU back end runs a matrix product on a thread pool of every core unless told
            # otherwise; W5 is defined on one thread.
            env["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
        done = subprocess.run([sys.executable, os.path.join(HERE, script), workload, str(SIZES[workload])],
                              capture_output=True, text=True, env=env, cwd=HERE)
        if done.returncode != 0:
            print(f"failed {script} {workload}: {done.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
            continue
        runs += [dict(json.loads(line), threads=1) for line in done.stdout.splitlines() if line.startswith("{")]
    return runs


def cost(run):
    if run["workload"] == "W6":
        return run["ns_per_sample"]
    if run["workload"] == "W7":
        # The whole solve per sample: the runs differ in evaluations as well as in their cost.
        return run["seconds"] / SIZES["W7"] * 1e9
    return (run.get("ns_per_sample_step") or run.get("ns_per_sample_evaluation") or run.get("ns_per_row")
            or run.get("ns_per_path"))


def quality(run):
    if run["workload"] in ("W1", "W3", "W6"):
        return (f"cov {run['cov_err']:.3f} · sw2 {run['sw2']:.3f} (floor {run['sw2_floor']:.3f}) · "
                f"modes {run['mode_occupancy_min']:.3f}–{run['mode_occupancy_max']:.3f}")
    if run["workload"] == "W2":
        return f"nfe {run['nfe']} · error vs tight {run['error_vs_tight']:.1e}"
    if run["workload"] == "W5":
        return "one evaluation, batch 10,000, float32"
    if run["workload"] == "W7":
        return f"nfe {run['nfe']} · mean |error| {run['mean_abs_error']:.1e} nats"
    if run["workload"] == "W8":
        if run["peer"] == "sdekit":
            evaluations = f"f {run['drift_evaluations']:.0f} + g {run['diffusion_evaluations']:.0f}"
        else:  # diffrax evaluates drift and diffusion together at each stage
            evaluations = f"f {run['nfe']:.0f} + g {run['nfe']:.0f}"
        return f"{run['problem']} · strong error {run['strong_error']:.2e} · per path {evaluations}"
    return f"strong error {run['strong_error']:.2e}"


def matching(ours, peer):
    """SDEKit's runs to set beside a peer's: the same workload and solver family at one thread;
    for W2 each counterpart's fewest evaluations whose error against the tight reference is at
    most the peer's."""
    default = "mlp" if peer["workload"] == "W5" else "euler-maruyama"
    if peer["workload"] == "W7":
        labels, slack = W7_COUNTERPARTS[peer["solver"]]
        good = [r for r in ours if r["workload"] == "W7" and r["solver"] in labels
                and r["mean_abs_error"] <= slack * peer["mean_abs_error"]]
        return [min(good, key=lambda r: r["seconds"])] if good else []
    if peer["workload"] == "W2":
        found = []
        for solver in W2_COUNTERPARTS[peer["solver"]]:
            good = [r for r in ours if r["workload"] == "W2" and r["solver"] == solver
                    and r["error_vs_tight"] <= peer["error_vs_tight"]]
            if good:
                found.append(min(good, key=lambda r: r["nfe"]))
        return found
    if peer["workload"] == "W8":
        # The fewest evaluations among SDEKit's runs of the problem with a strong error at most the peer's.
        good = [r for r in ours if r["workload"] == "W8" and r["problem"] == peer["problem"]
                and r["strong_error"] <= peer["strong_error"]]
        return [min(good, key=lambda r: r["drift_evaluations"] + r["diffusion_evaluations"])] if good else []
    solver = peer.get("solver", default)
    same = [r for r in ours if r["workload"] == peer["workload"] and r["threads"] == 1
            and r.get("solver", "euler-maruyama") == solver and r.get("grid") == peer.get("grid")]
    return same[:1]


def table(ours, theirs):
    lines = ["| workload | peer | peer ns | SDEKit ns | SDEKit faster by | peer quality | SDEKit quality |",
             "|---|---|---|---|---|---|---|"]
    for peer in theirs:
        for mine in matching(ours, peer):
            name = peer["peer"] + (f" {peer['solver']}" if "solver" in peer else "") + (f" ({peer['grid']})" if "grid" in peer else "")
            setting = f" ({mine['solver']}, tol {mine['tolerance']:.1e})" if "tolerance" in mine else ""
            lines.append(f"| {peer['workload']} | {name} | {cost(peer):.1f} | {cost(mine):.1f}{setting} | "
                         f"{cost(peer) / cost(mine):.2f}× | {quality(peer)} | {quality(mine)} |")
    lines += ["", "| workload | SDEKit run | ns | quality |", "|---|---|---|---|"]
    for r in ours:
        setting = f" tol {r['tolerance']:.1e}" if "tolerance" in r else (f" ({r['grid']})" if "grid" in r else "")
        lines.append(f"| {r['workload']} | {r.get('solver', 'euler-maruyama')}{setting}, {r['threads']} thread"
                     f"{'s' if r['threads'] > 1 else ''} | {cost(r):.1f} | {quality(r)} |")
    return "\n".join(lines)


def main():
    if len(sys.argv) < 3:
        raise SystemExit("usage: compare_peers.py SDEKIT_BINARY OUTPUT_JSON [--quick]")
    binary, output = sys.argv[1], sys.argv[2]
    workloads = ["W1", "W3", "W2", "W4", "W5", "W6", "W7", "W8"]
    if "--workloads" in sys.argv:
        workloads = sys.argv[sys.argv.index("--workloads") + 1].split(",")
    # Workload by workload, SDEKit then its peers: this VM's speed drifts over minutes, and ratios
    # of runs made back to back drift less than ratios of runs minutes apart.
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    ours, theirs, dates = [], [], {}
    for workload in workloads:
        ours += sdekit_runs(binary, workload)
        theirs += peer_runs(workload)
        dates[workload] = now
    # A run of some workloads keeps the others' rows from the previous results (each workload's
    # date says which run it comes from), so one workload can be re-measured alone.
    if os.path.exists(output):
        with open(output) as f:
            previous = json.load(f)
        if previous.get("quick") == QUICK:
            kept = lambda runs: [r for r in runs if r["workload"] not in workloads]
            ours, theirs = kept(previous["sdekit"]) + ours, kept(previous["peers"]) + theirs
            old_dates = previous.get("workload_dates") or {r["workload"]: previous["date"] for r in previous["sdekit"]}
            dates = {**{w: d for w, d in old_dates.items() if w not in workloads}, **dates}
    order = ["W1", "W3", "W2", "W4", "W5", "W6", "W7", "W8"]
    ours.sort(key=lambda r: order.index(r["workload"]))
    theirs.sort(key=lambda r: order.index(r["workload"]))
    text = table(ours, theirs)
    print(text)
    result = {"date": now, "workload_dates": dates,
              "machine": f"{platform.machine()} · {os.cpu_count()} cores · {platform.processor() or platform.platform()}",
              "threads": "1 for every peer and for SDEKit unless stated", "quick": QUICK,
              "sdekit": ours, "peers": theirs, "table": text}
    with open(output + ".partial", "w") as f:
        json.dump(result, f, indent=2)
    os.replace(output + ".partial", output)
    print(f"wrote {output}", file=sys.stderr)


if __name__ == "__main__":
    main()
