"""Reference outputs of k-diffusion's and diffusers' samplers on the exact gmm2d8 model, float64,
for SDEKit's parity tests (issue 21): writes Tests/SamplersTests/Fixtures/parity/{edm,ddpm,flow}.json
(layout in that folder's README.md) and checks each output against parity_numpy.py, the same
equations in plain numpy.

Usage: parity.py [--check]   (--check: regenerate in memory and compare with the committed files
instead of writing them; exits 1 on any difference)

Every case starts from 64 points drawn with a fixed numpy seed from the process's prior and saved
in the fixture. The stochastic k-diffusion samplers take their noise from a saved array: the noise
added in step i (σ_i → σ_{i+1} > 0) is noise[i], a 64 × 2 array of N(0, 1) draws.

diffusers builds its schedules in float32 and its DPM-Solver and flow-matching schedulers also
round the state to float32 at every step. Each diffusers case is therefore run four ways: as
shipped ("output"), and with the scheduler module's float32 names mapped to float64 (the same
code in float64: "output_float64"), float64 schedule with the float32 state rounding, and float32
schedule with a float64 state; the fixture records how far each is from the float64 run."""
import contextlib
import functools
import importlib.util
import json
import os
import sys
import types

import numpy as np
import torch

import parity_numpy as pn

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "..", "Tests", "SamplersTests", "Fixtures", "parity")
POINTS = 64
SEEDS = {"edm": 2101, "ddpm": 2102, "flow": 2103, "noise": 2104}
STEPS = [10, 20]
EDM_SIGMA_MIN, EDM_SIGMA_MAX, EDM_RHO = 0.002, 80.0, 7.0
TRAIN_STEPS, BETA_START, BETA_END = 1000, 1e-4, 0.02
# Tolerances the committed outputs must meet against parity_numpy.py (float64 references) and the
# float32 effect bound the fixture states for diffusers' shipped outputs.
NUMPY_AGREEMENT = 1e-12


# ---------------------------------------------------------------------------------------------
# The packages


