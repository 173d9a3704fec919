# SDEKit — the README's commands. `make test` and `make demo` work on a fresh Debian machine:
# scripts/install-deps.sh installs libgsl-dev, libopenblas-dev, pkg-config and Open MPI
# (libopenmpi-dev, openmpi-bin) with apt-get when they are missing.

SWIFT ?= swift
# Binaries built here run here, so they may use every instruction this CPU has.
NATIVE := -Xswiftc -target-cpu -Xswiftc native
# Statistical tests solve many paths; release mode keeps `make test` within minutes.
TEST_FLAGS := -c release -Xswiftc -enable-testing
# sdekit-mpi is built (and its tests run) where Open MPI is installed: mpirun and pkg-config's
# ompi-c, checked when the recipe runs (after deps installed them). Package.swift declares it
# only under SDEKIT_MPI=1.
WITH_MPI = SDEKIT_MPI=$$(command -v mpirun >/dev/null 2>&1 && pkg-config --exists ompi-c 2>/dev/null && echo 1)

.PHONY: deps build test demo bench peers compare-peers fuzz clean

deps:
	@scripts/install-deps.sh

# Its own build folder: the test build's flags differ, and sharing one folder would rebuild
# everything each time `make test` and `make demo` alternate.
build: deps
	$(WITH_MPI) $(SWIFT) build -c release $(NATIVE) --build-path .build-native

test: deps
	$(WITH_MPI) $(SWIFT) test $(TEST_FLAGS)

SDEKIT := .build-native/release/sdekit

DEMO := demo

# The main job on a built-in default: sample gmm2d8 (VP, Euler–Maruyama, 1000 steps, 20,000
# samples) into demo/samples.npy, demo/samples.svg and demo/report.json, compare six samplers
# pathwise into demo/compare.svg and the fast samplers at 5–50 steps into demo/fast.svg, sample
# the shipped learned score (demo/learned.svg), then show measured solver orders.
demo: build
	@mkdir -p $(DEMO)
	@echo "== Euler–Maruyama on the reverse VP SDE, gmm2d8, 1000 steps, 20,000 samples =="
	@$(SDEKIT) sample --sde vp --target gmm2d8 --sampler euler-maruyama --steps 1000 --count 20000 \
	  -o $(DEMO)/samples.npy --plot $(DEMO)/samples.svg --report $(DEMO)/report.json
	@echo
	@echo "== six samplers on gmm2d8, same prior points and Brownian paths: pathwise error and quality against cost (10,000 samples) =="
	@$(SDEKIT) compare --sde vp --target gmm2d8 --count 10000 \
	  --samplers euler-maruyama,sra1,pc-langevin,ddim,ode-heun,ode-gsl-rkf45 \
	  --steps 10,20,50,100,200 --tolerances 1e-2...1e-5 --plot $(DEMO)/compare.svg
	@echo
	@echo "== the fast samplers at 5–50 steps, grid uniform in λ = log(a/s) (10,000 samples) =="
	@$(SDEKIT) compare --sde vp --target gmm2d8 --count 10000 --grid logsnr \
	  --samplers dpm-solver++-2m,unipc,edm-heun,ddim,euler-maruyama --steps 5,10,20,50 --plot $(DEMO)/fast.svg
	@echo
	@echo "== a learned score: the shipped MLP Models/gmm2d8.safetensors (trained by sdekit train), 200 steps, 5,000 samples =="
	@$(SDEKIT) sample --model Models/gmm2d8.safetensors --target gmm2d8 --steps 200 --count 5000 --plot $(DEMO)/learned.svg
	@echo
	@echo "== Milstein on geometric Brownian motion (REFERENCE W4), 10,000 paths, one Brownian path per sample =="
	@$(SDEKIT) convergence --problem gbm --solver milstein --paths 10000 --levels 3...10
	@echo
	@echo "== fitted strong orders (problem, solver) =="
	@for run in gbm:euler-maruyama gbm:milstein-derivative-free gbm:sriw1 gbm-diagonal:sriw1 \
	            additive:euler-maruyama double-well:sra1 double-well:stochastic-heun ou:stochastic-heun; do \
	  problem=$${run%%:*}; solver=$${run##*:}; \
	  printf '%-14s %-26s ' $$problem $$solver; \
	  $(SDEKIT) convergence --problem $$problem --solver $$solver --paths 4000 --levels 3...8 | tail -n 1 || exit 1; \
	done
	@echo
	@echo "== adaptive: Dormand–Prince 5(4) and GSL's rk8pd on Lotka–Volterra, error against cost =="
	@$(SDEKIT) convergence --problem lotka-volterra --solver dopri5 --tolerances 1e-3...1e-9
	@$(SDEKIT) convergence --problem lotka-volterra --solver gsl-rk8pd --tolerances 1e-3...1e-9
	@echo
	@echo "== ODE solvers on y' = Ay (global error, dt = 2^-5 ... 2^-10) =="
	@for solver in euler heun midpoint rk4; do \
	  printf '%-14s %-26s ' linear-ode $$solver; \
	  $(SDEKIT) convergence --problem linear-ode --solver $$solver --levels 5...10 | tail -n 1 || exit 1; \
	done
	@echo
	@echo "samples and report in $(DEMO)/"

bench: deps
	cd Benchmarks && $(SWIFT) package -Xswiftc -target-cpu -Xswiftc native benchmark

# The same workloads in numpy, SciPy, JAX and diffrax (and PyTorch, torchsde with TORCH=1; k-diffusion
# and diffusers for the parity fixtures and W6 with TORCH=1 PARITY=1), in a virtual environment from PyPI.
PEERS := Benchmarks/peers
VENV := $(PEERS)/.venv
peers:
	@command -v python3 >/dev/null || { echo "make peers needs python3" >&2; exit 1; }
	@[ -x $(VENV)/bin/python ] || python3 -m venv $(VENV) || { echo "python3 -m venv failed: apt-get install python3-venv" >&2; exit 1; }
	$(VENV)/bin/pip install -q -r $(PEERS)/requirements.txt
	@if [ -n "$(TORCH)" ]; then $(VENV)/bin/pip install -q -r $(PEERS)/requirements-torch.txt; fi
	@if [ -n "$(PARITY)" ]; then $(VENV)/bin/pip install -q -r $(PEERS)/requirements-parity.txt && \
	  $(VENV)/bin/pip install -q --no-deps -r $(PEERS)/requirements-parity-nodeps.txt; fi

# SDEKit's CLI and every installed peer on W1–W7, one after the other at one thread each: prints
# the table and writes it to Benchmarks/peers/results.json. QUICK=1 runs smaller sizes;
# WORKLOADS=W2,W7 runs only those. SDEKit's side is the plain `swift build -c release` binary,
# the build a package depending on SDEKit gets (its kernels pick the CPU's SIMD level at run
# time; `make build`'s is as fast).
compare-peers: deps
	$(SWIFT) build -c release
	@[ -x $(VENV)/bin/python ] || { echo "no peers installed: run make peers first" >&2; exit 1; }
	$(VENV)/bin/python $(PEERS)/compare_peers.py .build/release/sdekit $(PEERS)/results.json $(if $(QUICK),--quick) $(if $(WORKLOADS),--workloads $(WORKLOADS))

# libFuzzer on every reader of outside input — safetensors models, .npy and .csv samples, JSON
# configurations and reports — each for a fixed number of runs (FUZZ_RUNS; the issue's closing
# note used 1000000) from the seeds in Fuzz/Seeds and the PyTorch fixture. (The shipped 150 kB
# models made the safetensors target run at 300 inputs a second; a 4×4 network covers the same
# code at 5,000.)
# AddressSanitizer reports any out-of-bounds access and leak; -timeout turns a hang into a
# finding. A finding stops make with the crashing input saved in the working folder.
FUZZ_RUNS ?= 50000
FUZZ := Fuzz/.build/release
fuzz: deps
	cd Fuzz && $(SWIFT) build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -Xclang-linker -Xswiftc -fuse-ld=lld
	@mkdir -p Fuzz/.corpus/safetensors Fuzz/.corpus/npy Fuzz/.corpus/csv Fuzz/.corpus/config
	@cp Fuzz/Seeds/safetensors/* Tests/ScoreModelsTests/Fixtures/*.safetensors Fuzz/.corpus/safetensors/
	@cp Fuzz/Seeds/npy/* Fuzz/.corpus/npy/ && cp Fuzz/Seeds/csv/* Fuzz/.corpus/csv/ && cp Fuzz/Seeds/config/* Fuzz/.corpus/config/
	$(FUZZ)/SafeTensorsFuzz -runs=$(FUZZ_RUNS) -timeout=10 -max_len=16384 Fuzz/.corpus/safetensors
	$(FUZZ)/NPYFuzz -runs=$(FUZZ_RUNS) -timeout=10 -max_len=4096 Fuzz/.corpus/npy
	$(FUZZ)/CSVFuzz -runs=$(FUZZ_RUNS) -timeout=10 -max_len=4096 Fuzz/.corpus/csv
	$(FUZZ)/ConfigurationFuzz -runs=$(FUZZ_RUNS) -timeout=10 -max_len=8192 Fuzz/.corpus/config

clean:
	rm -rf .build .build-native