@functools.cache
def k_diffusion_sampling():
    """k_diffusion/sampling.py loaded by path: the package's __init__ imports its training extras
    (torchvision, kornia, wandb, …). sampling.py needs only utils.append_dims from them."""
    spec = importlib.util.find_spec("k_diffusion")
    if spec is None:
        raise SystemExit("k-diffusion is not installed: make peers TORCH=1 PARITY=1")
    folder = os.path.dirname(spec.origin)
    package = types.ModuleType("k_diffusion")
    package.__path__ = [folder]
    utils = types.ModuleType("k_diffusion.utils")
    utils.append_dims = lambda x, n: x[(...,) + (None,) * (n - x.ndim)]
    package.utils = utils
    sys.modules.setdefault("k_diffusion", package)
    sys.modules.setdefault("k_diffusion.utils", utils)
    spec = importlib.util.spec_from_file_location("k_diffusion.sampling", os.path.join(folder, "sampling.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules["k_diffusion.sampling"] = module
    spec.loader.exec_module(module)
    return module


def package_version(name):
    from importlib.metadata import version
    return version(name)


class Float64Names:
    """A module seen through this proxy answers float64 when asked for float32."""

    def __init__(self, module):
        self._module = module

    def __getattr__(self, name):
        return getattr(self._module, "float64" if name == "float32" else name)


@contextlib.contextmanager
def default_dtype(dtype):
    """diffusers' runs see PyTorch's shipped default (float32) for the tensors they create without a
    dtype; k-diffusion's grid needs float64 (get_sigmas_karras uses the default dtype)."""
    saved = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        torch.set_default_dtype(saved)


@contextlib.contextmanager
def float64_names(scheduler_class, active=True):
    """Within the block, the scheduler's module reads torch.float32 and np.float32 as float64: its
    betas, ᾱ, σ grid and the per-step state cast become float64, nothing else changes."""
    module = sys.modules[scheduler_class.__module__]
    saved = {name: getattr(module, name) for name in ("torch", "np")}
    if active:
        for name, value in saved.items():
            setattr(module, name, Float64Names(value))
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(module, name, value)


# ---------------------------------------------------------------------------------------------
# Models as the packages call them (torch in, torch out; the arithmetic is parity_numpy's)


def edm_model(x, sigma, **_):
    return torch.from_numpy(pn.edm_denoiser(x.numpy(), float(sigma[0])))


def saved_noise_sampler(sigmas, noise):
    """noise_sampler(σ_i, σ_{i+1}) → noise[i]."""
    index = {float(s): i for i, s in enumerate(sigmas[:-1])}

    def sample(sigma, sigma_next):
        i = index[float(sigma)]
        assert float(sigma_next) == float(sigmas[i + 1]), "noise asked for a step off the grid"
        return torch.from_numpy(noise[i].copy())
    return sample


def zero_noise_sampler(sigma, sigma_next):
    raise AssertionError("η = 0 draws no noise")


def relative(a, b):
    """max over rows of ‖a − b‖ / ‖b‖."""
    return float((np.linalg.norm(a - b, axis=1) / np.linalg.norm(b, axis=1)).max())


# ---------------------------------------------------------------------------------------------
# EDM with k-diffusion

EDM_SAMPLERS = [
    # (k-diffusion function, keyword arguments, SDEKit sampler, takes noise)
    ("sample_euler", {}, "edm-euler", False),
    ("sample_heun", {}, "edm-heun", False),
    ("sample_dpmpp_2m", {}, "dpm-solver++-2m", False),
    ("sample_dpmpp_3m_sde", {"eta": 0.0}, "dpm-solver++-3m", False),
    ("sample_euler_ancestral", {"eta": 1.0}, "euler-ancestral", True),
    ("sample_dpmpp_2s_ancestral", {"eta": 1.0}, "dpm-solver++-2s-ancestral", True),
    ("sample_dpmpp_2m_sde", {"eta": 1.0, "solver_type": "midpoint"}, "dpm-solver++-2m-sde", True),
    ("sample_dpmpp_2m_sde", {"eta": 1.0, "solver_type": "heun"}, "dpm-solver++-2m-sde", True),
]


def edm_cases(initial, noises):
    sampling = k_diffusion_sampling()
    cases = []
    for n in STEPS:
        sigmas = sampling.get_sigmas_karras(n, EDM_SIGMA_MIN, EDM_SIGMA_MAX, rho=EDM_RHO)
        assert sigmas.dtype == torch.float64
        grid = sigmas.numpy()
        assert np.array_equal(grid, pn.karras_sigmas(n, EDM_SIGMA_MIN, EDM_SIGMA_MAX, EDM_RHO)), "Karras grid"
        for function, options, sampler, stochastic in EDM_SAMPLERS:
            noise = noises[n] if stochastic else None
            calls = [0]

            def model(x, sigma, **_):
                calls[0] += 1
                return edm_model(x, sigma)
            arguments = dict(options, disable=True)
            if stochastic:
                arguments["noise_sampler"] = saved_noise_sampler(grid, noise)
            elif function == "sample_dpmpp_3m_sde":
                arguments["noise_sampler"] = zero_noise_sampler
            out = getattr(sampling, function)(model, torch.from_numpy(initial.copy()), sigmas, **arguments).numpy()
            name = f"edm/{function}" + (f"/{options['solver_type']}" if "solver_type" in options else "") + f"/{n}"
            case = {
                "name": name, "reference": f"k_diffusion.sampling.{function}", "sdekit_sampler": sampler,
                "options": options, "steps": n, "nfe": calls[0], "noise": f"{n}" if stochastic else None,
                "sigmas": grid.tolist(), "output": out.tolist(),
            }
            mine = pn.reproduce("edm", case, initial, {f"{n}": noise})
            case["numpy_agreement"] = relative(mine, out)
            cases.append(case)
            print(f"{name:42s} nfe {calls[0]:3d}  numpy reimplementation {case['numpy_agreement']:.1e}", file=sys.stderr)
    return cases


# ---------------------------------------------------------------------------------------------
# The DDPM chain with diffusers


def ddpm_betas():
    return BETA_START + (BETA_END - BETA_START) * np.arange(TRAIN_STEPS, dtype=np.float64) / (TRAIN_STEPS - 1)


DDPM_SCHEDULERS = [
    # (label, scheduler class name, constructor options, SDEKit sampler)
    ("dpmsolver++2m", "DPMSolverMultistepScheduler",
     {"solver_order": 2, "algorithm_type": "dpmsolver++", "solver_type": "midpoint", "lower_order_final": True,
      "final_sigmas_type": "zero"}, "dpm-solver++-2m"),
    ("unipc-bh2-2", "UniPCMultistepScheduler",
     {"solver_order": 2, "solver_type": "bh2", "predict_x0": True, "lower_order_final": True,
      "disable_corrector": [], "final_sigmas_type": "zero"}, "unipc"),
    ("ddim", "DDIMScheduler", {"clip_sample": False, "set_alpha_to_one": True, "steps_offset": 0}, "ddim"),
]
# Beyond the list, on the default spacing only: UniPC's other variant and order 3. bh1
# ends at σ_min: with final_sigmas_type "zero" its last step computes x − α·B(h)·0 with
# B(h) = −h = −∞ and returns NaN (diffusers 0.42.1, scheduling_unipc_multistep.py:950).
DDPM_EXTRA = [
    ("unipc-bh1-2", "UniPCMultistepScheduler",
     {"solver_order": 2, "solver_type": "bh1", "predict_x0": True, "lower_order_final": True,
      "disable_corrector": [], "final_sigmas_type": "sigma_min"}, "unipc"),
    ("unipc-bh2-3", "UniPCMultistepScheduler",
     {"solver_order": 3, "solver_type": "bh2", "predict_x0": True, "lower_order_final": True,
      "disable_corrector": [], "final_sigmas_type": "zero"}, "unipc"),
]


def run_ddpm(class_name, options, spacing, n, initial, schedule64, state64):
    """One diffusers run on the chain; schedule64 / state64 switch the module's float32 names to
    float64 while building the schedule / while stepping. The model always uses the float64 ᾱ."""
    import diffusers
    cls = getattr(diffusers, class_name)
    alpha_bars = pn.ddpm_alpha_bars(TRAIN_STEPS, BETA_START, BETA_END)
    chain = {"trained_betas": ddpm_betas().tolist()} if schedule64 else \
        {"beta_start": BETA_START, "beta_end": BETA_END, "beta_schedule": "linear"}
    with default_dtype(torch.float32), float64_names(cls, schedule64):
        scheduler = cls(num_train_timesteps=TRAIN_STEPS, prediction_type="epsilon", timestep_spacing=spacing,
                        **chain, **options)
        scheduler.set_timesteps(n)
    x = torch.from_numpy(initial.copy())
    with default_dtype(torch.float32), float64_names(cls, state64):
        for t in scheduler.timesteps:
            eps = torch.from_numpy(pn.ddpm_epsilon(x.numpy(), alpha_bars[int(t)]))
            arguments = {"eta": 0.0} if class_name == "DDIMScheduler" else {}
            x = scheduler.step(eps, t, x, **arguments).prev_sample
    assert x.dtype == torch.float64
    sigmas = scheduler.sigmas.numpy().astype(np.float64) if hasattr(scheduler, "sigmas") else None
    return x.numpy(), scheduler.timesteps.numpy().astype(np.int64), sigmas


def ddpm_cases(initial):
    cases = []
    runs = [(s, spacing) for s in DDPM_SCHEDULERS for spacing in ["linspace", "leading", "trailing"]]
    runs += [(s, "linspace") for s in DDPM_EXTRA]
    for (label, class_name, options, sampler), spacing in runs:
        for n in STEPS:
            stock, timesteps, sigmas = run_ddpm(class_name, options, spacing, n, initial, False, False)
            full, timesteps64, _ = run_ddpm(class_name, options, spacing, n, initial, True, True)
            schedule_only, _, _ = run_ddpm(class_name, options, spacing, n, initial, False, True)
            state_only, _, _ = run_ddpm(class_name, options, spacing, n, initial, True, False)
            assert np.array_equal(timesteps, timesteps64)
            expected = pn.ddim_timesteps(spacing, n) if class_name == "DDIMScheduler" else \
                pn.multistep_timesteps(spacing, n)
            assert np.array_equal(timesteps, expected), f"{label} {spacing} {n}: timesteps {timesteps}"
            effect = {"total": relative(stock, full), "schedule": relative(schedule_only, full),
                      "state_cast": relative(state_only, full)}
            name = f"ddpm/{label}/{spacing}/{n}"
            case = {
                "name": name, "reference": f"diffusers.{class_name}", "sdekit_sampler": sampler,
                "options": dict(options, timestep_spacing=spacing, prediction_type="epsilon",
                                **({"eta": 0.0} if class_name == "DDIMScheduler" else {})),
                "steps": n, "nfe": n, "timesteps": timesteps.tolist(),
            }
            if sigmas is not None:
                case["sigmas_float32"] = sigmas.tolist()
            mine = pn.reproduce("ddpm", case, initial, None)
            case.update({"output": stock.tolist(), "output_float64": full.tolist(),
                         "numpy_agreement": relative(mine, full), "float32_effect": effect,
                         "numpy_vs_shipped": relative(mine, stock)})
            cases.append(case)
            print(f"{name:42s} numpy vs float64 {case['numpy_agreement']:.1e}  shipped vs float64 "
                  f"{effect['total']:.1e} (schedule {effect['schedule']:.1e}, state cast {effect['state_cast']:.1e})",
                  file=sys.stderr)
    return cases


# ---------------------------------------------------------------------------------------------
# Flow matching with diffusers


def run_flow(class_name, shift, n, initial, schedule64, state64):
    import diffusers
    cls = getattr(diffusers, class_name)
    with default_dtype(torch.float32), float64_names(cls, schedule64):
        scheduler = cls(num_train_timesteps=TRAIN_STEPS, shift=shift)
        scheduler.set_timesteps(n)
    sigmas = scheduler.sigmas.numpy().astype(np.float64)
    x = torch.from_numpy(initial.copy())
    calls = 0
    with default_dtype(torch.float32), float64_names(cls, state64):
        for k, t in enumerate(scheduler.timesteps):
            # The velocity at loop index k is evaluated at σ = sigmas[k] (for Heun too: its sigmas
            # list repeats each interior σ, in step with its timesteps).
            v = torch.from_numpy(pn.flow_velocity(x.numpy(), float(sigmas[k])))
            calls += 1
            x = scheduler.step(v, t, x).prev_sample
    assert x.dtype == torch.float64
    return x.numpy(), sigmas, calls


def flow_cases(initial):
    cases = []
    for label, class_name, sampler in [("euler", "FlowMatchEulerDiscreteScheduler", "flow-euler"),
                                       ("heun", "FlowMatchHeunDiscreteScheduler", "flow-heun")]:
        for shift in [1.0, 3.0]:
            for n in STEPS:
                stock, sigmas, calls = run_flow(class_name, shift, n, initial, False, False)
                full, sigmas64, _ = run_flow(class_name, shift, n, initial, True, True)
                schedule_only, _, _ = run_flow(class_name, shift, n, initial, False, True)
                state_only, _, _ = run_flow(class_name, shift, n, initial, True, False)
                grid, grid64 = pn.flow_sigmas(n, shift), pn.flow_sigmas(n, shift, float32=False)
                if label == "euler":
                    assert np.array_equal(sigmas, grid) and np.array_equal(sigmas64, grid64), "flow grid"
                else:  # Heun's list: σ_0, then each interior σ twice, then 0
                    assert np.array_equal(sigmas, np.concatenate([grid[:1], np.repeat(grid[1:-1], 2), grid[-1:]]))
                effect = {"total": relative(stock, full), "schedule": relative(schedule_only, full),
                          "state_cast": relative(state_only, full)}
                name = f"flow/{label}/shift{shift:g}/{n}"
                case = {"name": name, "reference": f"diffusers.{class_name}", "sdekit_sampler": sampler,
                        "options": {"shift": shift}, "steps": n, "nfe": calls,
                        "sigmas_float32": grid.tolist(), "sigmas_float64": grid64.tolist()}
                mine = pn.reproduce("flow", case, initial, None)
                case.update({"output": stock.tolist(), "output_float64": full.tolist(),
                             "numpy_agreement": relative(mine, full), "float32_effect": effect,
                             "numpy_vs_shipped": relative(mine, stock)})
                cases.append(case)
                print(f"{name:42s} numpy vs float64 {cases[-1]['numpy_agreement']:.1e}  shipped vs float64 "
                      f"{effect['total']:.1e} (schedule {effect['schedule']:.1e}, state cast {effect['state_cast']:.1e})",
                      file=sys.stderr)
    return cases


# ---------------------------------------------------------------------------------------------
# Fixture files


def dumps(value, indent=0):
    """JSON with one row of numbers per line (float repr round-trips exactly)."""
    pad = " " * (indent + 1)
    if isinstance(value, dict):
        items = [f"{pad}{json.dumps(k)}: {dumps(v, indent + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
    if isinstance(value, list) and value and all(isinstance(v, (int, float)) for v in value):
        return "[" + ", ".join(json.dumps(v) for v in value) + "]"
    if isinstance(value, list) and value:
        return "[\n" + ",\n".join(pad + dumps(v, indent + 1) for v in value) + "\n" + " " * indent + "]"
    return json.dumps(value)


def fixtures():
    # Inputs are rounded to a few decimals (the doubles nearest those decimals are what both sides
    # read), which keeps the files small; they stay draws from the priors and N(0, 1) to 1e-4.
    points = {"edm": np.round(EDM_SIGMA_MAX * np.random.default_rng(SEEDS["edm"]).standard_normal((POINTS, 2)), 4),
              "ddpm": np.round(np.random.default_rng(SEEDS["ddpm"]).standard_normal((POINTS, 2)), 6),
              "flow": np.round(np.random.default_rng(SEEDS["flow"]).standard_normal((POINTS, 2)), 6)}
    rng = np.random.default_rng(SEEDS["noise"])
    noises = {n: np.round(rng.standard_normal((n - 1, POINTS, 2)), 4) for n in STEPS}
    versions = {name: package_version(name) for name in ["torch", "k-diffusion", "diffusers", "numpy"]}
    common = {"versions": versions, "generated_by": "Benchmarks/peers/parity.py",
              "target": "gmm2d8 (shared/REFERENCE.md), exact posterior mean"}
    files = {
        "edm.json": dict(common, process="edm: x = x0 + sigma n, prior N(0, 80^2 I)",
                         seed=SEEDS["edm"], initial=points["edm"].tolist(),
                         noise_seed=SEEDS["noise"], noise={str(n): z.tolist() for n, z in noises.items()},
                         cases=edm_cases(points["edm"], noises)),
        "ddpm.json": dict(common, process="ddpm chain: 1000 steps, beta linear 1e-4..0.02, epsilon prediction, prior N(0, I)",
                          seed=SEEDS["ddpm"], initial=points["ddpm"].tolist(), cases=ddpm_cases(points["ddpm"])),
        "flow.json": dict(common, process="flow matching: x_t = (1 - t) x0 + t n, velocity prediction, prior N(0, I)",
                          seed=SEEDS["flow"], initial=points["flow"].tolist(), cases=flow_cases(points["flow"])),
    }
    return {name: dumps(content) + "\n" for name, content in files.items()}


def main():
    check = "--check" in sys.argv[1:]
    texts = fixtures()
    agreements = [case["numpy_agreement"] for text in texts.values() for case in json.loads(text)["cases"]]
    print(f"worst numpy reimplementation vs float64 reference: {max(agreements):.1e}", file=sys.stderr)
    if not all(a <= NUMPY_AGREEMENT for a in agreements):  # NaN fails too
        raise SystemExit(f"parity_numpy.py disagrees with a reference: {max(agreements):.1e} > {NUMPY_AGREEMENT:.0e}")
    if check:
        differing = []
        for name, text in texts.items():
            path = os.path.join(FIXTURES, name)
            if not os.path.exists(path) or open(path).read() != text:
                differing.append(name)
        if differing:
            raise SystemExit(f"differ from the committed fixtures: {', '.join(differing)}")
        print("fixtures regenerate byte for byte", file=sys.stderr)
        return
    os.makedirs(FIXTURES, exist_ok=True)
    for name, text in texts.items():
        path = os.path.join(FIXTURES, name)
        with open(path + ".partial", "w") as f:
            f.write(text)
        os.replace(path + ".partial", path)
        print(f"wrote {os.path.relpath(path)} ({len(text.encode()) // 1024} KB)", file=sys.stderr)


if __name__ == "__main__":
    main()
